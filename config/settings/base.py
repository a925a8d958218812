"""Settings shared by every environment. Values come from environment variables (see README)."""

import datetime
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The development key is public; config.settings.production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "accounts",
    "contracts",
    "sla_tracker",
    "governance",
    "audits",
    "notifications",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into a 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# SQLite in the project folder unless DATABASE_URL points at PostgreSQL (psycopg 3).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections, checked before reuse: a Celery worker's close task otherwise
        # opened a new connection (and a cold PostgreSQL backend) for every batch of contracts.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the app's queries are short, and compiling them cost more than it saved
    # (the monthly close's counter sums of a batch took 146 ms with JIT, 75 ms without).
    # work_mem 16 MB instead of PostgreSQL's 4 MB: the close groups a batch's ~100,000 counter rows,
    # and with 4 MB the planner, over-estimating the groups, sorted them in three processes (60 ms,
    # spilling to disk) where one hash table takes 33 ms.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off -c work_mem=16MB")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite (the demo's default) lets one writer at a time. Its transactions open deferred: two that
    # read then write fail at once with "database is locked" (a 500) rather than wait, since SQLite
    # cannot make a reader that wants to write wait without a deadlock. IMMEDIATE takes the write lock
    # when the transaction begins, so concurrent writers queue (up to `timeout` seconds) and each one
    # then sees what the one before wrote: four concurrent approvals give one approval and three clean
    # refusals. Reads outside a transaction take no write lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Repeated failed sign-ins (web pages, admin, API token exchange) lock the username from that
# address for a while (django-axes); a successful sign-in resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Each name in its own language (the switcher's options). English comes in two variants that differ in how
# dates are written, through Django's formats of each: "en" the American way (Sept. 1, 2026; 09/01/2026;
# 01/02/2026 typed is 2 January) and "en-gb" the British way, as most users outside France expect (1 Sep
# 2026; 01/09/2026; 01/02/2026 typed is 1 February). Both use the English source strings; an en-GB browser
# gets "en-gb", any other English one "en".
LANGUAGES = [("en", "English (United States)"), ("en-gb", "English (United Kingdom)"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Evidence a vendor attaches to a dispute (sla_tracker.evidence also limits its types).
DISPUTE_EVIDENCE_MAX_BYTES = env_int("DISPUTE_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
# A KPI pack (CSV or .xlsx) uploaded from the web page, the API or import_kpis.
KPI_UPLOAD_MAX_BYTES = env_int("KPI_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
# An .xlsx is a zip: the most its entries may hold once unzipped (a small file can unzip to gigabytes).
KPI_UPLOAD_MAX_UNCOMPRESSED_BYTES = env_int("KPI_UPLOAD_MAX_UNCOMPRESSED_BYTES", 10 * KPI_UPLOAD_MAX_BYTES)
# Days after which an upload left waiting for a column mapping, or validated and never imported, is
# removed with its file (the daily discard-abandoned-uploads job).
KPI_UPLOAD_ABANDONED_DAYS = env_int("KPI_UPLOAD_ABANDONED_DAYS", 30)
# No uploaded file is stored beyond the larger of the two limits above (config.uploads).
FILE_UPLOAD_HANDLERS = [
    "config.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# A request's body apart from its files (JSON, form fields): the API's bulk KPI values carry about
# 100,000 values in 10 MB. Larger is refused before it is read (the API answers 413).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_BODY_MAX_BYTES", 10 * 1024 * 1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "BPO tracker <noreply@localhost>")
# Absolute address of the app, for links in e-mails and calendar feeds.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

REST_FRAMEWORK = {
    # Token first: an unauthenticated request is then a 401 with "WWW-Authenticate: Token" (a 403 otherwise).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Filtering and ordering: config.api.ScopedViewSetMixin, the base of every list.
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "config.api.ApiAutoSchema",
    "EXCEPTION_HANDLER": "config.api.api_exception_handler",
    # Password guessing on the token endpoint: a few tries a minute per client address.
    "DEFAULT_THROTTLE_RATES": {"auth": env_str("API_AUTH_THROTTLE_RATE", "10/minute")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BPO contract governance tracker API",
    "DESCRIPTION": (
        "Contracts with BPO providers, their service levels and service credits, KPI data, "
        "penalty statements, steering committees and audit rights."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "contracts.choices.Currency",
        "InvalidRowsEnum": ["invalid_rows"],
        # An audit's type and auditor, and the lists of them an audit right allows.
        "AuditTypeEnum": "audits.choices.AuditType",
        "AuditorKindEnum": "audits.choices.Auditor",
        # A dispute's status, of a line or of an adjustment: the name it had before adjustments could be disputed.
        "LineDisputeStatusEnum": "sla_tracker.choices.DisputeStatus",
    },
    # Swagger UI from the app's own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: with no broker configured, tasks run in-process (development and the demo).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
# Task states (the pages show a recompute's or an import's progress) are kept on the Redis broker
# unless another backend is named.
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else None
)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Default schedules: django-celery-beat copies them into the database, where the admin edits them
# (Periodic tasks). The monthly close runs on MONTHLY_CLOSE_DAY, leaving vendors time to report.
MONTHLY_CLOSE_DAY = env_int("MONTHLY_CLOSE_DAY", 5)
# Contracts per close task: each task loads and writes its batch in a fixed number of queries.
CLOSE_BATCH_SIZE = env_int("CLOSE_BATCH_SIZE", 100)
CELERY_BEAT_SCHEDULE = {
    "close-previous-month": {
        "task": "sla_tracker.close_previous_month",
        "schedule": crontab(minute=0, hour=6, day_of_month=MONTHLY_CLOSE_DAY),
        "options": {"expires": 12 * 3600},
    },
    "close-missed-contracts": {
        "task": "sla_tracker.close_missed_contracts",
        "schedule": crontab(minute=30, hour=6),
        "options": {"expires": 12 * 3600},
    },
    "recompute-changed-drafts": {
        "task": "sla_tracker.recompute_changed_drafts",
        "schedule": crontab(minute=30, hour=2),
        "options": {"expires": 6 * 3600},
    },
    "discard-abandoned-uploads": {
        "task": "sla_tracker.discard_abandoned_uploads",
        "schedule": crontab(minute=15, hour=3),
        "options": {"expires": 6 * 3600},
    },
    "fail-stalled-imports": {
        "task": "sla_tracker.fail_stalled_imports",
        "schedule": crontab(minute=45, hour=3),
        "options": {"expires": 6 * 3600},
    },
    "send-daily-notifications": {
        "task": "notifications.send_daily_notifications",
        "schedule": crontab(minute=0, hour=7),
        "options": {"expires": 6 * 3600},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
