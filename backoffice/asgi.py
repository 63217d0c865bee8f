"""The ASGI entry point; like wsgi.py, production settings unless the environment names others."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.production")

application = get_asgi_application()
