"""Database credentials that survive rotation (backoffice/db_credentials.py).

The shared PostgreSQL of the test machines trusts every local connection, so a password
there proves nothing. These tests start a PostgreSQL of their own (initdb, a few seconds)
that checks passwords (scram-sha-256), and open connections through Django's real backend,
backoffice.db.postgresql, as the servers do.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from backoffice import db_credentials

ROOT = Path(__file__).resolve().parents[2]
TEST_SETTINGS = "backoffice.settings.test"
ROLES_SQL = ROOT / "ansible" / "roles" / "db_roles" / "files" / "db-roles.sql"


def _postgres_bindir() -> Path | None:
    candidates = [shutil.which("pg_config")]
    for pg_config in filter(None, candidates):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and (Path(out.stdout.strip()) / "initdb").exists():
            return Path(out.stdout.strip())
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A throw-away PostgreSQL on 127.0.0.1 that asks for passwords (its socket trusts postgres)."""
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
    # Not under pytest's tmp_path: its parents are private to root, and initdb runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="bo-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()
    subprocess.run(
        [*as_user, bindir / "initdb", "-D", data, "-U", "postgres", "--no-sync",
         "--auth-local=trust", "--auth-host=scram-sha-256"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, bindir / "pg_ctl", "-D", data, "-o", options, "-l", base / "log", "-w", "start"],
        check=True, capture_output=True,
    )
    try:
        yield {"socket": str(base), "port": port}
    finally:
        subprocess.run([*as_user, bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def own_connections(django_db_blocker):
    """The connections here are to the private server, not to the test database."""
    with django_db_blocker.unblock():
        yield


def admin(server, dbname="postgres"):
    return psycopg.connect(host=server["socket"], port=server["port"], user="postgres",
                           dbname=dbname, autocommit=True)  # fmt: skip


@pytest.fixture
def role(server):
    name = "bo_rotating"
    with admin(server) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {name}")
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'first-password'")
    yield name
    with admin(server) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name]
        )
        conn.execute(f"DROP ROLE IF EXISTS {name}")


def wrapper(server, user, **extra):
    """Django's connection for a setting, made by the same handler settings.DATABASES go through."""
    setting = {
        "ENGINE": "backoffice.db.postgresql",
        "NAME": "postgres",
        "USER": user,
        "HOST": "127.0.0.1",
        "PORT": str(server["port"]),
        **extra,
    }
    return ConnectionHandler({"default": setting})["default"]


class FakeRds:
    """Stands for the boto3 RDS client: returns whatever token IAM would accept now."""

    def __init__(self, token):
        self.token = token
        self.calls = []

    def generate_db_auth_token(self, **kwargs):
        self.calls.append(kwargs)
        return self.token


@pytest.fixture
def fake_rds(monkeypatch):
    rds = FakeRds("first-password")
    db_credentials.reset()
    monkeypatch.setattr(db_credentials, "_rds_client", lambda region: rds)
    yield rds
    db_credentials.reset()


def current_user(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def test_a_connection_made_after_the_password_changed_gets_the_new_credential(
    server, role, fake_rds
):
    app = wrapper(server, role, CREDENTIALS="iam", AWS_REGION="eu-west-1")
    assert current_user(app) == role
    app.close()

    with admin(server) as conn:  # the credential rotates while the app runs
        conn.execute(f"ALTER ROLE {role} PASSWORD 'second-password'")
    fake_rds.token = "second-password"

    assert current_user(app) == role  # a new connection, with a new token
    app.close()
    assert [call["DBUsername"] for call in fake_rds.calls] == [role, role]
    assert fake_rds.calls[-1] == {
        "DBHostname": "127.0.0.1",
        "Port": server["port"],
        "DBUsername": role,
        "Region": "eu-west-1",
    }


def test_a_password_read_once_at_start_fails_after_the_rotation(server, role):
    """What the servers did before: this server really checks, so the test above means something."""
    app = wrapper(server, role, PASSWORD="first-password")
    assert current_user(app) == role
    app.close()
    with admin(server) as conn:
        conn.execute(f"ALTER ROLE {role} PASSWORD 'second-password'")
    with pytest.raises(OperationalError, match="password authentication failed"):
        app.ensure_connection()


def test_an_open_connection_outlives_its_token(server, role, fake_rds):
    app = wrapper(server, role, CREDENTIALS="iam", AWS_REGION="eu-west-1")
    assert current_user(app) == role
    with admin(server) as conn:
        conn.execute(f"ALTER ROLE {role} PASSWORD 'second-password'")
    fake_rds.token = "expired"
    assert current_user(app) == role  # no new token asked for: the connection is open
    assert len(fake_rds.calls) == 1
    app.close()


def test_the_real_boto3_mints_a_token_for_the_user_without_a_network_call(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    db_credentials.reset()
    try:
        params = db_credentials.connection_params(
            {"CREDENTIALS": "iam", "AWS_REGION": "eu-west-1", "OPTIONS": {}},
            {"host": "db.example.internal", "port": 5432, "user": "backoffice_app"},
        )
    finally:
        db_credentials.reset()
    token = params["password"]
    assert token.startswith("db.example.internal:5432/?")
    assert "Action=connect" in token and "DBUser=backoffice_app" in token
    assert "X-Amz-Credential=AKIDEXAMPLE%2F" in token and "%2Feu-west-1%2Frds-db%2F" in token


def test_the_password_mode_leaves_django_alone_and_a_pool_is_refused():
    params = {"host": "h", "user": "u", "password": "p"}
    assert db_credentials.connection_params({"CREDENTIALS": "password"}, params) is params
    with pytest.raises(Exception, match="pool"):
        db_credentials.connection_params({"CREDENTIALS": "iam", "OPTIONS": {"pool": True}}, params)
    with pytest.raises(Exception, match="must be one of"):
        db_credentials.connection_params({"CREDENTIALS": "secret"}, params)


@pytest.fixture
def roles_database(server):
    """A database with ansible/roles/db_roles's roles, applied twice (it must be idempotent)."""
    with admin(server) as conn:
        conn.execute("DROP DATABASE IF EXISTS bo_roles")
        conn.execute("CREATE DATABASE bo_roles")
    with admin(server, "bo_roles") as conn:
        conn.execute("CREATE TABLE made_by_master (id bigint GENERATED BY DEFAULT AS IDENTITY)")
        for _ in range(2):
            conn.execute(ROLES_SQL.read_text())
        conn.execute("ALTER ROLE backoffice_migrator PASSWORD 'migrator'")
        conn.execute("ALTER ROLE backoffice_app PASSWORD 'app'")
    yield "bo_roles"
    with admin(server) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'bo_roles'"
        )
        conn.execute("DROP DATABASE bo_roles")
        for name in ("backoffice_app", "backoffice_migrator"):
            conn.execute(f"DROP OWNED BY {name}")
            conn.execute(f"DROP ROLE {name}")


def connect(server, database, user, password):
    return psycopg.connect(host="127.0.0.1", port=server["port"], dbname=database, user=user,
                           password=password, autocommit=True)  # fmt: skip


def test_migrations_run_as_the_migrator_and_the_app_only_reads_and_writes_rows(
    server, roles_database
):
    url = f"postgres://backoffice_migrator:migrator@127.0.0.1:{server['port']}/{roles_database}"
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": TEST_SETTINGS},
        capture_output=True,
        text=True,
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]

    with connect(server, roles_database, "backoffice_app", "app") as app:
        # Rows of tables the migrator made after the grants, and of the master's older table.
        app.execute("INSERT INTO django_content_type (app_label, model) VALUES ('x', 'y')")
        assert app.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 10
        app.execute("INSERT INTO made_by_master DEFAULT VALUES")
        app.execute("DELETE FROM django_content_type WHERE app_label = 'x'")
        for ddl in (
            "CREATE TABLE intruder (id int)",
            "ALTER TABLE django_migrations ADD COLUMN intruder int",
            "DROP TABLE made_by_master",
            "CREATE ROLE intruder",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(ddl)

    with connect(server, roles_database, "backoffice_migrator", "migrator") as migrator:
        owner = migrator.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_master'"
        ).fetchone()[0]
        assert owner == "backoffice_migrator"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            migrator.execute("CREATE ROLE intruder")


def production_settings(**env):
    base = {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://backoffice_app@db.example.internal:5432/backoffice",
        "AWS_STORAGE_BUCKET_NAME": "bucket",
        "PATH": os.environ.get("PATH", ""),
    }
    probe = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CREDENTIALS'], d['AWS_REGION'], d.get('PASSWORD') or '-')"
    )
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_production_settings_choose_iam_from_the_environment():
    iam = production_settings(DATABASE_AUTH="iam", AWS_REGION="eu-west-1")
    assert iam.stdout.split() == ["iam", "eu-west-1", "-"], iam.stderr
    migrator = production_settings(DATABASE_AUTH="password", DATABASE_PASSWORD="token&=%")
    assert migrator.stdout.split() == ["password", "None", "token&=%"], migrator.stderr
    bogus = production_settings(DATABASE_AUTH="secret")
    assert bogus.returncode != 0 and "DATABASE_AUTH must be one of" in bogus.stderr
