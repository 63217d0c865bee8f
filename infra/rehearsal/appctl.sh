#!/usr/bin/env bash
# The rehearsal's stand-in for the app's systemd unit and Docker (app_runtime:
# process in the app role): runs the image's entrypoint with the app's venv in
# the server's network namespace, with the environment file the app role wrote.
#
#   appctl.sh WORK HOST start|restart|stop
#   appctl.sh WORK HOST migrate ENVFILE     (DATABASE_* overrides from our environment)
# Env: APP_PYTHON (the venv's python), ROOT (the repository)
set -euo pipefail
WORK="$1" HOST="$2" ACTION="$3"
: "${APP_PYTHON:?}" "${ROOT:?}"
dir="$WORK/$HOST"
pidfile="$dir/app.pid"
ns="$(cat "$dir/netns")"

env_args() {
    # KEY=value lines, as docker --env-file reads them
    grep -v '^[[:space:]]*#' "$1" | grep '='
}

running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

stop() {
    running || { rm -f "$pidfile"; return 0; }
    local pid
    pid="$(cat "$pidfile")"
    kill -TERM "$pid"            # gunicorn: stop accepting, finish in-flight requests
    for _ in $(seq 1 350); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

start() {
    local -a vars
    mapfile -t vars < <(env_args "$dir/app.env")
    cd "$ROOT"
    ip netns exec "$ns" env -i PATH="$(dirname "$APP_PYTHON"):/usr/bin:/bin" HOME="$dir" \
        "${vars[@]}" GUNICORN_CONTROL_SOCKET="$dir/gunicorn.ctl" \
        setsid "$ROOT/infra/docker/entrypoint.sh" serve >>"$dir/gunicorn.log" 2>&1 &
    echo $! >"$pidfile"
    echo "started $HOST (pid $!, image $(cat "$dir/image.env"))"
}

case "$ACTION" in
start) running && echo "already running" || start ;;
restart) stop; start ;;
stop) stop ;;
migrate)
    mapfile -t vars < <(env_args "$4")
    cd "$ROOT"
    exec ip netns exec "$ns" env -i PATH="$(dirname "$APP_PYTHON"):/usr/bin:/bin" HOME="$dir" \
        "${vars[@]}" DATABASE_URL="$DATABASE_URL" DATABASE_AUTH="$DATABASE_AUTH" \
        DATABASE_PASSWORD="$DATABASE_PASSWORD" "$ROOT/infra/docker/entrypoint.sh" migrate
    ;;
*) echo "usage: appctl.sh WORK HOST start|restart|stop|migrate ENVFILE" >&2; exit 2 ;;
esac
