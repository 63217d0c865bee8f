"""Deprecation headers on every legacy answer; calls counted per credential and endpoint
without a database write per request; the migration board and its CSV; lookups by
legacy id in the new API."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from email.utils import parsedate_to_datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.legacy_api.ids import NEW_ID_OFFSET
from backoffice.legacy_api.models import LegacyUsage
from backoffice.legacy_api.usage import usage_flush
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def legacy(obj) -> int:
    return NEW_ID_OFFSET + obj.pk


@pytest.mark.parametrize("path", [
    "/api/companies/{company}", "/v1/organizations/{company}", "/v1/organizations/1",
    "/api/files/1", "/v1/projects",
])
def test_every_legacy_answer_announces_deprecation_sunset_and_the_new_docs(world, settings,
                                                                          path):
    settings.LEGACY_API_DEPRECATED_ON = date(2026, 12, 1)
    settings.LEGACY_API_SUNSET_ON = date(2027, 6, 30)
    answer = client_for(world.ours.keys["read"]).get(
        path.format(company=legacy(world.ours.company)))
    assert answer["Deprecation"] == "@1796083200"  # 2026-12-01T00:00:00Z (RFC 9745)
    assert parsedate_to_datetime(answer["Sunset"]).date().isoformat() == "2027-06-30"
    assert 'rel="deprecation"' in answer["Link"] and 'rel="successor-version"' in answer["Link"]
    assert "/api/v1/" in answer["Link"]


def test_an_unauthenticated_legacy_answer_has_the_headers_too(db):
    from rest_framework.test import APIClient

    answer = APIClient().get("/v1/organizations")
    assert answer.status_code == 401 and "Sunset" in answer and "Deprecation" in answer


def test_counting_a_call_writes_nothing_to_the_database(world):
    client = client_for(world.ours.keys["read"])
    path = f"/api/companies/{legacy(world.ours.company)}"
    client.get(path)  # the first call may schedule a flush; later ones do not
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    assert not [q for q in queries if "legacy_api_legacyusage" in q["sql"]]
    assert not LegacyUsage.objects.exists()


def test_flush_moves_counts_per_credential_and_endpoint_once(world):
    key, person = world.ours.keys["read"], world.ours.people["owner"]
    for _ in range(3):
        client_for(key).get(f"/api/companies/{legacy(world.ours.company)}")
    client_for(person).get("/v1/organizations")
    assert usage_flush() == 4
    by_credential = {(u.credential_kind, u.credential_id, u.endpoint): u
                     for u in LegacyUsage.objects.all()}
    key_row = by_credential[("key", key.pk, "GET /api/companies/{company_id}")]
    assert key_row.calls == 3 and key_row.api == "portal"
    assert key_row.company == world.ours.company and key.prefix in key_row.credential_label
    person_row = by_credential[("person", person.pk, "GET /v1/organizations")]
    assert person_row.calls == 1 and person_row.credential_label == person.email
    assert usage_flush() == 0  # nothing counted twice
    client_for(key).get(f"/api/companies/{legacy(world.ours.company)}")
    call_command("legacy_usage_flush")
    key_row.refresh_from_db()
    assert key_row.calls == 4


def test_migration_board_and_its_csv(world, client, superuser):
    stale, fresh = world.ours.keys["read"], world.namesake.keys["read"]
    client_for(stale).get(f"/api/companies/{legacy(world.ours.company)}")
    client_for(fresh).get("/v1/organizations")
    usage_flush()
    LegacyUsage.objects.filter(credential_id=stale.pk, credential_kind="key").update(
        last_call_at=timezone.now() - timedelta(days=30))
    client.force_login(superuser)
    board = client.get("/admin/legacy_api/legacyusage/")
    assert board.status_code == 200
    assert b"still calling" in board.content and b"moved" in board.content
    calling = client.get("/admin/legacy_api/legacyusage/?status=calling")
    assert fresh.name.encode() in calling.content and stale.name.encode() not in calling.content
    exported = client.get("/admin/legacy_api/legacyusage/export.csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert {(r["company"], r["endpoint"], r["status"]) for r in rows} == {
        (world.ours.company.name, "GET /api/companies/{company_id}", "moved"),
        (world.namesake.company.name, "GET /v1/organizations", "still calling"),
    }
    assert all(r["calls"] == "1" for r in rows)


def test_board_is_for_superusers_only(world, client):
    client.force_login(world.ours.people["owner"])
    assert client.get("/admin/legacy_api/legacyusage/export.csv").status_code in {302, 403}


def test_lookup_by_legacy_id_redirects_to_the_new_api(world):
    client = client_for(world.ours.people["owner"])
    answer = client.get(f"/api/v1/legacy/core/organizations/{legacy(world.ours.company)}")
    assert answer.status_code == 302
    assert answer["Location"] == f"/api/v1/companies/{world.ours.company.pk}/"
    project = client.get(f"/api/v1/legacy/core/projects/{legacy(world.ours.project)}")
    assert project["Location"] == f"/api/v1/projects/{world.ours.project.pk}/"
    file = client.get(f"/api/v1/legacy/portal/file/{legacy(world.ours.document)}")
    assert file["Location"] == f"/api/v1/documents/{world.ours.document.pk}/"


@pytest.mark.parametrize("path", [
    "/api/v1/legacy/core/organizations/{foreign}", "/api/v1/legacy/portal/company/{foreign}",
    "/api/v1/legacy/core/nothing/1", "/api/v1/legacy/core/organizations/abc",
])
def test_lookup_of_another_companys_or_an_unknown_id_is_404(world, path):
    answer = client_for(world.ours.people["owner"]).get(
        path.format(foreign=legacy(world.stranger.company)))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_kept_legacy_page_follows_a_change_of_provenance(world):
    from django.contrib.contenttypes.models import ContentType

    from importers.models import LegacyRecord

    client = client_for(world.ours.people["owner"])
    assert client.get("/v1/organizations").json()["items"][0]["id"] == legacy(world.ours.company)
    assert client.get("/v1/organizations").json()["items"][0]["id"] == legacy(world.ours.company)
    LegacyRecord.objects.create(
        source="core", table="organizations", legacy_id="42", fingerprint="x",
        content_type=ContentType.objects.get_for_model(world.ours.company),
        object_id=world.ours.company.pk)
    assert client.get("/v1/organizations").json()["items"][0]["id"] == 42
