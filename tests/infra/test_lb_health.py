"""The load balancers' health checker (ansible/roles/nginx_lb/files/backoffice-lb-health.py)."""

from __future__ import annotations

import http.server
import importlib.util
import json
import threading
from pathlib import Path

import pytest

SCRIPT = (
    Path(__file__).resolve().parents[2]
    / "ansible/roles/nginx_lb/files/backoffice-lb-health.py"
)
spec = importlib.util.spec_from_file_location("backoffice_lb_health", SCRIPT)
health = importlib.util.module_from_spec(spec)
spec.loader.exec_module(health)


class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        status = self.server.readyz_status if self.path == "/readyz" else 404
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def apps():
    servers = []
    for _ in range(3):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
        server.readyz_status = 200
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def files(tmp_path, apps):
    def source(drained=()):
        lines = ["upstream backoffice_app {"]
        for number, app in enumerate(apps, 1):
            down = " down" if f"app-{number}" in drained else ""
            lines.append(
                f"    server 127.0.0.1:{app.server_address[1]} max_fails=3{down};  # app-{number}"
            )
        lines.append("}")
        (tmp_path / "source.conf").write_text("\n".join(lines) + "\n")

    source()
    paths = {name: tmp_path / name for name in ("source.conf", "live.conf", "keep-out", "state")}
    paths["reloads"] = tmp_path / "reloads"
    paths["write_source"] = source
    return paths


def check(files, *extra):
    argv = [
        "--once",
        "--source", str(files["source.conf"]),
        "--live", str(files["live.conf"]),
        "--keep-out", str(files["keep-out"]),
        "--state", str(files["state"]),
        "--reload-cmd", f"echo reload >> {files['reloads']}",
        "--timeout", "2",
        *extra,
    ]  # fmt: skip
    assert health.main(argv) == 0
    live = files["live.conf"].read_text()
    return {
        line.split("# ")[1]: " down;" in line for line in live.splitlines() if "server " in line
    }


def reloads(files) -> int:
    return len(files["reloads"].read_text().splitlines()) if files["reloads"].exists() else 0


def test_a_server_whose_readyz_fails_is_taken_out_after_fall_and_back_after_rise(apps, files):
    assert check(files) == {"app-1": False, "app-2": False, "app-3": False}
    assert reloads(files) == 1  # the live file did not exist
    apps[1].readyz_status = 503
    assert check(files)["app-2"] is False  # one failure is not enough (fall 2)
    assert check(files)["app-2"] is True
    assert reloads(files) == 2
    apps[1].readyz_status = 200
    assert check(files)["app-2"] is True  # one success is not enough (rise 2)
    assert check(files) == {"app-1": False, "app-2": False, "app-3": False}
    assert reloads(files) == 3
    check(files)
    assert reloads(files) == 3  # nothing changed, no reload


def test_drained_and_kept_out_servers_stay_down_whatever_they_answer(apps, files):
    files["write_source"](drained=["app-1"])
    files["keep-out"].write_text("app-3  # disk replaced, keep out\n")
    assert check(files) == {"app-1": True, "app-2": False, "app-3": True}
    files["write_source"]()  # the deploy puts app-1 back: app-3 stays out
    assert check(files) == {"app-1": False, "app-2": False, "app-3": True}
    files["keep-out"].write_text("")
    assert check(files) == {"app-1": False, "app-2": False, "app-3": False}


def test_health_alone_never_takes_the_last_servers_out(apps, files):
    files["keep-out"].write_text("app-3\n")
    for app in apps:
        app.readyz_status = 503
    for _ in range(3):
        result = check(files)
    assert result == {"app-1": False, "app-2": False, "app-3": True}
    state = json.loads(files["state"].read_text())
    assert state["app-1"]["out"] and state["app-2"]["out"]


def test_an_unreachable_server_is_not_ready(files):
    source = files["source.conf"].read_text()
    gone = "    server 127.0.0.1:1 max_fails=3;  # gone\n}"
    files["source.conf"].write_text(source.replace("}", gone))
    assert check(files, "--fall", "1")["gone"] is True


def test_the_log_gets_a_summary_with_the_unhealthy_count(apps, files, tmp_path):
    log = tmp_path / "health.log"
    health.LAST_LOG[0] = float("-inf")
    apps[0].readyz_status = 503
    check(files, "--fall", "1", "--log", str(log))
    check(files, "--fall", "1", "--log", str(log))  # no change within the minute: no line
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 1
    assert lines[0]["unhealthy_count"] == 1 and lines[0]["unhealthy"] == ["app-1"]
