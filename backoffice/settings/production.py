"""Production: every secret from the environment, nothing insecure by default."""

from .base import *  # noqa: F403
from .base import AWS_STORAGE_BUCKET_NAME, DATABASES
from .env import env, env_list, env_required, refuse_to_start

SECRET_KEY = env_required("DJANGO_SECRET_KEY", "production needs a long random secret key.")
env_required("DATABASE_URL", "production runs on PostgreSQL, e.g. postgres://user:pass@host/db.")
if not AWS_STORAGE_BUCKET_NAME:
    env_required("AWS_STORAGE_BUCKET_NAME", "production keeps documents in S3.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    refuse_to_start("DATABASE_URL points at SQLite: production runs on PostgreSQL.")

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
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
