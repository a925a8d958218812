"""Settings for the test suite: fast hashing, mail kept in memory, no network."""

from config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tasks run inline in tests; the real-worker tests start their own worker against the broker.
CELERY_TASK_ALWAYS_EAGER = True
# No collected static files in tests; WhiteNoise looks them up on request instead of at start.
WHITENOISE_AUTOREFRESH = True
