"""The embedded default: SQLite and local files, safe to run on a laptop."""

import importlib.util

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, VAR_DIR
from .env import env, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env("DJANGO_SECRET_KEY", "local-development-only-not-secret")
VAR_DIR.mkdir(parents=True, exist_ok=True)
# The legacy data generator (manage.py generate_legacy): for demos and benchmarks only. A
# checkout has it; the image does not (.dockerignore), and its build runs collectstatic with
# these settings.
if importlib.util.find_spec("legacy_fixtures") is not None:
    INSTALLED_APPS = [*INSTALLED_APPS, "legacy_fixtures"]
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", True)
