"""The access profile a process keeps between requests never outlives a change of access."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from rbac.models import Membership
from rbac.tokens import access_token_issue

from .conftest import client_for

pytestmark = pytest.mark.django_db


def bearer_client(person) -> APIClient:
    """A client that authenticates every request afresh, as a real API client does."""
    client = APIClient()
    raw = access_token_issue(user=person, scopes=frozenset({"read"})).raw
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def document_ids(client) -> set[int]:
    response = client.get("/api/v1/documents/")
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_a_role_revoked_through_the_api_hides_documents_on_the_next_request(world):
    viewer = world.ours.people["viewer"]
    client = bearer_client(viewer)
    assert world.ours.document.pk in document_ids(client)
    membership = Membership.objects.get(user=viewer, company=world.ours.company)
    admin = client_for(world.ours.people["admin"])
    assert admin.delete(f"/api/v1/memberships/{membership.pk}/").status_code == 204
    assert document_ids(client) == set()


def test_a_role_removed_behind_the_process_s_back_hides_documents_on_the_next_request(world):
    # As another worker, or the importer, would: no service of this process is told.
    viewer = world.ours.people["editor"]
    client = bearer_client(viewer)
    assert world.ours.document.pk in document_ids(client)
    Membership.objects.filter(user=viewer).delete()
    assert document_ids(client) == set()


def test_the_next_request_reuses_the_profile_while_access_is_unchanged(world):
    client = bearer_client(world.ours.people["manager"])
    with CaptureQueriesContext(connection) as first:
        first_ids = document_ids(client)
    with CaptureQueriesContext(connection) as second:
        assert document_ids(client) == first_ids
    assert len(second) < len(first)
    assert not any("rbac_membership" in q["sql"] for q in second.captured_queries)
