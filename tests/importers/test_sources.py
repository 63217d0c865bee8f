"""Reading the legacy sources: CSV exports, live databases and the Cognito export."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from importers.legacy_schema import TABLES, System
from importers.sources import (
    ERRORS_KEY,
    SourceError,
    mask_password,
    open_source,
    read_cognito,
)

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "legacy_sample"
POSTGRES_URL = os.environ.get(
    "LEGACY_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MARIADB_URL = os.environ.get("LEGACY_MARIADB_URL", "mysql://root@127.0.0.1:3306/mysql")


# --- helpers shared with test_generator -----------------------------------------------


def read_all(source, table: str, batch_size: int = 5000) -> list[dict]:
    return [row for batch in source.iter_batches(table, batch_size) for row in batch]


def by_primary_key(system: System, table: str, rows: list[dict]) -> list[dict]:
    key = TABLES[system][table].primary_key
    return sorted(rows, key=lambda row: tuple(row[name] for name in key))


def _require_server(url: str, client: str) -> None:
    """Skip (outside CI) or fail (in CI) when the server or its client is missing."""
    parts = urlsplit(url)
    problem = None
    if shutil.which(client) is None:
        problem = f"the {client} client is not installed"
    else:
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=2).close()
        except OSError:
            problem = f"no server answers at {parts.hostname}:{parts.port}"
    if problem:
        message = f"{problem}; set LEGACY_POSTGRES_URL / LEGACY_MARIADB_URL to run this test"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def postgres_database(dump: Path) -> Iterator[str]:
    """Load `dump` into a throwaway PostgreSQL database with psql; yield its URL."""
    _require_server(POSTGRES_URL, "psql")
    import psycopg

    name = f"legacy_core_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(POSTGRES_URL, name)
    try:
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(dump)],
            check=True,
            capture_output=True,
        )
        yield url
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _mysql_args(url: str) -> list[str]:
    parts = urlsplit(url)
    args = [
        "mysql",
        "-h",
        parts.hostname or "127.0.0.1",
        "-P",
        str(parts.port or 3306),
        "-u",
        parts.username or "root",
    ]
    if parts.password:
        args.append(f"-p{parts.password}")
    return args


def mariadb_database(dump: Path) -> Iterator[str]:
    """Load `dump` into a throwaway MariaDB database with mysql; yield its URL."""
    _require_server(MARIADB_URL, "mysql")
    name = f"legacy_portal_test_{uuid.uuid4().hex[:10]}"
    subprocess.run([*_mysql_args(MARIADB_URL), "-e", f"CREATE DATABASE `{name}`"], check=True)
    try:
        with dump.open("rb") as sql:
            subprocess.run(
                [*_mysql_args(MARIADB_URL), name], stdin=sql, check=True, capture_output=True
            )
        yield _with_database(MARIADB_URL, name)
    finally:
        subprocess.run(
            [*_mysql_args(MARIADB_URL), "-e", f"DROP DATABASE IF EXISTS `{name}`"], check=True
        )


def assert_database_equals_csv(system: System, url: str, csv_directory: Path) -> None:
    with open_source(system, url) as database, open_source(system, csv_directory) as export:
        for table in TABLES[system]:
            from_database = by_primary_key(system, table, read_all(database, table, 700))
            from_csv = by_primary_key(system, table, read_all(export, table))
            assert from_database == from_csv, f"{system}.{table} differs"
            assert database.count(table) == len(from_database)


# --- CSV ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "table", "rows"),
    [
        ("core", "organizations", 227),
        ("core", "users", 2444),
        ("core", "user_roles", 2529),
        ("portal", "company", 155),
        ("portal", "member", 1512),
        ("portal", "team_member", 1569),
    ],
)
def test_csv_sample_yields_every_row_in_batches(system, table, rows):
    with open_source(system, SAMPLE / "csv" / system) as source:
        batches = list(source.iter_batches(table, batch_size=1000))
    assert sum(len(batch) for batch in batches) == rows
    assert all(len(batch) <= 1000 for batch in batches)


def test_csv_source_accepts_the_export_root_folder():
    with open_source("portal", SAMPLE) as source:
        assert len(read_all(source, "api_key")) == 16


def test_core_csv_values_are_canonical():
    with open_source("core", SAMPLE) as source:
        users = {row["id"]: row for row in read_all(source, "users")}
    first = users[1]
    assert first["email"] == "MHOVEL@PLATFORM.INTERNAL"
    assert first["is_active"] is True
    assert first["department_id"] == 2
    assert first["created_at"] == datetime(2021, 7, 30, 23, 34, 14, tzinfo=UTC)
    assert users[3]["last_login_at"] is None
    assert users[26]["email"] == " fabian.salawa@zabierekradzio.pl "  # spaces kept
    assert users[538]["email"] == ""  # NOT NULL text: empty, not None
    assert not any(ERRORS_KEY in row for row in users.values())


def test_portal_csv_values_are_canonical_and_keep_mojibake():
    with open_source("portal", SAMPLE) as source:
        members = {row["member_id"]: row for row in read_all(source, "member")}
        companies = {row["company_id"]: row for row in read_all(source, "company")}
    assert members[1]["created"] == datetime(2022, 10, 21, 15, 54, 8)  # naive Berlin time
    assert members[2]["last_seen"] is None  # the zero date
    assert members[2]["phone"] is None
    assert members[508]["first_name"] == "MichaÅ‚"
    assert companies[1]["company_name"] == "  Polar Forge Media Ltd "
    assert companies[1]["is_deleted"] is False
    assert companies[2]["country"] is None  # '' in the dump, empty in the CSV


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


API_KEY_HEADER = "key_id;company_id;label;key_prefix;key_sha256;created;expires"


def test_dirty_value_is_yielded_with_errors_instead_of_raising(tmp_path):
    _write(
        tmp_path / "api_key.csv",
        "\ufeff" + API_KEY_HEADER + "\r\n"
        "x1;8;key 1;pk_9dadc;abc;2021-04-20 06:57:19;\r\n"
        "2;8;key 2;pk_5cd1d;def;not a date;0000-00-00 00:00:00\r\n"
        "3;8;key 3;pk_5cd1e;fed;2021-04-20 06:57:19;\r\n",
    )
    with open_source("portal", tmp_path) as source:
        first, second, third = read_all(source, "api_key")
    assert first[ERRORS_KEY] == {"key_id": "'x1' is not an integer"}
    assert first["key_id"] == "x1"
    assert set(second[ERRORS_KEY]) == {"created"}
    assert second["expires"] is None
    assert ERRORS_KEY not in third


def test_wrong_delimiter_names_file_line_and_delimiter(tmp_path):
    path = _write(tmp_path / "api_key.csv", API_KEY_HEADER.replace(";", ",") + "\n1,8,k,p,s,x,\n")
    with pytest.raises(SourceError) as error, open_source("portal", tmp_path) as source:
        source.iter_batches("api_key")
    assert str(path) in str(error.value)
    assert "line 1" in str(error.value)
    assert "','" in str(error.value) and "';'" in str(error.value)


def test_missing_column_fails_before_any_row_is_read(tmp_path):
    path = _write(tmp_path / "api_key.csv", API_KEY_HEADER.replace(";key_sha256", "") + "\n")
    with open_source("portal", tmp_path) as source, pytest.raises(SourceError) as error:
        source.iter_batches("api_key")  # no next(): the header is checked up front
    assert str(path) in str(error.value)
    assert "line 1" in str(error.value) and "key_sha256" in str(error.value)


def test_bad_encoding_names_file_and_line(tmp_path):
    latin1 = (
        "\ufeff" + API_KEY_HEADER + "\n1;8;Müller;p;s;2021-04-20 06:57:19;\n"
        "2;8;Straße;p;s;2021-04-20 06:57:19;\n"
    )
    path = _write(
        tmp_path / "api_key.csv", latin1.encode("utf-8")[:3] + latin1[1:].encode("latin-1")
    )
    with open_source("portal", tmp_path) as source, pytest.raises(SourceError) as error:
        read_all(source, "api_key")
    assert str(path) in str(error.value)
    assert "line 2" in str(error.value) and "UTF-8" in str(error.value)


def test_wrong_number_of_fields_names_file_and_line(tmp_path):
    path = _write(
        tmp_path / "organizations.csv",
        "id,name,legal_name,vat_number,country,domain,status,created_at,updated_at,"
        "deleted_at\n"
        "1,Acme,,,DE,acme.de,active,2020-01-01T00:00:00+00:00,"
        "2020-01-01T00:00:00+00:00,\n"
        "2,Acme, Inc,,,US,acme.com,active,2020-01-01T00:00:00+00:00,"
        "2020-01-01T00:00:00+00:00,\n",
    )
    with open_source("core", tmp_path) as source, pytest.raises(SourceError) as error:
        read_all(source, "organizations")
    assert str(path) in str(error.value)
    assert "line 3" in str(error.value) and "expected 10 fields, found 11" in str(error.value)


def test_missing_csv_file_names_folder_and_file(tmp_path):
    with open_source("core", tmp_path) as source, pytest.raises(SourceError) as error:
        source.iter_batches("users")
    assert "users.csv" in str(error.value) and str(tmp_path) in str(error.value)


def test_spec_that_is_neither_url_nor_folder_is_refused(tmp_path):
    with pytest.raises(SourceError, match="neither a database URL nor an existing folder"):
        open_source("core", tmp_path / "nowhere")


def test_wrong_url_kind_for_the_system_is_refused():
    with pytest.raises(SourceError, match="mysql:// or mariadb://"):
        open_source("portal", "postgresql://u:secret@localhost/x")


def test_unknown_table_is_refused():
    with open_source("core", SAMPLE) as source, pytest.raises(SourceError, match="no table"):
        source.iter_batches("invoices")


def test_password_is_masked_in_urls():
    assert mask_password("mysql://app:s3cret@db:3306/portal") == "mysql://app:***@db:3306/portal"
    assert mask_password("postgresql://app@db/core") == "postgresql://app@db/core"


# --- Cognito ---------------------------------------------------------------------------


def test_cognito_export_yields_canonical_users():
    users = list(read_cognito(SAMPLE / "cognito-users.json"))
    assert len(users) == 1462
    first = users[0]
    assert first["sub"] == "33c8900c-2058-4489-a1f1-0ec0f087e191"
    assert first["email"] == "georgia.morgan@polarforgemedia.co.uk"
    assert first["email_verified"] is False
    assert first["enabled"] is True
    assert first["status"] == "RESET_REQUIRED"
    assert first["created"] == datetime(2022, 10, 21, 14, 54, 8, tzinfo=UTC)
    assert not any(ERRORS_KEY in user for user in users)


def test_malformed_cognito_export_names_the_file(tmp_path):
    path = _write(tmp_path / "users.json", '{"Users": [{"Username": "a",}')
    with pytest.raises(SourceError) as error:
        read_cognito(path)
    assert str(path) in str(error.value) and "not valid JSON" in str(error.value)


def test_missing_cognito_export_names_the_file(tmp_path):
    with pytest.raises(SourceError, match="missing.json"):
        read_cognito(tmp_path / "missing.json")


# --- databases -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_core_url() -> Iterator[str]:
    yield from postgres_database(SAMPLE / "core.sql")


@pytest.fixture(scope="module")
def sample_portal_url() -> Iterator[str]:
    yield from mariadb_database(SAMPLE / "portal.sql")


@pytest.mark.postgres
def test_core_database_rows_equal_csv_rows(sample_core_url):
    assert_database_equals_csv("core", sample_core_url, SAMPLE)


@pytest.mark.mariadb
def test_portal_database_rows_equal_csv_rows(sample_portal_url):
    assert_database_equals_csv("portal", sample_portal_url, SAMPLE)


@pytest.mark.postgres
def test_core_database_text_is_emptied_as_csv_and_an_untyped_column_is_still_checked(
    sample_core_url,
):
    # Typed tables arrive as they are (the server empties text); a column of another type
    # sends its table through the per-value conversion, which still rejects a bad value.
    import psycopg

    with psycopg.connect(sample_core_url, autocommit=True) as conn:
        saved = conn.execute(
            "SELECT u.full_name, u.password_hash, p.budget_cents FROM core.users u,"
            " core.projects p WHERE u.id = 1 AND p.id = 1"
        ).fetchone()
        conn.execute(
            "UPDATE core.users SET full_name = '', password_hash = NULL WHERE id = 1;"
            "ALTER TABLE core.projects ALTER COLUMN budget_cents TYPE text;"
            "UPDATE core.projects SET budget_cents = 'n/a' WHERE id = 1"
        )
        try:
            with open_source("core", sample_core_url) as source:
                users = {row["id"]: row for row in read_all(source, "users")}
                projects = {row["id"]: row for row in read_all(source, "projects")}
        finally:
            conn.execute(
                "ALTER TABLE core.projects ALTER COLUMN budget_cents TYPE bigint"
                " USING nullif(budget_cents, 'n/a')::bigint"
            )
            conn.execute("UPDATE core.users SET full_name = %s, password_hash = %s WHERE id = 1;",
                         saved[:2])
            conn.execute("UPDATE core.projects SET budget_cents = %s WHERE id = 1", saved[2:])
    assert users[1]["full_name"] is None and users[1]["password_hash"] is None
    assert list(users[1]) == list(TABLES["core"]["users"].column_names)
    assert projects[1]["_errors"] == {"budget_cents": "'n/a' is not an integer"}
    assert all(isinstance(row["budget_cents"], int | None) for row in projects.values()
               if row["id"] != 1)


@pytest.mark.mariadb
def test_portal_zero_date_reads_as_none(sample_portal_url):
    with open_source("portal", sample_portal_url) as source:
        members = {row["member_id"]: row for row in read_all(source, "member")}
    assert members[2]["last_seen"] is None
    assert members[1]["last_seen"] == datetime(2023, 8, 17, 0, 15, 55)


@pytest.mark.postgres
def test_unreachable_postgres_names_url_without_password():
    _require_server(POSTGRES_URL, "psql")
    with pytest.raises(SourceError) as error:
        open_source("core", "postgresql://postgres:hunter2@127.0.0.1:1/core")
    assert "postgresql://postgres:***@127.0.0.1:1/core" in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.mariadb
def test_unreachable_mariadb_names_url_without_password():
    _require_server(MARIADB_URL, "mysql")
    with pytest.raises(SourceError) as error:
        open_source("portal", "mariadb://root:hunter2@127.0.0.1:1/portal")
    assert "mariadb://root:***@127.0.0.1:1/portal" in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.postgres
def test_postgres_without_core_schema_names_the_missing_table():
    _require_server(POSTGRES_URL, "psql")
    with open_source("core", POSTGRES_URL) as source, pytest.raises(SourceError) as error:
        source.iter_batches("users")
    assert "core.users" in str(error.value)


@pytest.mark.postgres
def test_postgres_missing_column_is_named(sample_core_url):
    import psycopg

    with psycopg.connect(sample_core_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE core.api_clients RENAME COLUMN scopes TO scope_list")
    try:
        with open_source("core", sample_core_url) as source, pytest.raises(SourceError) as error:
            source.iter_batches("api_clients")
        assert "scopes" in str(error.value)
    finally:
        with psycopg.connect(sample_core_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE core.api_clients RENAME COLUMN scope_list TO scopes")


@pytest.mark.mariadb
def test_mariadb_missing_table_is_named():
    _require_server(MARIADB_URL, "mysql")
    with open_source("portal", MARIADB_URL) as source, pytest.raises(SourceError) as error:
        source.count("member")
    assert "member" in str(error.value) and "***" not in str(error.value)


# --- digests: what tells a re-run that nothing changed ------------------------------------


def _update_postgres(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _update_mariadb(url: str, sql: str) -> None:
    parts = urlsplit(url)
    subprocess.run([*_mysql_args(url), parts.path.lstrip("/"), "-e", sql], check=True)


@pytest.mark.postgres
@pytest.mark.mariadb
@pytest.mark.parametrize("system", ["core", "portal"])
def test_a_table_digest_changes_with_one_value_and_only_then(
    system, sample_core_url, sample_portal_url
):
    url, table, change, undo = {
        "core": (sample_core_url, "departments",
                 "UPDATE core.departments SET name = name || ' x' WHERE id = 1",
                 "UPDATE core.departments SET name = left(name, -2) WHERE id = 1"),
        "portal": (sample_portal_url, "team",
                   "UPDATE team SET team_name = CONCAT(team_name, ' x') WHERE team_id = 1",
                   "UPDATE team SET team_name = LEFT(team_name, CHAR_LENGTH(team_name) - 2)"
                   " WHERE team_id = 1"),
    }[system]
    update = _update_postgres if system == "core" else _update_mariadb
    with open_source(system, url) as source:
        before = {name: source.digest(name) for name in TABLES[system]}
        update(url, change)
        after = {name: source.digest(name) for name in TABLES[system]}
        update(url, undo)
        restored = {name: source.digest(name) for name in TABLES[system]}
    assert [name for name in TABLES[system] if after[name] != before[name]] == [table]
    assert restored == before


def test_a_csv_digest_is_the_file_content(tmp_path):
    shutil.copytree(SAMPLE / "csv" / "portal", tmp_path / "portal")
    source = open_source("portal", tmp_path / "portal")
    before = source.digest("team")
    (tmp_path / "portal" / "team.csv").write_bytes(
        (SAMPLE / "csv" / "portal" / "team.csv").read_bytes() + b"\r\n"
    )
    assert source.digest("team") != before
    assert source.digest("member") == open_source("portal", SAMPLE / "csv" / "portal").digest(
        "member")
