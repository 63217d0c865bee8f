#!/usr/bin/env bash
# Deploy rehearsal with the real playbook: ansible/deploy.yml (deploy lock,
# migrations as the migrator, one server at a time drained on the LB, restarted,
# gated on /readyz, put back) runs against two app servers, each in its own
# network namespace, behind the LB nginx, while load that touches the database
# (/readyz and the API's documents list) runs with no client retries. Then a
# bad deploy (the new version never becomes ready) must stop at the first
# server with it drained and the lock kept, a second deploy must refuse, and
# the roll-back with -e deploy_lock_break=true must bring both back.
#
# What is real: the playbooks and roles (app, nginx_lb, deploy_lock, migrate),
# the nginx configurations they render (LB and per-server), the LB health
# checker (as its service runs, plus the --once runs of the roles), the image's
# entrypoint, gunicorn and Django with PostgreSQL, the database roles
# (db-roles.sql), the migrator/app split. What stands in: Docker and systemd
# (app_runtime=process: infra/rehearsal/appctl.sh starts the entrypoint in the
# namespace), SSH (connection local), IAM tokens (PostgreSQL trusts the
# rehearsal's subnet), TLS (off), and the image tags r1/r2 are the same code.
#
# Usage: infra/rehearsal/deploy-rehearsal.sh WORKDIR   (root: network namespaces)
# Env:   APP_PYTHON, ANSIBLE_PLAYBOOK; LOAD_RATE, LOAD_THREADS
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${1:?usage: deploy-rehearsal.sh WORKDIR}"
APP_PYTHON="${APP_PYTHON:-$ROOT/.venv/bin/python}"
ANSIBLE_PLAYBOOK="${ANSIBLE_PLAYBOOK:-ansible-playbook}"
LOAD_RATE="${LOAD_RATE:-60}"
LOAD_THREADS="${LOAD_THREADS:-6}"
APPS=(app-1 app-2)
ID=$(( $$ % 200 + 20 ))          # a /24 and names of our own
NET="10.231.$ID"
BRIDGE="borh$ID"
export ROOT APP_PYTHON

mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
log() { printf 'rehearsal: %s\n' "$*"; }

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
# Not under WORK: its parents may be private to root, and PostgreSQL runs as postgres.
PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/bo-rehearsal-pg.XXXXXX")"
PG_PORT=""
AS_PG=()
[[ $EUID -eq 0 ]] && AS_PG=(runuser -u postgres --)

cleanup() {
    set +e
    touch "$WORK/stop-load"
    [[ -f "$WORK/lb-health.pid" ]] && kill "$(cat "$WORK/lb-health.pid")" 2>/dev/null
    for app in "${APPS[@]}"; do
        [[ -f "$WORK/$app/netns" ]] && bash "$ROOT/infra/rehearsal/appctl.sh" "$WORK" "$app" stop >/dev/null 2>&1
        [[ -f "$WORK/$app/render/app/nginx.pid" ]] && ip netns exec "ns-$BRIDGE-$app" nginx -c "$WORK/$app/render/app/nginx.conf" -s stop 2>/dev/null
        ip netns del "ns-$BRIDGE-$app" 2>/dev/null
    done
    [[ -f "$WORK/lb/render/lb/nginx.pid" ]] && nginx -c "$WORK/lb/render/lb/nginx.conf" -s stop 2>/dev/null
    ip link del "$BRIDGE" 2>/dev/null
    [[ -d "$PG_DIR/data" ]] && "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$PG_DIR"
}
trap cleanup EXIT

free_port() {
    "$APP_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

network() {
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    local i=10 app ns
    for app in "${APPS[@]}"; do
        i=$((i + 1))
        ns="ns-$BRIDGE-$app"
        ip netns add "$ns"
        ip link add "v$BRIDGE$i" type veth peer name eth0 netns "$ns"
        ip link set "v$BRIDGE$i" master "$BRIDGE" up
        ip -n "$ns" addr add "$NET.$i/24" dev eth0
        ip -n "$ns" link set eth0 up
        ip -n "$ns" link set lo up
        ip -n "$ns" route add default via "$NET.1"
        mkdir -p "$WORK/$app"
        echo "$ns" >"$WORK/$app/netns"
    done
}

database() {
    # A PostgreSQL of our own on the bridge, with the production roles.
    [[ $EUID -eq 0 ]] && chown postgres "$PG_DIR"
    PG_PORT="$(free_port)"
    "${AS_PG[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --no-sync --auth-local=trust --auth-host=reject \
        >"$WORK/initdb.log" 2>&1 || { log "initdb failed:"; tail -5 "$WORK/initdb.log"; return 1; }
    # The servers' subnet logs in without a password: it stands for IAM tokens.
    echo "host all backoffice_app,backoffice_migrator $NET.0/24 trust" >>"$PG_DIR/data/pg_hba.conf"
    "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=$NET.1 -c fsync=off -c max_connections=100" start >/dev/null
    psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE backoffice" postgres
    psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 \
        -f "$ROOT/ansible/roles/db_roles/files/db-roles.sql" backoffice >/dev/null
}

inventory() {
    local lb_port="$1" i=10 app
    {
        cat <<YAML
all:
  vars:
    ansible_connection: local
    ansible_become: false
    ansible_python_interpreter: $(command -v python3)
    aws_region: eu-west-1
    app_environment: rehearsal
    app_bucket_name: rehearsal-unused
    app_image_repository: rehearsal
    app_runtime: process
    app_settings_module: backoffice.settings.local
    app_db_host: "$NET.1"
    app_db_port: $PG_PORT
    app_db_name: backoffice
    app_db_auth: password
    app_db_sslmode: disable
    app_db_migrator_password: trusted-subnet
    app_secret_key_parameter: unused
    lb_subnet_cidrs: ["$NET.0/24"]
    nginx_lb_drain_seconds: 2
    app_health_delay: 1
    app_extra_env:
      DJANGO_DEBUG: "false"
      DJANGO_SECRET_KEY: rehearsal-only-not-secret
      BIND_ADDRESS: 127.0.0.1
      PORT: 8001
      GUNICORN_WORKERS: 2
      GUNICORN_THREADS: 2
      GUNICORN_GRACEFUL_TIMEOUT: 20
      API_THROTTLE_KEY_RATE: 1000000/min
    deploy_lock_path: "$WORK/lb/deploy-lock"
    nginx_lb_conf_dir: "$WORK/lb/render/lb/conf.d"
    nginx_lb_upstreams_source: "$WORK/lb/upstreams.source.conf"
    nginx_lb_keep_out_file: "$WORK/lb/kept-out"
    nginx_lb_health_state: "$WORK/lb/health.json"
    nginx_lb_health_command: "$ROOT/ansible/roles/nginx_lb/files/backoffice-lb-health.py"
    nginx_lb_reload_command: "nginx -t -q -c $WORK/lb/render/lb/nginx.conf && nginx -c $WORK/lb/render/lb/nginx.conf -s reload"
  children:
    lb:
      hosts:
        rehearsal-lb: {private_ip: 127.0.0.1}
    app:
      hosts:
YAML
        for app in "${APPS[@]}"; do
            i=$((i + 1))
            cat <<YAML
        $app:
          private_ip: "$NET.$i"
          app_config_dir: "$WORK/$app"
          app_readyz_url: "http://$NET.$i:8000/readyz"
          app_process_command: "bash $ROOT/infra/rehearsal/appctl.sh $WORK $app"
          app_extra_env:
            DJANGO_DEBUG: "false"
            DJANGO_SECRET_KEY: rehearsal-only-not-secret
            BIND_ADDRESS: 127.0.0.1
            PORT: 8001
            GUNICORN_WORKERS: 2
            GUNICORN_THREADS: 2
            GUNICORN_GRACEFUL_TIMEOUT: 20
            API_THROTTLE_KEY_RATE: 1000000/min
            BACKOFFICE_VAR_DIR: "$WORK/$app/var"
YAML
        done
    } >"$WORK/inventory.yml"
}

playbook() {
    local name="$1"
    shift
    log "ansible-playbook $name $*"
    echo "$name $*" >>"$WORK/playbooks-ran"
    ANSIBLE_CONFIG="$ROOT/ansible/ansible.cfg" "$ANSIBLE_PLAYBOOK" -i "$WORK/inventory.yml" \
        "$ROOT/ansible/$name" "$@" >>"$WORK/ansible.log" 2>&1
}

render() {
    # The LB's and each server's nginx configuration, rendered by the roles.
    local user_args=()
    [[ $EUID -eq 0 ]] && user_args=(-e render_nginx_user=root)
    playbook render.yml -e "render_dir=$WORK/lb/render" -e nginx_lb_tls_enabled=false \
        -e nginx_lb_listen_address=127.0.0.1 -e "nginx_lb_http_port=$1" "${user_args[@]}"
    for app in "${APPS[@]}"; do
        playbook render.yml -e "render_dir=$WORK/$app/render" -e nginx_lb_tls_enabled=false \
            "${user_args[@]}"
    done
}

api_key() {
    # A company with documents and an API key to list them with (as the migrator, once).
    (cd "$ROOT" && env -u DJANGO_SETTINGS_MODULE DJANGO_SETTINGS_MODULE=backoffice.settings.local \
        BACKOFFICE_VAR_DIR="$WORK/seed" DATABASE_URL="postgres://backoffice_migrator@$NET.1:$PG_PORT/backoffice" \
        "$APP_PYTHON" -c '
import hashlib, secrets
import django
django.setup()
from tests.factories import APIKeyFactory, CompanyFactory, DocumentFactory
company = CompanyFactory()
DocumentFactory.create_batch(25, company=company)
raw = "pk_" + secrets.token_hex(16)
APIKeyFactory(company=company, prefix=raw[:8], hashed_key=hashlib.sha256(raw.encode()).hexdigest(), scopes="read")
print(raw)
')
}

stop_load() {
    touch "$WORK/stop-load"
    wait "$1" || true
    cat "$WORK/load.out"
}

main() {
    [[ $EUID -eq 0 ]] || { log "needs root for network namespaces"; return 3; }
    [[ -n "$PG_BIN" ]] || { log "no PostgreSQL server binaries"; return 3; }
    : >"$WORK/playbooks-ran"
    network
    database
    log "two app servers in namespaces on $NET.0/24, PostgreSQL on $NET.1:$PG_PORT with the production roles"
    local lb_port
    lb_port="$(free_port)"
    inventory "$lb_port"
    mkdir -p "$WORK/lb"
    render "$lb_port"
    for app in "${APPS[@]}"; do
        mkdir -p "$WORK/$app/var"
        ip netns exec "$(cat "$WORK/$app/netns")" nginx -c "$WORK/$app/render/app/nginx.conf"
    done
    nginx -t -q -c "$WORK/lb/render/lb/nginx.conf"
    nginx -c "$WORK/lb/render/lb/nginx.conf"
    log "nginx: LB on 127.0.0.1:$lb_port, one per app server on :8000"

    # First deploy: installs the configuration, migrates, starts both servers.
    playbook deploy.yml -e app_image_tag=r1 || { tail -30 "$WORK/ansible.log"; return 1; }
    local key
    key="$(api_key | tail -1)"
    log "seeded a company with 25 documents and an API key"

    # The LB health checker, as its service runs on the LBs.
    python3 "$ROOT/ansible/roles/nginx_lb/files/backoffice-lb-health.py" \
        --source "$WORK/lb/upstreams.source.conf" --live "$WORK/lb/render/lb/conf.d/backoffice-upstreams.conf" \
        --keep-out "$WORK/lb/kept-out" --state "$WORK/lb/health.json" --interval 2 \
        --reload-cmd "nginx -t -q -c $WORK/lb/render/lb/nginx.conf && nginx -c $WORK/lb/render/lb/nginx.conf -s reload" \
        --log "$WORK/lb/health.log" >>"$WORK/lb/health.out" 2>&1 &
    echo $! >"$WORK/lb-health.pid"

    rm -f "$WORK/stop-load"
    "$APP_PYTHON" "$ROOT/infra/rehearsal/load.py" "http://127.0.0.1:$lb_port/readyz" \
        --also /api/v1/documents/ --header "X-Api-Key:$key" --no-retry --fresh \
        --threads "$LOAD_THREADS" --rate "$LOAD_RATE" --max-seconds 600 --max-requests 1000000 \
        --stop-file "$WORK/stop-load" >"$WORK/load.out" 2>&1 &
    local load_pid=$!
    sleep 3

    # The deploy under load: a new tag, so every server restarts, one at a time.
    playbook deploy.yml -e app_image_tag=r2 || { stop_load "$load_pid"; tail -40 "$WORK/ansible.log"; return 1; }
    for app in "${APPS[@]}"; do
        grep -q 'APP_IMAGE=rehearsal:r2' "$WORK/$app/image.env" || { log "$app does not run r2"; stop_load "$load_pid"; return 1; }
    done
    [[ ! -e "$WORK/lb/deploy-lock" ]] || { log "the deploy lock was not released"; stop_load "$load_pid"; return 1; }
    log "both servers run r2; the deploy lock is released"

    # A bad deploy, still under load: r3 cannot start (no gunicorn worker), so
    # /readyz never answers on the first server; the play must stop there with
    # that server drained, the other serving, and the lock kept.
    if playbook deploy.yml -e app_image_tag=r3 -e app_gunicorn_timeout=not-a-number -e app_health_retries=10; then
        log "the broken deploy was not stopped"; stop_load "$load_pid"; return 1
    fi
    grep -q 'down;  # app-1' "$WORK/lb/render/lb/conf.d/backoffice-upstreams.conf" \
        && grep -q 'APP_IMAGE=rehearsal:r2' "$WORK/app-2/image.env" \
        || { log "after the broken deploy app-1 should be drained and app-2 on r2"; stop_load "$load_pid"; return 1; }
    log "broken r3 stopped at app-1 (drained), app-2 serves r2"
    if playbook deploy.yml -e app_image_tag=r2; then
        log "a deploy ran while the failed one held the lock"; stop_load "$load_pid"; return 1
    fi
    log "the next deploy refused: the failed deploy holds the lock"
    playbook deploy.yml -e app_image_tag=r2 -e deploy_lock_break=true || { stop_load "$load_pid"; tail -40 "$WORK/ansible.log"; return 1; }
    grep -q 'APP_IMAGE=rehearsal:r2' "$WORK/app-1/image.env" || { log "app-1 was not rolled back"; stop_load "$load_pid"; return 1; }
    ! grep -q 'down;' "$WORK/lb/render/lb/conf.d/backoffice-upstreams.conf" || { log "a server is still out"; stop_load "$load_pid"; return 1; }
    log "rolled back to r2 with -e deploy_lock_break=true: both servers in rotation"
    sleep 2
    touch "$WORK/stop-load"
    local load_rc=0
    wait "$load_pid" || load_rc=$?
    log "playbooks that ran: $(cut -d' ' -f1 "$WORK/playbooks-ran" | sort | uniq -c | tr '\n' ' ')"
    log "requests per upstream in the LB access log:"
    grep -o 'upstream=[0-9.:]*' "$WORK/lb/render/lb/backoffice-lb.access.log" | sort | uniq -c | sed 's/^/rehearsal:   /' || true
    cat "$WORK/load.out"
    return "$load_rc"
}

main "$@"
