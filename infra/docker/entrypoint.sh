#!/bin/sh
# Container entrypoint for the back-office image.
#   serve        gunicorn on $PORT (default)
#   migrate      apply database migrations once under an advisory lock, then exit
#                (one host per deploy, as the migrator role)
#   manage ARGS  any other manage.py command
#   anything else is executed as given
set -eu

# On the servers no secret is in any file. The Django secret key is read here,
# once, from an SSM SecureString parameter with the instance profile (it changes
# only when an operator rotates it, followed by a rolling restart). The database
# needs no secret: the app logs in with an IAM token minted per new connection
# (backoffice/db_credentials.py). DJANGO_SECRET_KEY, when set, wins.
if [ -z "${DJANGO_SECRET_KEY:-}" ] && [ -n "${DJANGO_SECRET_KEY_PARAMETER:-}" ]; then
    DJANGO_SECRET_KEY="$(python3 -c '
import os
import boto3
print(boto3.client("ssm").get_parameter(Name=os.environ["DJANGO_SECRET_KEY_PARAMETER"], WithDecryption=True)["Parameter"]["Value"])
')"
    export DJANGO_SECRET_KEY
fi

case "${1:-serve}" in
serve)
    # gunicorn >= 24 opens a control socket under $HOME, which is read-only in
    # the container: keep it in /tmp when this gunicorn has the option.
    set --
    if gunicorn --help 2>/dev/null | grep -q -- '--control-socket '; then
        set -- --control-socket "${GUNICORN_CONTROL_SOCKET:-/tmp/gunicorn.ctl}"
    fi
    exec gunicorn backoffice.wsgi:application "$@" \
        --bind "${BIND_ADDRESS:-0.0.0.0}:${PORT:-8000}" \
        --worker-class gthread \
        --workers "${GUNICORN_WORKERS:-3}" \
        --threads "${GUNICORN_THREADS:-4}" \
        --timeout "${GUNICORN_TIMEOUT:-60}" \
        --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-30}" \
        --keep-alive "${GUNICORN_KEEPALIVE:-75}" \
        --max-requests "${GUNICORN_MAX_REQUESTS:-0}" \
        --max-requests-jitter "$(( ${GUNICORN_MAX_REQUESTS:-0} / 10 ))" \
        --forwarded-allow-ips "${GUNICORN_FORWARDED_ALLOW_IPS:-127.0.0.1}" \
        --access-logfile - \
        --error-logfile -
    ;;
migrate)
    # Under a PostgreSQL advisory lock held by the migrating connection itself:
    # a second migration (another deploy, another host) waits for the first.
    exec python3 -c '
import django
django.setup()
from django.core.management import call_command
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", ["backoffice-migrate"])
call_command("migrate", interactive=False)
'
    ;;
manage)
    shift
    exec python3 manage.py "$@"
    ;;
*)
    exec "$@"
    ;;
esac
