#!/usr/bin/env bash
# Rolling-deploy rehearsal on 127.0.0.1, no AWS, no containers:
#   nginx (Debian package) runs the load-balancer configuration that Ansible
#   renders (ansible/render.yml, role nginx_lb) in front of two gunicorn
#   instances of the real app, started through the image's own entrypoint.
#   A bounded load loop (load.py) runs the whole time while each backend in turn
#   is drained (upstream marked down + graceful reload), restarted (SIGTERM,
#   graceful), health-checked on /healthz and put back.
# Prints requests, failed and p99; the last line is "failed N".
#
# Usage: infra/rehearsal/rolling-restart.sh WORKDIR
# Env:   APP_PYTHON  python of a venv with the app's dependencies (default .venv)
#        ANSIBLE_PLAYBOOK  ansible-playbook to use (default: from PATH)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${1:?usage: rolling-restart.sh WORKDIR}"
APP_PYTHON="${APP_PYTHON:-$ROOT/.venv/bin/python}"
ANSIBLE_PLAYBOOK="${ANSIBLE_PLAYBOOK:-ansible-playbook}"
LOAD_MAX_SECONDS="${LOAD_MAX_SECONDS:-150}"
LOAD_MAX_REQUESTS="${LOAD_MAX_REQUESTS:-100000}"
LOAD_THREADS="${LOAD_THREADS:-6}"
LOAD_RATE="${LOAD_RATE:-400}"
BACKENDS=(backend-1 backend-2)

mkdir -p "$WORK"
RENDER="$WORK/render"
declare -A PORT PIDFILE

log() { printf 'rehearsal: %s\n' "$*"; }

free_port() {
    "$APP_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cleanup() {
    set +e
    touch "$WORK/stop-load"
    if [[ -f "$RENDER/lb/nginx.pid" ]]; then
        nginx -c "$RENDER/lb/nginx.conf" -s stop 2>/dev/null
    fi
    for backend in "${BACKENDS[@]}"; do
        stop_backend "$backend" 2>/dev/null
    done
}
trap cleanup EXIT

write_inventory() {
    # Same shape as the inventory Terraform writes, everything on the loopback.
    cat >"$WORK/inventory.yml" <<YAML
all:
  children:
    lb:
      hosts:
        rehearsal-lb: {private_ip: 127.0.0.1}
    app:
      hosts:
        backend-1: {private_ip: 127.0.0.1, lb_upstream_port: ${PORT[backend-1]}}
        backend-2: {private_ip: 127.0.0.1, lb_upstream_port: ${PORT[backend-2]}}
YAML
}

render() {
    # render what drained...  (what: all | upstreams; drained: JSON list)
    local what="$1" drained="$2" user_args=()
    if [[ $EUID -eq 0 ]]; then user_args=(-e render_nginx_user=root); fi
    ANSIBLE_CONFIG="$ROOT/ansible/ansible.cfg" "$ANSIBLE_PLAYBOOK" \
        -i "$WORK/inventory.yml" "$ROOT/ansible/render.yml" \
        -e "render_dir=$RENDER" -e "render_what=$what" \
        -e "{\"nginx_lb_drained\": $drained}" \
        -e nginx_lb_tls_enabled=false -e nginx_lb_listen_address=127.0.0.1 \
        -e "nginx_lb_http_port=${PORT[lb]}" "${user_args[@]}" >>"$WORK/ansible.log" 2>&1
}

start_backend() {
    local backend="$1"
    mkdir -p "$WORK/$backend"
    # The image's entrypoint, with the app's venv instead of the image's; the
    # embedded local settings (SQLite), whatever DATABASE_URL the caller has.
    env -u DATABASE_URL -u DJANGO_SETTINGS_MODULE PATH="$(dirname "$APP_PYTHON"):$PATH" \
        DJANGO_SETTINGS_MODULE=backoffice.settings.local DJANGO_DEBUG=false \
        BACKOFFICE_VAR_DIR="$WORK/$backend/var" \
        BIND_ADDRESS=127.0.0.1 PORT="${PORT[$backend]}" \
        GUNICORN_WORKERS=2 GUNICORN_THREADS=4 GUNICORN_GRACEFUL_TIMEOUT=20 \
        GUNICORN_FORWARDED_ALLOW_IPS=127.0.0.1 GUNICORN_CONTROL_SOCKET="$WORK/$backend/gunicorn.ctl" \
        setsid "$ROOT/infra/docker/entrypoint.sh" serve \
        >>"$WORK/$backend/gunicorn.log" 2>&1 &
    echo $! >"$WORK/$backend/pid"
}

stop_backend() {
    # SIGTERM: gunicorn stops accepting and finishes in-flight requests.
    local backend="$1" pid
    [[ -f "$WORK/$backend/pid" ]] || return 0
    pid="$(cat "$WORK/$backend/pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 250); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$WORK/$backend/pid"
}

wait_healthy() {
    local url="$1" tries="${2:-150}"
    for _ in $(seq 1 "$tries"); do
        if "$APP_PYTHON" -c 'import sys, urllib.request; sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)' "$url" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    log "not healthy in time: $url"
    return 1
}

reload_lb() {
    nginx -t -q -c "$RENDER/lb/nginx.conf"
    nginx -c "$RENDER/lb/nginx.conf" -s reload
}

main() {
    PORT[lb]="$(free_port)"
    for backend in "${BACKENDS[@]}"; do PORT[$backend]="$(free_port)"; done
    log "lb 127.0.0.1:${PORT[lb]}, backends ${PORT[backend-1]} ${PORT[backend-2]}"
    write_inventory

    (cd "$ROOT" && for backend in "${BACKENDS[@]}"; do start_backend "$backend"; done)
    for backend in "${BACKENDS[@]}"; do wait_healthy "http://127.0.0.1:${PORT[$backend]}/healthz"; done
    log "both gunicorn backends answer /healthz"

    render all '[]'
    nginx -t -q -c "$RENDER/lb/nginx.conf"
    nginx -c "$RENDER/lb/nginx.conf"
    wait_healthy "http://127.0.0.1:${PORT[lb]}/healthz"
    log "nginx load balancer up with the rendered configuration"

    rm -f "$WORK/stop-load"
    "$APP_PYTHON" "$ROOT/infra/rehearsal/load.py" "http://127.0.0.1:${PORT[lb]}/healthz" \
        --threads "$LOAD_THREADS" --rate "$LOAD_RATE" --max-seconds "$LOAD_MAX_SECONDS" \
        --max-requests "$LOAD_MAX_REQUESTS" --stop-file "$WORK/stop-load" >"$WORK/load.out" 2>&1 &
    local load_pid=$!
    sleep 3

    for backend in "${BACKENDS[@]}"; do
        log "$backend: drain (marked down, graceful reload)"
        render upstreams "[\"$backend\"]"
        reload_lb
        sleep 2
        log "$backend: restart (SIGTERM, graceful) and start again"
        stop_backend "$backend"
        (cd "$ROOT" && start_backend "$backend")
        wait_healthy "http://127.0.0.1:${PORT[$backend]}/healthz"
        log "$backend: healthy, put back"
        render upstreams '[]'
        reload_lb
        sleep 3
    done

    if ! kill -0 "$load_pid" 2>/dev/null; then
        log "the load loop ended before the rolling restart finished (raise LOAD_MAX_SECONDS / LOAD_MAX_REQUESTS)"
        cat "$WORK/load.out"
        return 1
    fi
    touch "$WORK/stop-load"
    local load_rc=0
    wait "$load_pid" || load_rc=$?
    log "requests per upstream in the LB access log:"
    grep -o 'upstream=[0-9.:]*' "$RENDER/lb/backoffice-lb.access.log" | sort | uniq -c | sed 's/^/rehearsal:   /' || true
    cat "$WORK/load.out"
    return "$load_rc"
}

main "$@"
