#!/bin/sh
# Container entrypoint for the back-office image.
#   serve        gunicorn on $PORT (default)
#   migrate      apply database migrations once, then exit (one host per deploy)
#   manage ARGS  any other manage.py command
#   anything else is executed as given
set -eu

case "${1:-serve}" in
serve)
    exec gunicorn backoffice.wsgi:application \
        --bind "0.0.0.0:${PORT:-8000}" \
        --worker-class gthread \
        --workers "${GUNICORN_WORKERS:-3}" \
        --threads "${GUNICORN_THREADS:-4}" \
        --timeout "${GUNICORN_TIMEOUT:-60}" \
        --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-30}" \
        --keep-alive "${GUNICORN_KEEPALIVE:-75}" \
        --max-requests "${GUNICORN_MAX_REQUESTS:-1000}" \
        --max-requests-jitter 100 \
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
