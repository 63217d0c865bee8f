#!/usr/bin/env python3
"""Health checker of a load balancer's upstreams: an app server's /readyz decides its traffic.

Open-source nginx only notices a broken server passively, from failed requests. This asks
every app server for /readyz (database reachable, every migration applied) and writes the
upstream file nginx includes, with `down` on the servers that are

  * drained by a deploy (Ansible renders them `down` in the SOURCE file),
  * kept out by an operator (host names in the KEEP_OUT file, ansible/keep_out.yml), or
  * not ready FALL times in a row (until RISE answers in a row say ready again),

and reloads nginx (graceful) when the file changed. If health alone would take every
server out, it takes none out for health: nginx then serves what it can and the
unhealthy-hosts alarm says why. Standard library only (Debian's python3).

    backoffice-lb-health --source F --live F --keep-out F --state F [--once | --interval S]
                         [--log F]

With --log, a JSON line (with unhealthy_count) is appended on every change and at least
once a minute: the CloudWatch agent ships it, a metric filter turns it into the
UnhealthyHosts metric, and a missing heartbeat is an alarm too.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fcntl
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

SERVER_LINE = re.compile(
    r"^\s*server\s+(?P<addr>\S+?):(?P<port>\d+)(?P<flags>[^;]*);\s*#\s*(?P<host>\S+)"
)


def ready(addr: str, port: int, timeout: float) -> bool:
    try:
        conn = http.client.HTTPConnection(addr, port, timeout=timeout)
        conn.request("GET", "/readyz", headers={"Host": addr, "User-Agent": "backoffice-lb-health"})
        status = conn.getresponse().status
        conn.close()
    except OSError:
        return False
    return status == 200


def read_keep_out(path: str) -> set[str]:
    try:
        with open(path) as handle:
            return {line.split("#")[0].strip() for line in handle} - {""}
    except FileNotFoundError:
        return set()


def render(source: str, down: set[str]) -> str:
    out = []
    for line in source.splitlines():
        match = SERVER_LINE.match(line)
        if match and match["host"] in down and " down" not in match["flags"]:
            line = line.replace(f"{match['flags']};", f"{match['flags']} down;", 1)
        out.append(line)
    return "\n".join(out) + "\n"


def check_once(args, state: dict) -> dict:
    with open(args.source) as handle:
        source = handle.read()
    servers = {}
    drained = set()
    for line in source.splitlines():
        match = SERVER_LINE.match(line)
        if match:
            servers[match["host"]] = (match["addr"], int(match["port"]))
            if " down" in match["flags"]:
                drained.add(match["host"])
    kept_out = read_keep_out(args.keep_out)
    probed = [host for host in servers if host not in drained | kept_out]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(16, len(probed)))) as pool:
        results = pool.map(lambda host: ready(*servers[host], args.timeout), probed)
        answers = dict(zip(probed, results, strict=True))

    unhealthy = set()
    for host in servers:
        entry = state.setdefault(host, {"ok": 0, "fail": 0, "out": False})
        if host in answers:
            if answers[host]:
                entry["ok"], entry["fail"] = entry["ok"] + 1, 0
                if entry["out"] and entry["ok"] >= args.rise:
                    entry["out"] = False
            else:
                entry["ok"], entry["fail"] = 0, entry["fail"] + 1
                if entry["fail"] >= args.fall:
                    entry["out"] = True
        if entry["out"]:
            unhealthy.add(host)
    for host in set(state) - set(servers):
        del state[host]

    serving = set(servers) - drained - kept_out
    if serving and serving <= unhealthy:
        unhealthy = set()  # never take the last servers out for health alone
    down = drained | kept_out | unhealthy
    text = render(source, down)
    try:
        with open(args.live) as handle:
            changed = handle.read() != text
    except FileNotFoundError:
        changed = True
    if changed:
        directory = os.path.dirname(os.path.abspath(args.live))
        with tempfile.NamedTemporaryFile("w", dir=directory, delete=False) as handle:
            handle.write(text)
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, args.live)
        if args.reload_cmd:
            subprocess.run(args.reload_cmd, shell=True, check=True)
    summary = {
        "servers": len(servers),
        "drained": sorted(drained),
        "kept_out": sorted(kept_out & set(servers)),
        "unhealthy": sorted(unhealthy),
        "changed": changed,
    }
    return summary


LAST_LOG = [float("-inf")]


def run(args) -> int:
    with open(args.state + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the service and Ansible's --once take turns
        try:
            with open(args.state) as handle:
                state = json.load(handle)
        except (FileNotFoundError, ValueError):
            state = {}
        summary = check_once(args, state)
        with open(args.state, "w") as handle:
            json.dump(state, handle)
    summary["unhealthy_count"] = len(summary["unhealthy"])
    summary["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if summary["changed"] or args.once:
        print(json.dumps(summary), flush=True)
    if args.log and (summary["changed"] or time.monotonic() - LAST_LOG[0] >= 60):
        with open(args.log, "a") as handle:
            handle.write(json.dumps(summary) + "\n")
        LAST_LOG[0] = time.monotonic()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="upstreams rendered by Ansible")
    parser.add_argument("--live", required=True, help="the upstreams file nginx includes")
    parser.add_argument("--keep-out", required=True, help="host names kept out, one a line")
    parser.add_argument("--state", required=True, help="counters between runs (JSON)")
    parser.add_argument("--reload-cmd", default="nginx -t -q && systemctl reload nginx")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--fall", type=int, default=2)
    parser.add_argument("--rise", type=int, default=2)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--once", action="store_true")
    parser.add_argument("--log", help="append JSON summaries here (changes, and once a minute)")
    args = parser.parse_args(argv)
    if args.once:
        return run(args)
    while True:
        started = time.monotonic()
        try:
            run(args)
        except Exception as error:  # keep checking; systemd's journal has the reason
            print(f"backoffice-lb-health: {error!r}", file=sys.stderr, flush=True)
        time.sleep(max(0.5, args.interval - (time.monotonic() - started)))


if __name__ == "__main__":
    sys.exit(main())
