"""The WSGI entry point (gunicorn backoffice.wsgi:application).

Without DJANGO_SETTINGS_MODULE a server runs the production settings, which refuse to
start without their secrets: never the local ones, whose DEBUG shows tracebacks.
`manage.py runserver` (make run) sets the local settings itself.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.production")

application = get_wsgi_application()
