"""Benchmark the REST API under load: gunicorn (2 sync workers) on PostgreSQL holding the
20,000-company data set of bench/permissions.py, wrk on loopback.

Measures /healthz, the companies list, the documents list and Core's legacy
/v1/organizations (the same companies, backoffice/legacy_api), as a person with roles in
200 companies (bench/permissions.py's measured member), each for a fixed duration with a
fixed number of connections, and prints req/s, p50 and p99. The target is a ratio, not a
number: the documents list should serve at least 30 % of /healthz's requests per second in
the same run, with p99 under 100 ms. The lists repeat one page, as a polling client does,
so they are served as kept pages (backoffice.api.list_cache); a last row measures the
documents list again on a server that keeps no page, building every one.

    .venv/bin/python bench/api.py [--duration 20] [--connections 8] [--reuse]

Needs wrk (apt-get install wrk). PostgreSQL comes from BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/postgres); the throwaway database is `bench_api`. With
REDIS_URL set, the server keeps its rate-limit counters in Redis, as production does.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from permissions import DEFAULT_SERVER_URL, database_url, set_up  # bench/permissions.py

ROOT = Path(__file__).resolve().parent.parent
# Core's legacy list of the same companies (backoffice/legacy_api) should serve within
# 20 % of the companies list's requests per second. The two alternate, twice, so a change
# of load on the machine during the run weighs on both alike.
LEGACY_PAIR = ("companies list", "legacy Core /v1/organizations")
ENDPOINTS = [
    ("/healthz", "/healthz"),
    ("companies list", "/api/v1/companies/"),
    ("legacy Core /v1/organizations", "/v1/organizations"),
    ("documents list", "/api/v1/documents/"),
    ("companies list, again", "/api/v1/companies/"),
    ("legacy Core /v1/organizations, again", "/v1/organizations"),
]
LEGACY_TARGET_SHARE = 0.80
# The same page again, on a server that keeps no page: what building one costs.
BUILT_EVERY_TIME = [("documents list, no kept pages", "/api/v1/documents/")]
TARGET_SHARE = 0.30
TARGET_P99_MS = 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def issue_token(member_pk: int) -> str:
    """Return a bearer token for the measured member, the way API clients authenticate."""
    from rbac.models import User
    from rbac.tokens import access_token_issue

    user = User.objects.get(pk=member_pk)
    return access_token_issue(user=user, scopes=frozenset({"read"})).raw


def start_gunicorn(url: str, port: int, workers: int, **settings: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DATABASE_CONN_MAX_AGE": "600",  # persistent connections, as in production
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.local",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # The benchmark measures serving, not the rate limit.
        "API_THROTTLE_USER_RATE": "100000000/min",
        "LOG_LEVEL": "ERROR",
        **settings,
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "backoffice.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def check_answers(port: int, path: str, token: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return len(body)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(wrk: str, port: int, path: str, token: str, duration: int, connections: int) -> dict:
    output = subprocess.run(
        [wrk, "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency",
         "-H", f"Authorization: Bearer {token}", f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))
    split = {p: re.match(r"([\d.]+)(\w+)", v).groups() for p, v in latency.items()}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(*split["50"]),
        "p99": _ms(*split["99"]),
        "errors": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default="bench_api")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database of an earlier run instead of loading afresh")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    server_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL)
    url = database_url(server_url, args.database)
    setup_s, users = set_up(server_url, args.database, url, args.reuse)
    token = issue_token(users.member_pk)
    from django.db import connections

    connections.close_all()

    load_before = os.getloadavg()
    results = []
    servers = [(ENDPOINTS, {}), (BUILT_EVERY_TIME, {"API_LIST_CACHE_SECONDS": "0"})]
    for endpoints, settings in servers:
        port = free_port()
        server = start_gunicorn(url, port, args.workers, **settings)
        try:
            for label, path in endpoints:
                size = check_answers(port, path, token)
                run_wrk(wrk, port, path, token, 2, args.connections)  # warm-up
                results.append((label, path, size, run_wrk(
                    wrk, port, path, token, args.duration, args.connections)))
        finally:
            server.terminate()
            server.wait(timeout=30)

    load = ", ".join(f"{x:.2f}" for x in (*load_before, *os.getloadavg()))
    print(f"\ngunicorn {args.workers} sync workers, wrk {args.connections} connections, "
          f"{args.duration} s per endpoint; data set loaded in "
          f"{'(reused)' if setup_s is None else f'{setup_s:.0f} s'}; rate limits in "
          f"{'Redis' if os.environ.get('REDIS_URL') else 'each worker (LocMem)'}")
    print(f"load average (1, 5, 15 min) before and after: {load} on {os.cpu_count()} CPUs; "
          f"anything else running shares the CPUs with the server, the database and wrk\n")
    print("| endpoint | req/s | p50 ms | p99 ms | non-2xx | body bytes |")
    print("|---|---|---|---|---|---|")
    for label, _, size, r in results:
        print(
            f"| {label} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f}"
            f" | {r['errors']} | {size} |"
        )
    health = results[0][3]["rps"]
    by_label = {label: r for label, _, _, r in results}
    documents = by_label["documents list"]
    share = documents["rps"] / health if health else 0.0
    print(f"\ndocuments list / healthz = {share:.0%} (target ≥ {TARGET_SHARE:.0%}); "
          f"documents p99 {documents['p99']:.1f} ms (target < {TARGET_P99_MS:.0f} ms): "
          f"{'met' if share >= TARGET_SHARE and documents['p99'] < TARGET_P99_MS else 'MISSED'}")
    new, legacy = (by_label[label]["rps"] + by_label[f"{label}, again"]["rps"]
                   for label in LEGACY_PAIR)
    legacy_share = legacy / new if new else 0.0
    print(f"legacy /v1/organizations / companies list (both rounds) = {legacy_share:.0%} "
          f"(target ≥ {LEGACY_TARGET_SHARE:.0%}): "
          f"{'met' if legacy_share >= LEGACY_TARGET_SHARE else 'MISSED'}")


if __name__ == "__main__":
    main()
