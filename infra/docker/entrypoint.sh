#!/bin/sh
# Container entrypoint for the back-office image.
#   serve        gunicorn on $PORT (default)
#   migrate      apply database migrations once, then exit (one host per deploy)
#   manage ARGS  any other manage.py command
#   anything else is executed as given
set -eu

# On the servers the database password is not in any file: the RDS-managed
# secret is read at start with the instance profile, so a password rotation
# needs only a (rolling) restart. DATABASE_URL, when set, wins.
if [ -z "${DATABASE_URL:-}" ] && [ -n "${DATABASE_SECRET_ARN:-}" ]; then
    DATABASE_URL="$(python3 - <<'PY'
import json
import os
from urllib.parse import quote

import boto3

secret = json.loads(
    boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["DATABASE_SECRET_ARN"])["SecretString"]
)
print(
    "postgres://{}:{}@{}:{}/{}?sslmode=require".format(
        quote(secret["username"], safe=""),
        quote(secret["password"], safe=""),
        os.environ["DATABASE_HOST"],
        os.environ.get("DATABASE_PORT", "5432"),
        os.environ.get("DATABASE_NAME", "backoffice"),
    )
)
PY
)"
    export DATABASE_URL
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
    exec python3 manage.py migrate --noinput
    ;;
manage)
    shift
    exec python3 manage.py "$@"
    ;;
*)
    exec "$@"
    ;;
esac
