"""The legacy data generator: deterministic, loadable, in the sample's formats, dirty."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from django.core.management import call_command

from importers.legacy_schema import TABLES
from importers.sources import ERRORS_KEY, open_source, read_cognito
from legacy_fixtures.generator import generate_legacy
from tests.importers.test_sources import (
    SAMPLE,
    assert_database_equals_csv,
    mariadb_database,
    postgres_database,
    read_all,
)

SMALL = 20


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small")
    generate_legacy(companies=SMALL, out=out, seed=7)
    return out


@pytest.fixture(scope="module")
def medium(tmp_path_factory) -> Path:
    # Big enough that every kind of dirt occurs at least once.
    out = tmp_path_factory.mktemp("medium")
    generate_legacy(companies=400, out=out, seed=11)
    return out


@pytest.fixture(scope="module")
def medium_truth(medium) -> dict:
    return json.loads((medium / "truth.json").read_text(encoding="utf-8"))


def test_same_seed_writes_the_same_bytes(small, tmp_path):
    generate_legacy(companies=SMALL, out=tmp_path, seed=7)
    assert _files(tmp_path) == _files(small)


def test_another_seed_writes_other_data(small, tmp_path):
    generate_legacy(companies=SMALL, out=tmp_path, seed=8)
    assert (tmp_path / "core.sql").read_bytes() != (small / "core.sql").read_bytes()


def test_command_writes_every_file(tmp_path):
    call_command("generate_legacy", companies=3, out=tmp_path / "legacy", seed=1)
    names = set(_files(tmp_path / "legacy"))
    expected = {"core.sql", "portal.sql", "cognito-users.json", "truth.json"}
    expected |= {f"csv/{s}/{t}.csv" for s, tables in TABLES.items() for t in tables}
    assert names == expected


def _ddl(sql: str, first_data_line: str) -> str:
    return sql[: sql.index(first_data_line)]


def test_dumps_have_the_samples_ddl(small):
    core, sample_core = (d.joinpath("core.sql").read_text() for d in (small, SAMPLE))
    portal, sample_portal = (d.joinpath("portal.sql").read_text() for d in (small, SAMPLE))
    assert _ddl(core, "COPY ") == _ddl(sample_core, "COPY ")
    assert _ddl(portal, "LOCK TABLES") == _ddl(sample_portal, "LOCK TABLES")
    assert "ENGINE=MyISAM" in portal and "INSERT INTO `member` VALUES (" in portal


def test_csv_exports_have_the_samples_headers_and_encoding(small):
    for system, tables in TABLES.items():
        for table in tables:
            ours = (small / "csv" / system / f"{table}.csv").read_bytes()
            theirs = (SAMPLE / "csv" / system / f"{table}.csv").read_bytes()
            assert ours.split(b"\r\n", 1)[0] == theirs.split(b"\r\n", 1)[0]
            assert ours.startswith(b"\xef\xbb\xbf") == (system == "portal")


def test_csv_exports_read_back_without_row_errors(small):
    for system, tables in TABLES.items():
        with open_source(system, small) as source:
            for table in tables:
                assert not any(ERRORS_KEY in row for row in read_all(source, table))


def test_truth_has_the_samples_structure(small):
    ours = json.loads((small / "truth.json").read_text(encoding="utf-8"))
    theirs = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    assert list(ours) == list(theirs)
    for name in ("companies", "persons", "teams", "known_passwords", "known_core_clients"):
        assert set(ours[name][0]) == set(theirs[name][0]), name
    assert len(ours["companies"]) == SMALL + 1  # and Platform Internal


def test_every_legacy_person_row_is_in_exactly_one_truth_person(small):
    truth = json.loads((small / "truth.json").read_text(encoding="utf-8"))
    core = Counter(i for person in truth["persons"] for i in person["core"])
    portal = Counter(i for person in truth["persons"] for i in person["portal"])
    with open_source("core", small) as source:
        assert sorted(core.elements()) == sorted(r["id"] for r in read_all(source, "users"))
    with open_source("portal", small) as source:
        members = read_all(source, "member")
    assert sorted(portal.elements()) == sorted(r["member_id"] for r in members)


def test_known_secrets_verify_against_the_stored_hashes(small):
    truth = json.loads((small / "truth.json").read_text(encoding="utf-8"))
    with open_source("core", small) as source:
        users = {row["id"]: row for row in read_all(source, "users")}
        clients = {row["client_id"]: row for row in read_all(source, "api_clients")}
    known = truth["known_passwords"][0]
    assert users[known["legacy_id"]]["password_hash"].startswith("$2a$10$")
    assert bcrypt.checkpw(known["password"].encode(),
                          users[known["legacy_id"]]["password_hash"].encode())
    for client in truth["known_core_clients"]:
        stored = clients[client["client_id"]]["client_secret_hash"]
        assert stored.startswith("$2a$04$")
        assert bcrypt.checkpw(client["secret"].encode(), stored.encode())


def test_known_portal_keys_match_prefix_and_digest(medium, medium_truth):
    with open_source("portal", medium) as source:
        keys = {row["key_sha256"]: row for row in read_all(source, "api_key")}
    assert medium_truth["known_portal_keys"]
    for known in medium_truth["known_portal_keys"]:
        assert re.fullmatch(r"pk_[0-9a-f]{32}", known["key"])
        row = keys[hashlib.sha256(known["key"].encode()).hexdigest()]
        assert row["key_prefix"] == known["key"][:8]


def test_the_dirt_of_production_is_there(medium, medium_truth):
    truth = medium_truth
    with open_source("core", medium) as core, open_source("portal", medium) as portal:
        organizations = read_all(core, "organizations")
        users = read_all(core, "users")
        companies = read_all(portal, "company")
        members = read_all(portal, "member")
    reasons = Counter((r["table"], r["reason"]) for r in truth["must_reject"])
    assert {("users", "invalid email"), ("member", "invalid email"),
            ("team_member", "orphan member"), ("file", "orphan team"),
            ("permission_grant", "orphan resource")} <= set(reasons)
    assert any(len(c["core"]) == 2 for c in truth["companies"])  # entered twice in Core
    assert any(o["deleted_at"] for o in organizations)
    assert any(len(p["companies"]) == 2 for p in truth["persons"])  # consultants
    assert any(len(p["core"]) == 2 for p in truth["persons"])  # same e-mail, other case
    assert any(u["email"] != u["email"].strip() for u in users)
    assert any(u["email"] != u["email"].lower() for u in users)
    assert any("Ã" in (m["last_name"] or "") + (m["first_name"] or "") for m in members)
    assert any(m["last_seen"] is None for m in members)
    assert b"0000-00-00 00:00:00" in (medium / "portal.sql").read_bytes()
    assert any(c["vat"] and c["vat"][:2].isdigit() for c in companies)  # prefix dropped
    assert any(c["vat"] and " " in c["vat"] for c in companies)
    assert len({c["country"] for c in companies}) > 20
    assert truth["unknown_roles"] and truth["unknown_bits"] and truth["cognito_only"]
    subs = {user["sub"] for user in read_cognito(medium / "cognito-users.json")}
    assert set(truth["cognito_only"]) <= subs
    assert {m["cognito_sub"] for m in members} - subs  # members without a pool user
    names = Counter((o["name"], o["country"]) for o in organizations if o["deleted_at"] is None)
    by_name = Counter(name for name, _ in names)
    assert any(count > 1 for count in by_name.values())  # namesakes in other countries


def test_rows_per_company_are_like_the_samples(medium):
    with_rows = 0
    for system, tables in TABLES.items():
        with open_source(system, medium) as source:
            with_rows += sum(source.count(table) for table in tables)
    assert 45 <= with_rows / 400 <= 70  # the sample: about 57


@pytest.fixture
def small_core_url(small) -> Iterator[str]:
    yield from postgres_database(small / "core.sql")


@pytest.fixture
def small_portal_url(small) -> Iterator[str]:
    yield from mariadb_database(small / "portal.sql")


@pytest.mark.postgres
def test_core_dump_loads_with_psql_and_reads_back_as_the_csv(small, small_core_url):
    assert_database_equals_csv("core", small_core_url, small)


@pytest.mark.mariadb
def test_portal_dump_loads_with_mysql_and_reads_back_as_the_csv(small, small_portal_url):
    assert_database_equals_csv("portal", small_portal_url, small)
