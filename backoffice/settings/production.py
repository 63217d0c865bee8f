"""Production: every secret from the environment, nothing insecure by default."""

from backoffice import db_credentials

from .base import *  # noqa: F403
from .base import AWS_STORAGE_BUCKET_NAME, DATABASES
from .env import env, env_list, env_required, refuse_to_start

SECRET_KEY = env_required("DJANGO_SECRET_KEY", "production needs a long random secret key.")
env_required("DATABASE_URL", "production runs on PostgreSQL, e.g. postgres://user:pass@host/db.")
if not AWS_STORAGE_BUCKET_NAME:
    env_required("AWS_STORAGE_BUCKET_NAME", "production keeps documents in S3.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    refuse_to_start("DATABASE_URL points at SQLite: production runs on PostgreSQL.")

# How the app authenticates to PostgreSQL (backoffice/db_credentials.py). On RDS: "iam", a
# token minted per new connection from the instance profile, so DATABASE_URL carries a
# user (backoffice_app) and no password, and a rotation has nothing to strand.
# DATABASE_PASSWORD, when set, is the password (the migrator's token, given to the one-off
# migration container by the deploy), kept out of the URL it would have to be quoted in.
DATABASE_AUTH = env("DATABASE_AUTH", db_credentials.PASSWORD)
if DATABASE_AUTH not in db_credentials.MODES:
    refuse_to_start(f"DATABASE_AUTH must be one of {db_credentials.MODES}, not {DATABASE_AUTH!r}.")
DATABASES["default"]["CREDENTIALS"] = DATABASE_AUTH
DATABASES["default"]["AWS_REGION"] = env("AWS_REGION") or env("AWS_DEFAULT_REGION")
if env("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = env("DATABASE_PASSWORD")

DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# "__Host-": browsers accept the cookie only from HTTPS, for "/", from this exact host.
SESSION_COOKIE_NAME = "__Host-sessionid"
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE_SECONDS", str(8 * 3600)))
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "__Host-csrftoken"
OTP_REQUIRED_FOR_SUPERUSERS = True
# No default: invitations must not link to a laptop. invite_unmigrated says so if unset.
PASSWORD_INVITE_BASE_URL = env("PASSWORD_INVITE_BASE_URL")
X_FRAME_OPTIONS = "DENY"
