"""The one settings module. Every knob is an environment variable (see .env.example).

Embedded defaults (SQLite and a filesystem Celery broker under var/) need no server; production
sets DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("S3PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)

# Values shipped in .env.example and docs: never acceptable outside DEBUG.
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "insecure", "replace-me"}
DEV_SECRET_KEY = "django-insecure-dev-only-key-do-not-use-in-production"  # noqa: S105
DEV_FERNET_KEY = "dev-only-fernet-key-do-not-use-in-production"


def _is_placeholder(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDER_SECRETS or value.startswith("django-insecure")


SECRET_KEY = env.str("SECRET_KEY", default="")
FERNET_KEYS = [k.strip() for k in env.list("FERNET_KEYS", default=[]) if k.strip()]
if DEBUG:
    SECRET_KEY = SECRET_KEY or DEV_SECRET_KEY
    FERNET_KEYS = FERNET_KEYS or [DEV_FERNET_KEY]
else:
    if _is_placeholder(SECRET_KEY):
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or a placeholder; set a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))') or set DEBUG=true."
        )
    if not FERNET_KEYS or any(_is_placeholder(k) for k in FERNET_KEYS):
        raise ImproperlyConfigured(
            "FERNET_KEYS is missing or holds a placeholder; set a comma-separated list of long "
            "random keys (the first encrypts, all decrypt) or set DEBUG=true."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "s3portal.apps.PortalAdminConfig",  # the tenant-scoped admin site replaces django.contrib.admin
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "s3portal.apps.S3PortalConfig",  # the project's own commands (seed_demo)
    "audit",
    "accounts",
    "storage",
    "storage.files",
    "storage.credentials",  # scoped credentials (IAM users, STS sessions)
    "storage.browser",
    "storage.cost",
    "lifecycle",
]

MIDDLEWARE = [
    "s3portal.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.timezones.TimezoneMiddleware",  # each person's own time zone (from the session)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "s3portal.urls"
WSGI_APPLICATION = "s3portal.wsgi.application"

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
                "accounts.context_processors.tenant_context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 's3portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file-backed test database, so a real Celery worker process can share it in tests;
    # per process, so concurrent test runs never trample each other's database.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        VAR_DIR / f"test-{os.getpid()}.sqlite3"
    )
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# One date format everywhere: ISO dates, 24-hour times, the time zone named (s3portal/formats/).
FORMAT_MODULE_PATH = ["s3portal.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the app/static folders when collectstatic has not run (dev, tests).
WHITENOISE_USE_FINDERS = DEBUG or env.bool("WHITENOISE_USE_FINDERS", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}

# --- Security (production values when DEBUG is off; `manage.py check --deploy` passes) ---
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# The health endpoint is probed over plain HTTP by container healthchecks.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Email (alerts) ---
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="s3portal@localhost")
# File-based mail (the demo's choice): one file per message in this folder.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
# The demo's /mail/ page shows those files to platform superusers (never in production).
DEMO_MAIL_PAGE = DEBUG and env.bool("S3PORTAL_DEMO_MAIL_PAGE", default=False)

# --- AWS seam (accounts/aws.py) ---
AWS_CONNECT_TIMEOUT = env.float("AWS_CONNECT_TIMEOUT", default=5.0)
AWS_READ_TIMEOUT = env.float("AWS_READ_TIMEOUT", default=30.0)
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=5)
# Temporary credentials from AssumeRole are refreshed this long before they expire.
AWS_ASSUME_ROLE_REFRESH_MARGIN = env.int("AWS_ASSUME_ROLE_REFRESH_MARGIN", default=300)
AWS_ASSUME_ROLE_DURATION = env.int("AWS_ASSUME_ROLE_DURATION", default=3600)

# --- AWS trust boundary (accounts/trust.py, accounts/endpoints.py) ---
# Tenants (slugs) whose admins may use the platform's own (ambient) credentials; superusers and
# the CLI always may. Empty: nobody else.
AWS_AMBIENT_ALLOWED_TENANTS = env.list("AWS_AMBIENT_ALLOWED_TENANTS", default=[])
# The identity tenants' roles must trust; empty: STS GetCallerIdentity of the ambient chain.
AWS_PLATFORM_PRINCIPAL_ARN = env.str("AWS_PLATFORM_PRINCIPAL_ARN", default="")
# Endpoint URLs: https only unless this is on (the demo and the tests use a local http emulator).
AWS_ENDPOINT_ALLOW_HTTP = env.bool("AWS_ENDPOINT_ALLOW_HTTP", default=False)
# CIDRs an endpoint may resolve into although they are internal (e.g. 127.0.0.0/8 for the demo's
# emulator). Empty: only public addresses. Cloud metadata addresses are refused whatever this says.
AWS_ENDPOINT_ALLOWED_NETWORKS = env.list("AWS_ENDPOINT_ALLOWED_NETWORKS", default=[])

# --- Celery ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=f"file://{VAR_DIR / 'celery' / 'results'}"
)
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "results", "control"):
        (CELERY_FILESYSTEM_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# The one retry policy of every task (accounts/retry.py): transient errors only, waiting
# TASK_RETRY_BACKOFF * 2^n seconds (capped, jittered 0.5-1.5x), at most TASK_MAX_RETRIES times.
# File backups keep their own FILES_BACKUP_TASK_RETRIES / FILES_BACKUP_RETRY_BACKOFF(_MAX).
TASK_MAX_RETRIES = env.int("TASK_MAX_RETRIES", default=5)
TASK_RETRY_BACKOFF = env.int("TASK_RETRY_BACKOFF", default=30)
TASK_RETRY_BACKOFF_MAX = env.int("TASK_RETRY_BACKOFF_MAX", default=900)

# The periodic schedule: one table. Each interval is overridable by environment (seconds);
# `expires` drops a run that waited in the queue longer than its own interval.
VERIFY_ACCOUNTS_INTERVAL = env.int("VERIFY_ACCOUNTS_INTERVAL", default=24 * 3600)
SCAN_INTERVAL = env.int("SCAN_INTERVAL", default=3600)
# A running scan without progress this long is taken as dead; every SCAN_STALE_AFTER seconds,
# queued or running scans that will never finish end failed (any account), with the reason.
SCAN_STALE_AFTER = env.int("SCAN_STALE_AFTER", default=900)
FILES_RECONCILE_INTERVAL = env.int("FILES_RECONCILE_INTERVAL", default=300)
FILES_RETRY_FAILED_INTERVAL = env.int("FILES_RETRY_FAILED_INTERVAL", default=3600)
FILES_EXPIRY_SWEEP_INTERVAL = env.int("FILES_EXPIRY_SWEEP_INTERVAL", default=3600)
FILES_PURGE_INTERVAL = env.int("FILES_PURGE_INTERVAL", default=3600)
INVITATION_EXPIRY_SWEEP_INTERVAL = env.int("INVITATION_EXPIRY_SWEEP_INTERVAL", default=3600)
CREDENTIALS_EXPIRY_INTERVAL = env.int("CREDENTIALS_EXPIRY_INTERVAL", default=3600)
CREDENTIALS_ROTATION_INTERVAL = env.int("CREDENTIALS_ROTATION_INTERVAL", default=3600)
CREDENTIALS_LAST_USED_INTERVAL = env.int("CREDENTIALS_LAST_USED_INTERVAL", default=24 * 3600)
BROWSER_EXPIRY_SWEEP_INTERVAL = env.int("BROWSER_EXPIRY_SWEEP_INTERVAL", default=900)
COST_ROLLUP_INTERVAL = env.int("COST_ROLLUP_INTERVAL", default=24 * 3600)


def _every(task: str, seconds: int) -> dict[str, object]:
    """A schedule entry whose run is dropped if it waited in the queue a whole interval."""
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


CELERY_BEAT_SCHEDULE = {
    "verify-aws-accounts": _every("accounts.verify_all_aws_accounts", VERIFY_ACCOUNTS_INTERVAL),
    "scan-all-accounts": _every("storage.scan_all_accounts", SCAN_INTERVAL),
    "scan-expire-stale-runs": _every("storage.expire_stale_scan_runs", SCAN_STALE_AFTER),
    "files-reconcile-backups": _every("files.reconcile_backups", FILES_RECONCILE_INTERVAL),
    "files-retry-failed-backups": _every("files.retry_failed_backups", FILES_RETRY_FAILED_INTERVAL),
    "files-expiry-sweep": _every("files.expire_files", FILES_EXPIRY_SWEEP_INTERVAL),
    "files-purge-deleted-backups": _every("files.purge_deleted_backups", FILES_PURGE_INTERVAL),
    "expire-invitations": _every("accounts.expire_invitations", INVITATION_EXPIRY_SWEEP_INTERVAL),
    # --- scoped credentials (storage.credentials) ---
    "credentials-expire-due": _every("credentials.expire_due", CREDENTIALS_EXPIRY_INTERVAL),
    "credentials-finish-rotations": _every(
        "credentials.finish_rotations", CREDENTIALS_ROTATION_INTERVAL
    ),
    "credentials-refresh-last-used": _every(
        "credentials.refresh_last_used", CREDENTIALS_LAST_USED_INTERVAL
    ),
    "browser-object-expiry-sweep": _every(
        "browser.sweep_object_expiry", BROWSER_EXPIRY_SWEEP_INTERVAL
    ),
    "cost-rollup-all": _every("cost.rollup_all", COST_ROLLUP_INTERVAL),
}

# --- Object browser (storage.browser) ---
# Objects and folders per page (one ListObjectsV2 call each; 1 to 1000; ?per_page= overrides).
BROWSER_PAGE_SIZE = env.int("BROWSER_PAGE_SIZE", default=200)
# Presigned download URLs live this long (seconds); share links choose their own lifetime.
BROWSER_DOWNLOAD_URL_TTL = env.int("BROWSER_DOWNLOAD_URL_TTL", default=300)
# Largest file one upload into a folder may hold (bytes).
BROWSER_MAX_UPLOAD_SIZE = env.int("BROWSER_MAX_UPLOAD_SIZE", default=5 * 1024**3)
# Expiries one sweep carries out at most (the next run takes the rest).
BROWSER_SWEEP_BATCH = env.int("BROWSER_SWEEP_BATCH", default=500)

# --- Storage cost (storage.cost) ---
# The price table (empty: the shipped storage/cost/prices/aws-s3-prices.json).
COST_PRICE_TABLE = env.str("COST_PRICE_TABLE", default="")
# A listing task stops after this many seconds, saves its markers and re-enqueues itself.
COST_LISTING_BUDGET_SECONDS = env.float("COST_LISTING_BUDGET_SECONDS", default=240.0)


# --- End-user files (storage.files) ---
# Presigned download URLs live this long (seconds).
FILES_DOWNLOAD_URL_TTL = env.int("FILES_DOWNLOAD_URL_TTL", default=300)
FILES_PER_PAGE = env.int("FILES_PER_PAGE", default=25)
# A backup still pending after this many seconds is re-enqueued by the reconcile task.
FILES_BACKUP_PENDING_AFTER = env.int("FILES_BACKUP_PENDING_AFTER", default=600)
# A claimed backup whose worker vanished may be claimed again after this many seconds.
FILES_BACKUP_CLAIM_TTL = env.int("FILES_BACKUP_CLAIM_TTL", default=3600)
# Retries of transient errors inside one task run (exponential backoff with jitter).
FILES_BACKUP_TASK_RETRIES = env.int("FILES_BACKUP_TASK_RETRIES", default=3)
# After this many attempts in all, a failed backup is given up (audited once).
FILES_BACKUP_MAX_ATTEMPTS = env.int("FILES_BACKUP_MAX_ATTEMPTS", default=12)
FILES_BACKUP_RETRY_BACKOFF = env.int("FILES_BACKUP_RETRY_BACKOFF", default=30)
FILES_BACKUP_RETRY_BACKOFF_MAX = env.int("FILES_BACKUP_RETRY_BACKOFF_MAX", default=900)
# Rows one periodic run handles at most (the next run takes the rest).
FILES_SWEEP_BATCH = env.int("FILES_SWEEP_BATCH", default=500)
# Multipart part size (raised automatically to stay within 10,000 parts).
FILES_UPLOAD_PART_SIZE = env.int("FILES_UPLOAD_PART_SIZE", default=8 * 1024 * 1024)
# Bytes per read from the request body while streaming an upload.
FILES_UPLOAD_CHUNK_SIZE = env.int("FILES_UPLOAD_CHUNK_SIZE", default=1024 * 1024)
# Send each part from a helper thread while the next is read (two parts in memory).
FILES_UPLOAD_BACKGROUND_PARTS = env.bool("FILES_UPLOAD_BACKGROUND_PARTS", default=True)
# Too large and at most this much body left: read and discard it so the browser gets
# the 413 page; above it, the connection is reset.
FILES_TOO_LARGE_DRAIN_LIMIT = env.int("FILES_TOO_LARGE_DRAIN_LIMIT", default=64 * 1024 * 1024)
# Send S3 SHA-256 checksums with uploads (turn off for stores that reject them).
FILES_S3_CHECKSUMS = env.bool("FILES_S3_CHECKSUMS", default=True)

# --- Scoped credentials (storage.credentials) ---
# Permissions boundaries of the IAM users the portal creates (S3 only; read-only for read-only
# credentials). An admin may issue without a boundary; nobody else can.
CREDENTIALS_BOUNDARY_ARN = env.str(
    "CREDENTIALS_BOUNDARY_ARN", default="arn:aws:iam::aws:policy/AmazonS3FullAccess"
)
CREDENTIALS_READ_ONLY_BOUNDARY_ARN = env.str(
    "CREDENTIALS_READ_ONLY_BOUNDARY_ARN", default="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
)
# The role the portal creates once per account for temporary credentials.
CREDENTIALS_ROLE_NAME = env.str("CREDENTIALS_ROLE_NAME", default="s3portal-credentials")
# Grace period of a key rotation when the issuer names none (days).
CREDENTIALS_DEFAULT_GRACE_DAYS = env.int("CREDENTIALS_DEFAULT_GRACE_DAYS", default=7)

# --- Bucket scans (storage.scan) ---
# Per-bucket checks run in a bounded thread pool (one per account scan). Each botocore client
# keeps at most 32 connections (accounts/aws.py client_config): larger pools wait for one.
SCAN_POOL_SIZE = env.int("SCAN_POOL_SIZE", default=16)
SCAN_OBJECT_ACL_POOL_SIZE = env.int("SCAN_OBJECT_ACL_POOL_SIZE", default=16)
# A running scan with no progress for this long is taken as dead and its account freed.
# Objects a portal dry run of "reset object ACLs" examines before it stops (the fix does all).
SCAN_OBJECT_ACL_PREVIEW_LIMIT = env.int("SCAN_OBJECT_ACL_PREVIEW_LIMIT", default=1000)
# Prefix for links in alert mails, e.g. https://portal.example.com (empty: paths only).
SCAN_ALERT_BASE_URL = env.str("SCAN_ALERT_BASE_URL", default="")

# --- Login protection: invitations, lockout (django-axes), two-factor (django-otp) ---
INSTALLED_APPS += [
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
# OTP after authentication (it marks request.user verified or not), then the portal's 2FA gate;
# axes last, as its documentation asks.
_AUTH_MW = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
MIDDLEWARE[_AUTH_MW + 1 : _AUTH_MW + 1] = [
    "django_otp.middleware.OTPMiddleware",
    "accounts.twofactor.TwoFactorMiddleware",
]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out users before the password check
    "django.contrib.auth.backends.ModelBackend",
]
# An invitation link is valid this many days; single use; only its hash is stored.
INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=7)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
# Lock a login out after AXES_FAILURE_LIMIT failures for AXES_COOLOFF_MINUTES. Parameters are a
# comma list; "a+b" locks the combination (default: per user AND address, so nobody can lock
# another person out from their own address).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [
    part.split("+") if "+" in part else part
    for part in env.list("AXES_LOCKOUT_PARAMETERS", default=["username+ip_address"])
]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "s3portal.middleware.client_ip"  # REMOTE_ADDR, like the audit trail
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the audit trail already
AXES_VERBOSE = env.bool("AXES_VERBOSE", default=False)  # failures and lockouts are audited
# Two-factor: required of platform superusers (on by default outside DEBUG); per tenant for its
# admins and operators with Tenant.require_2fa.
OTP_REQUIRED_FOR_SUPERUSERS = env.bool("OTP_REQUIRED_FOR_SUPERUSERS", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="s3portal")
OTP_RECOVERY_CODES = 10
# --- Lifecycle rules (lifecycle/) ---
# IDs of rules the portal writes start with this, so they stay recognisable as the portal's
# even without its database; every other rule in a bucket is foreign and kept as it is.
LIFECYCLE_RULE_ID_PREFIX = env.str("LIFECYCLE_RULE_ID_PREFIX", default="s3portal-")

# --- Logging: request ids in every line; secrets never logged (nothing here logs bodies) ---
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "s3portal.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # its INFO lines duplicate the audit trail
    },
}
