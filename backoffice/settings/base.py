"""Settings shared by every environment; secrets and hosts come from the environment."""

from datetime import date, timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_HASHES, UNSAFE_INLINE

from .env import env, env_bool, env_list

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env("BACKOFFICE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "rbac.apps.GatedAdminConfig",  # django.contrib.admin behind one gate: rbac/admin_site.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "guardian",
    "simple_history",
    "import_export",
    "rest_framework",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "rbac",
    "backoffice.projects",
    "importers",
    "backoffice.api",
    "backoffice.legacy_api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "rbac.two_factor.SuperuserTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lock-out into the response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'backoffice.sqlite3'}",
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with a health check that needs no round trip (backoffice/db/postgresql).
    DATABASES["default"]["ENGINE"] = "backoffice.db.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "rbac.User"
# The log-in gate first (rbac.lockout: django-axes's lock-out plus the failure rate
# limits): it refuses a locked-out or throttled log-in before any password is checked.
# Then our own passwords (Argon2 and Core's bcrypt), then Portal's Cognito for those not
# migrated yet.
AUTHENTICATION_BACKENDS = [
    "rbac.lockout.LoginGateBackend",
    "django.contrib.auth.backends.ModelBackend",
    "rbac.cognito.CognitoMigrationBackend",
    "rbac.backends.RolePermissionBackend",
]
# The first is the default: Core's bcrypt hashes are re-hashed with Argon2 at the first log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "rbac.hashers.LegacyBCryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(env("PASSWORD_MIN_LENGTH", "10"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
PASSWORD_RESET_TIMEOUT = int(env("PASSWORD_RESET_TIMEOUT_SECONDS", str(7 * 24 * 3600)))
# Where the links in set-password e-mails point, e.g. https://backoffice.example.com.
PASSWORD_INVITE_BASE_URL = env("PASSWORD_INVITE_BASE_URL", "http://127.0.0.1:8000")

# Bearer tokens from POST /api/v1/auth/token.
API_TOKEN_LIFETIME = timedelta(seconds=int(env("API_TOKEN_LIFETIME_SECONDS", "3600")))

# django-axes: lock a log-in (admin, token endpoint) after repeated failures.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15")))
# Per person and address: one attacker cannot lock everyone out from one address, nor
# lock one person out from everywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "rbac.lockout.attempted_username"
AXES_CLIENT_IP_CALLABLE = "rbac.lockout.client_ip"
AXES_TRUSTED_PROXY_COUNT = int(env("AXES_TRUSTED_PROXY_COUNT", "0"))
AXES_LOCKOUT_CALLABLE = "rbac.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password", "client_secret", "otp_token"]
# Failed attempts on every entry point (admin, token endpoint, API keys), counted in the
# default cache: from one address whatever the account, and on one account (e-mail, client
# id, key prefix) whatever the address. "n/15m" = n failures within any 15 minutes.
LOGIN_FAILURE_RATE_PER_IP = env("LOGIN_FAILURE_RATE_PER_IP", "30/15m")
LOGIN_FAILURE_RATE_PER_ACCOUNT = env("LOGIN_FAILURE_RATE_PER_ACCOUNT", "10/15m")
# Password-reset e-mails: per address asking, and per e-mail address asked for.
PASSWORD_RESET_RATE_PER_IP = env("PASSWORD_RESET_RATE_PER_IP", "10/h")
PASSWORD_RESET_RATE_PER_EMAIL = env("PASSWORD_RESET_RATE_PER_EMAIL", "3/h")

# django-otp: TOTP for staff; production makes it compulsory for superusers.
OTP_REQUIRED_FOR_SUPERUSERS = env_bool("OTP_REQUIRED_FOR_SUPERUSERS", False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Back-office")

# Portal's Cognito pool, only until every Portal user has logged in once. Unset: off.
COGNITO_USER_POOL_ID = env("COGNITO_USER_POOL_ID")
COGNITO_APP_CLIENT_ID = env("COGNITO_APP_CLIENT_ID")
COGNITO_APP_CLIENT_SECRET = env("COGNITO_APP_CLIENT_SECRET")
COGNITO_REGION = env("COGNITO_REGION")
COGNITO_ENDPOINT_URL = env("COGNITO_ENDPOINT_URL")
COGNITO_TIMEOUT_SECONDS = float(env("COGNITO_TIMEOUT_SECONDS", "3"))

# django-guardian: no anonymous user row, and direct foreign-key tables for hot models.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_MONKEY_PATCH_USER = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("BACKOFFICE_MEDIA_ROOT", str(VAR_DIR / "media")))

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME")
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL")
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = int(env("AWS_QUERYSTRING_EXPIRE", "300"))
    AWS_S3_FILE_OVERWRITE = False
    DEFAULT_FILE_STORAGE_BACKEND = "storages.backends.s3.S3Storage"
else:
    DEFAULT_FILE_STORAGE_BACKEND = "django.core.files.storage.FileSystemStorage"

STORAGES = {
    "default": {"BACKEND": DEFAULT_FILE_STORAGE_BACKEND},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The API's rate-limit counters live in the default cache. With REDIS_URL (e.g.
# redis://127.0.0.1:6379/0) every worker and server counts against one limit; without it
# each process counts alone, so N workers allow up to N times the rate.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "backoffice"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Kept API list pages (backoffice.api.list_cache) are valid by their key alone, so each
# process keeps its own: no round trip to Redis for a page, nothing for workers to share.
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "api-pages",
    "OPTIONS": {"MAX_ENTRIES": int(env("API_LIST_CACHE_ENTRIES", "500"))},
}

# Request bodies: a JSON or form body over this many bytes is a 400 (file parts of a
# multipart upload are not counted; documents are bounded by MAX_DOCUMENT_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_621_440)))
# A JSON body nesting lists and objects deeper than this is a 400.
API_JSON_MAX_DEPTH = 32
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The first one's header makes a missing credential a 401 that names Bearer.
        "backoffice.api.authentication.BearerTokenAuthentication",
        "backoffice.api.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # No HTTP Basic: it checked a person's password on every request, outside the
        # log-in gate and two-factor (docs/authentication.md). Core's clients send their
        # id and secret in Basic to the token endpoint only, which reads them itself.
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "backoffice.api.authentication.HasCredentialScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # JSON bodies are bounded by DATA_UPLOAD_MAX_MEMORY_SIZE and API_JSON_MAX_DEPTH.
        "backoffice.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "backoffice.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "backoffice.api.filters.StableOrderingFilter",
        "backoffice.api.filters.IndexedSearchFilter",
    ],
    # Limit/offset without COUNT: one extra row tells whether a next page exists.
    "DEFAULT_PAGINATION_CLASS": "backoffice.api.pagination.LimitOffsetNoCountPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "backoffice.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "backoffice.api.throttling.APIKeyRateThrottle",
        "backoffice.api.throttling.UserRateThrottle",
        "backoffice.api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env("API_THROTTLE_KEY_RATE", "600/min"),
        "user": env("API_THROTTLE_USER_RATE", "1200/min"),
        "anon": env("API_THROTTLE_ANON_RATE", "60/min"),
        # POST /api/v1/auth/token per address, whatever the answer.
        "auth_token": env("API_THROTTLE_TOKEN_RATE", "30/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# How long an API list page is kept (backoffice.api.list_cache); 0 keeps none.
API_LIST_CACHE_SECONDS = int(env("API_LIST_CACHE_SECONDS", "300"))
SPECTACULAR_SETTINGS = {
    "TITLE": "Back-office API",
    "DESCRIPTION": "The merged REST API of Core and Portal. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CompanyStatusEnum": "rbac.models.Company.Status",
        "ProjectStatusEnum": "backoffice.projects.models.Project.Status",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    # Swagger UI would otherwise load a badge from validator.swagger.io (CSP: 'self' only).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# The API's documentation (/api/docs/, /api/schema/) without a log-in: on a laptop
# (local.py and the tests switch it on), never by default, as in production it would map
# the API for anyone.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)

# The legacy APIs served for old clients (backoffice/legacy_api, docs/migration-runbook.md):
# announced in every answer's Deprecation and Sunset headers, with a Link to the new docs.
LEGACY_API_DEPRECATED_ON = date.fromisoformat(env("LEGACY_API_DEPRECATED_ON", "2026-12-01"))
LEGACY_API_SUNSET_ON = date.fromisoformat(env("LEGACY_API_SUNSET_ON", "2027-06-30"))
LEGACY_API_DOCS_URL = env("LEGACY_API_DOCS_URL", "/api/docs/")
# How often the counted legacy calls move from the cache to the migration board.
LEGACY_USAGE_FLUSH_SECONDS = int(env("LEGACY_USAGE_FLUSH_SECONDS", "60"))
# On the migration board, a credential with no legacy call for this many days has moved.
LEGACY_API_MOVED_AFTER_DAYS = int(env("LEGACY_API_MOVED_AFTER_DAYS", "14"))

# Content-Security-Policy (django-csp) on every page: the admin, the Swagger UI (its assets
# are the sidecar's, served here; its start-up script is a file, SpectacularSwaggerSplitView)
# and the API. Scripts come from this origin only; the one inline handler of a package
# template (django-import-export's "select all" box on the export page) is allowed by its
# hash. Inline styles stay allowed: the admin's and the packages' templates carry style
# attributes and <style> blocks, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [
            # 'unsafe-hashes' admits only the handlers whose hash follows:
            # onSelectToggleChange(event)
            SELF, UNSAFE_HASHES, "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='",
        ],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

SIMPLE_HISTORY_REVERT_DISABLED = False

IMPORT_EXPORT_SKIP_ADMIN_LOG = True
# The largest legacy CSV export the admin's upload takes (larger: the import_legacy command).
LEGACY_CSV_UPLOAD_MAX_BYTES = int(env("LEGACY_CSV_UPLOAD_MAX_BYTES", str(200 * 1024 * 1024)))

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "backoffice@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

DEBUG_TOOLBAR = env_bool("DJANGO_DEBUG_TOOLBAR")

# Our RolePermissionBackend answers object permissions (roles and direct guardian grants
# together); guardian's own backend would answer only the latter.
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]
