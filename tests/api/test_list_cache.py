"""A kept list page is served only while it is exactly the page the request would build."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.api import list_cache
from backoffice.projects.models import Document
from rbac.models import Company, Team
from tests.factories import DocumentFactory, member

from .conftest import client_for
from .test_access_cache import bearer_client, document_ids

pytestmark = pytest.mark.django_db

LISTED_TABLES = {"rbac_company", "rbac_team", "projects_project", "projects_document",
                 # The legacy APIs' kept lists show legacy ids from provenance (legacy_api).
                 "importers_legacyrecord"}


def page(client, path="/api/v1/documents/") -> tuple[bytes, list[str]]:
    """Return a list page's bytes and the queries it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response.content, [query["sql"] for query in queries.captured_queries]


def read_documents(queries: list[str]) -> bool:
    return any('FROM "projects_document"' in sql for sql in queries)


def test_every_listed_table_has_its_triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT event_object_table FROM information_schema.triggers "
                "WHERE trigger_name LIKE '%%_list_changed'"
            )
        else:
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_list_%'"
            )
        assert {row[0] for row in cursor.fetchall()} == LISTED_TABLES


def test_the_second_request_is_served_from_the_kept_page(world):
    client = bearer_client(world.ours.people["viewer"])
    first, built = page(client)
    second, served = page(client)
    assert second == first
    assert read_documents(built)
    # The token with its person, and the versions of the listed tables; no page query.
    assert len(served) == 2
    assert not read_documents(served)


@pytest.mark.parametrize("write", ["create", "orm_update", "bulk_update", "raw_sql_update"])
def test_any_write_to_the_listed_table_rebuilds_the_page(world, write):
    # The editor holds no direct grant on the document: their access never moves here.
    client = bearer_client(world.ours.people["editor"])
    document = world.ours.document
    before = set(document_ids(client))
    if write == "create":
        added = DocumentFactory(company=world.ours.company, team=None, project=None)
        expected = before | {added.pk}
    elif write == "orm_update":
        document.original_name = "renamed.pdf"
        document.save()
        expected = before
    elif write == "bulk_update":  # no signal, as the importer writes
        Document.objects.filter(pk=document.pk).update(company=world.stranger.company)
        expected = before - {document.pk}
    else:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE projects_document SET company_id = %s WHERE id = %s",
                           [world.stranger.company.pk, document.pk])
        expected = before - {document.pk}
    rows = {row["id"]: row for row in client.get("/api/v1/documents/").json()["results"]}
    assert set(rows) == expected
    if write == "orm_update":
        assert rows[document.pk]["original_name"] == "renamed.pdf"


def test_a_write_to_another_listed_table_keeps_the_page(world):
    client = bearer_client(world.ours.people["viewer"])
    page(client)
    Company.objects.filter(pk=world.stranger.company.pk).update(name="Globex Renamed")
    _, served = page(client)
    assert not read_documents(served)


def test_access_gained_rebuilds_the_page(world):
    # Access lost is tested in test_access_cache.py, through the same kept pages.
    editor = world.ours.people["editor"]
    client = bearer_client(editor)
    before = document_ids(client)
    member(editor, world.stranger.company, "viewer")
    assert document_ids(client) == before | {world.stranger.document.pk}


def test_a_team_created_under_a_managed_team_rebuilds_the_page(world):
    manager = world.ours.people["manager"]
    client = bearer_client(manager)
    before = document_ids(client)
    team = Team.objects.create(company=world.ours.company, name="New", parent=world.ours.team,
                               ancestry=f"{world.ours.team.ancestry}{world.ours.team.pk}/")
    added = DocumentFactory(company=world.ours.company, team=team, project=None)
    assert document_ids(client) == before | {added.pk}


def test_callers_never_share_a_page(world):
    # The same URL, one after the other: each caller gets the page of what they may see.
    callers = [
        bearer_client(world.ours.people["viewer"]),
        bearer_client(world.namesake.people["viewer"]),
        client_for(world.ours.keys["read"]),
        client_for(world.stranger.keys["read"]),
    ]
    seen = [document_ids(client) for client in callers]
    assert seen[0] == {world.ours.document.pk}
    assert seen[1] == {world.namesake.document.pk}
    assert seen[2] == {world.ours.document.pk}
    assert seen[3] == {world.stranger.document.pk}


def test_a_key_without_the_read_scope_is_refused_even_after_a_kept_page(world):
    assert document_ids(client_for(world.ours.keys["read"])) == {world.ours.document.pk}
    key = world.ours.keys["read"]
    key.scopes = "write"
    key.save()
    assert client_for(key).get("/api/v1/documents/").status_code == 403


def test_filters_and_pages_are_kept_apart(world):
    client = bearer_client(world.ours.people["owner"])
    extra = DocumentFactory(company=world.ours.company, team=None, project=None)
    everything = document_ids(client)
    assert client.get(f"/api/v1/documents/?team={world.ours.sub_team.pk}").json()["results"][0][
        "id"] == world.ours.document.pk
    first = client.get("/api/v1/documents/?limit=1").json()
    second = client.get("/api/v1/documents/?limit=1&offset=1").json()
    assert {first["results"][0]["id"], second["results"][0]["id"]} == everything == {
        world.ours.document.pk, extra.pk}


def test_keeping_can_be_turned_off(world, settings):
    settings.API_LIST_CACHE_SECONDS = 0
    client = bearer_client(world.ours.people["viewer"])
    page(client)
    _, again = page(client)
    assert read_documents(again)


def test_the_tables_read_follow_related_columns():
    assert list_cache.tables_read(Document, ["id", "company", "project__code"]) == (
        "projects_document", "projects_project")
