"""The sample import, its legacy rows as the legacy systems hold them, and legacy clients."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from tests.api.conftest import world  # noqa: F401 - fixture
from tests.api.test_documents import s3_endpoint, s3_storage  # noqa: F401 - fixtures
from tests.importers.test_loader import SAMPLE, run_sample_import

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def imported(django_db_setup, django_db_blocker):
    """Import the sample once per module inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield run_sample_import()
        transaction.set_rollback(True)


@cache
def truth() -> dict:
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


@cache
def legacy_rows(source: str, table: str) -> dict[str, dict]:
    """Return a legacy table of the sample's CSV export by its first column ("" is None); a
    table whose first column is not its key (team_member, user_roles) by row number."""
    path = SAMPLE / "csv" / source / f"{table}.csv"
    options = {"delimiter": ";"} if source == "portal" else {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, **options))
    rows = [{k: (v if v != "" else None) for k, v in row.items()} for row in rows]
    key = next(iter(rows[0]))
    if len({row[key] for row in rows}) < len(rows):
        return {str(number): row for number, row in enumerate(rows)}
    return {row[key]: row for row in rows}


def core_time(value: str | None) -> str | None:
    """Core's timestamptz as its API wrote it: UTC with "Z"."""
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(ZoneInfo("UTC")).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def core_client_for(organization_id: str, *, scopes: str = "read write admin") -> dict:
    """Return a known, unrevoked Core API client (id, secret) of an organization."""
    clients = {row["client_id"]: row for row in legacy_rows("core", "api_clients").values()}
    for known in truth()["known_core_clients"]:
        row = clients[known["client_id"]]
        if (not known["revoked"] and row["organization_id"] == organization_id
                and row["scopes"] == scopes):
            return known
    raise LookupError(organization_id)


def core_token(client: dict) -> str:
    answer = APIClient().post("/oauth/token", {
        "grant_type": "client_credentials", "client_id": client["client_id"],
        "client_secret": client["secret"]})
    assert answer.status_code == 200, answer.content
    return answer.json()["access_token"]


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def api_key(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    return client
