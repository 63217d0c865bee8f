"""A changelist runs the same number of queries for 5 rows as for 50."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rbac.access import forget_built_profiles
from tests.factories import (
    APIKeyFactory,
    CompanyFactory,
    DocumentFactory,
    ProjectFactory,
    StaffUserFactory,
    TeamFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db


def _rows(kind: str, company, count: int, team) -> None:
    for _ in range(count):
        if kind == "company":
            other = CompanyFactory()
            member(_rows.actor, other, "admin")
        elif kind == "team":
            TeamFactory(company=company, parent=team)
        elif kind == "membership":
            member(UserFactory(), company, "viewer", team=team)
        elif kind == "project":
            ProjectFactory(company=company, team=team)
        elif kind == "document":
            DocumentFactory(company=company, team=team, project=ProjectFactory(company=company))
        elif kind == "apikey":
            APIKeyFactory(company=company)
        elif kind == "user":
            member(UserFactory(), company, "viewer")


URLS = {
    "company": "admin:rbac_company_changelist",
    "team": "admin:rbac_team_changelist",
    "membership": "admin:rbac_membership_changelist",
    "project": "admin:projects_project_changelist",
    "document": "admin:projects_document_changelist",
    "apikey": "admin:rbac_apikey_changelist",
    "user": "admin:rbac_user_changelist",
}


def _queries_for(client, url) -> int:
    forget_built_profiles()  # the access profile is built within the request, every time
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("kind", sorted(URLS))
@pytest.mark.parametrize("who", ["superuser", "scoped"])
def test_changelist_query_count_does_not_grow_with_rows(client, kind, who):
    actor = StaffUserFactory(is_superuser=(who == "superuser"))
    company = CompanyFactory()
    team = TeamFactory(company=company)
    member(actor, company, "owner")
    _rows.actor = actor
    client.force_login(actor)
    url = reverse(URLS[kind])

    _rows(kind, company, 5, team)
    _queries_for(client, url)  # warm the per-process caches (content types, session)
    few = _queries_for(client, url)
    _rows(kind, company, 44, team)  # with the actor's own row, the list reaches 50
    many = _queries_for(client, url)

    assert many == few, f"{kind}: {few} queries for 5 rows but {many} for 50"


@pytest.mark.parametrize("who", ["superuser", "scoped"])
def test_later_pages_cost_the_same_queries_as_the_first_multi_page_list(client, who):
    actor = StaffUserFactory(is_superuser=(who == "superuser"))
    company = CompanyFactory()
    team = TeamFactory(company=company)
    member(actor, company, "owner")
    client.force_login(actor)
    url = reverse(URLS["document"])
    _rows("document", company, 60, team)
    _queries_for(client, url)
    two_pages = _queries_for(client, url)
    _rows("document", company, 60, team)
    third_page = _queries_for(client, url + "?p=3")
    assert third_page == two_pages
