"""Test settings: fast hashing for factories, SQLite unless DATABASE_URL names a server."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, PASSWORD_HASHERS, VAR_DIR

SECRET_KEY = "test-only-not-secret"
DEBUG = False
VAR_DIR.mkdir(parents=True, exist_ok=True)
# The legacy data generator, which the importer's tests use.
INSTALLED_APPS = [*INSTALLED_APPS, "legacy_fixtures"]
# MD5 first keeps factories fast; the real hashers stay available for the tests of them.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# django-axes refuses authenticate() calls without a request, as Client.login() makes them;
# the lock-out tests switch it on themselves.
AXES_ENABLED = False
# As on a laptop; the production default (a log-in) has its own tests.
API_DOCS_PUBLIC = True
COGNITO_USER_POOL_ID = None
COGNITO_APP_CLIENT_ID = None
