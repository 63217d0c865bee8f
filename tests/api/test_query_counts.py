"""Every list endpoint runs the same number of queries whatever the page holds."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rbac import services
from rbac.access import forget_built_profiles
from rbac.models import User
from tests.factories import DocumentFactory, ProjectFactory, TeamFactory, UserFactory, member

from .conftest import client_for

pytestmark = pytest.mark.django_db

LISTS = ["companies", "teams", "memberships", "projects", "documents", "grants", "me"]
MAX_QUERIES = 10


def add_rows(world, n: int) -> None:
    ours = world.ours
    for _ in range(n):
        team = TeamFactory(company=ours.company, parent=ours.team)
        ProjectFactory(company=ours.company, team=team)
        document = DocumentFactory(company=ours.company, team=team)
        person = UserFactory()
        member(person, ours.company, "viewer", team=team)
        services.grant_object_permission(user=person, obj=document, action="view")


def build_afresh() -> None:
    """Make the next request build its profile and its page (no kept page, no kept profile)."""
    forget_built_profiles()
    caches["pages"].clear()


def queries_for(caller, endpoint: str) -> int:
    build_afresh()
    fresh = User.objects.get(pk=caller.pk)
    client = client_for(fresh)
    url = "/api/v1/me/" if endpoint == "me" else f"/api/v1/{endpoint}/?limit=100"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("endpoint", LISTS)
@pytest.mark.parametrize("role", ["admin", "manager"])
def test_list_runs_a_fixed_number_of_queries_per_page(world, endpoint, role):
    caller = world.ours.people[role]
    queries_for(caller, endpoint)  # warms the process-wide content-type cache
    small = queries_for(caller, endpoint)
    add_rows(world, 15)
    large = queries_for(caller, endpoint)
    assert large == small
    assert large <= MAX_QUERIES


@pytest.mark.parametrize("endpoint", LISTS[:-1])
def test_list_for_an_api_key_runs_a_fixed_number_of_queries(world, endpoint):
    key = world.ours.keys["admin"]
    client_for(key).get(f"/api/v1/{endpoint}/")  # warms the content-type cache
    build_afresh()
    with CaptureQueriesContext(connection) as small:
        client_for(key).get(f"/api/v1/{endpoint}/?limit=100")
    add_rows(world, 15)
    build_afresh()
    with CaptureQueriesContext(connection) as large:
        response = client_for(key).get(f"/api/v1/{endpoint}/?limit=100")
    assert response.status_code == 200
    assert len(large) == len(small) <= MAX_QUERIES


def test_superuser_list_never_counts_rows(world, superuser):
    with CaptureQueriesContext(connection) as captured:
        client_for(superuser).get("/api/v1/documents/")
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)
