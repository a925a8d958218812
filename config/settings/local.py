"""Development and demo settings: DEBUG on unless the environment says otherwise."""

from config.env import env_bool
from config.settings.base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
# runserver serves static files from the apps; WhiteNoise needs no collected folder in development.
WHITENOISE_AUTOREFRESH = DEBUG
