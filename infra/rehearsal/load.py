#!/usr/bin/env python3
"""Bounded HTTP load loop against a loopback URL, for the rolling-deploy rehearsal.

Sends GET requests from a few threads over keep-alive connections until the
stop file appears, the time limit passes or the request budget is spent,
whichever comes first, then prints requests, failures and latency percentiles.
The last line is ``failed N``. Only loopback addresses are accepted.

Keep-alive race: when nginx reloads, old workers close idle client
connections; a request written at that instant on such a *reused* connection
gets no response at all. RFC 9110 (9.2.2) lets a client retry an idempotent
request then, and browsers do so silently; this loop retries once on a fresh
connection in exactly that case and reports the count as ``retried_stale``.
Anything else (an HTTP error, a timeout, a failure on a fresh connection) is a
failure. With --no-retry nothing is ever retried (the real-playbook rehearsal);
--fresh opens a new connection per request, as a client without keep-alive does.
--also PATH adds paths requested in turn with the URL's (e.g. a database-backed
list), --header NAME:VALUE adds a header (e.g. an API key).
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import os
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

# No response byte arrived: the server closed a kept-alive connection.
STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, int(round(pct / 100.0 * len(sorted_values))) - 1))
    return sorted_values[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--max-requests", type=int, default=60000)
    parser.add_argument("--stop-file", default="")
    parser.add_argument("--also", action="append", default=[], help="another path, in turn")
    parser.add_argument("--header", action="append", default=[], help="NAME:VALUE")
    parser.add_argument("--no-retry", action="store_true", help="never retry, not even stale")
    parser.add_argument("--fresh", action="store_true", help="a new connection per request")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument(
        "--rate", type=float, default=400.0, help="requests per second, all threads together"
    )
    args = parser.parse_args()

    parts = urlsplit(args.url)
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        loopback = False
    if parts.scheme != "http" or not loopback:
        print(f"load: refusing {args.url}: only http on the loopback interface", file=sys.stderr)
        return 2
    port = parts.port or 80
    paths = [parts.path or "/", *args.also]
    extra_headers = dict(item.split(":", 1) for item in args.header)
    per_path = {item: [0, 0] for item in paths}
    turn = [0]

    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    retried = [0]
    budget = [args.max_requests]
    deadline = time.monotonic() + args.max_seconds

    def take_ticket() -> bool:
        with lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def should_stop() -> bool:
        return time.monotonic() >= deadline or (args.stop_file and os.path.exists(args.stop_file))

    interval = args.threads / args.rate if args.rate > 0 else 0.0

    def worker() -> None:
        conn: http.client.HTTPConnection | None = None
        next_slot = time.monotonic()
        while not should_stop() and take_ticket():
            next_slot += interval
            pause = next_slot - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            with lock:
                path = paths[turn[0] % len(paths)]
                turn[0] += 1
            started = time.perf_counter()
            problem = ""
            for attempt in (1, 2):
                reused = conn is not None
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
                    headers = {"Host": host, "User-Agent": "rehearsal-load", **extra_headers}
                    if args.fresh:
                        headers["Connection"] = "close"
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    problem = "" if response.status == 200 else f"HTTP {response.status}"
                    if args.fresh or response.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except STALE_CONNECTION_ERRORS as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                    if conn is not None:
                        conn.close()
                    conn = None
                    if reused and attempt == 1 and not args.no_retry:
                        with lock:
                            retried[0] += 1
                        continue
                    break
                except (OSError, http.client.HTTPException) as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                    if conn is not None:
                        conn.close()
                    conn = None
                    break
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                per_path[path][0] += 1
                if problem:
                    failures.append(f"{path}: {problem}")
                    per_path[path][1] += 1
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    begun = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.max_seconds + args.timeout + 5)
    duration = time.monotonic() - begun

    ordered = sorted(latencies)
    total = len(ordered)
    print(f"load: url {args.url} threads {args.threads} duration_s {duration:.1f}")
    print(f"load: requests {total} ({total / duration if duration else 0:.0f}/s)")
    print(
        "load: latency_ms p50 {:.1f} p90 {:.1f} p99 {:.1f} max {:.1f}".format(
            *(1000 * percentile(ordered, p) for p in (50, 90, 99)),
            1000 * (ordered[-1] if ordered else 0),
        )
    )
    if failures:
        kinds: dict[str, int] = {}
        for item in failures:
            kinds[item] = kinds.get(item, 0) + 1
        for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:5]:
            print(f"load: failure x{count}: {kind}")
    for item, (sent, failed) in per_path.items():
        print(f"load: path {item} requests {sent} failed {failed}")
    print(f"retried_stale {retried[0]}")
    print(f"requests {total}")
    print(f"p99_ms {1000 * percentile(ordered, 99):.1f}")
    print(f"failed {len(failures)}")
    return 0 if total and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
