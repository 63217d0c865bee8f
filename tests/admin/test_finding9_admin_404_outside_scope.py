"""Issue 13, finding 9 (admin side): another company's objects answer 404, not 403 or a
redirect, so a staff member cannot tell which ids exist elsewhere."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rbac.models import APIKey, Company, Membership, Team, User
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

PAGES = ("change", "delete", "history")


@pytest.fixture
def foreign_objects():
    other = CompanyFactory(name="Other")
    outsider = UserFactory()
    return {
        Company: other,
        Team: TeamFactory(company=other),
        Membership: member(outsider, other, "viewer"),
        User: outsider,
        APIKey: APIKeyFactory(company=other),
        "project": ProjectFactory(company=other),
        "document": DocumentFactory(company=other),
    }


@pytest.fixture
def company_admin(client):
    person = StaffUserFactory()
    member(person, CompanyFactory(name="Own"), "admin")
    client.force_login(person)
    return person


def _urls(obj) -> list[str]:
    prefix = f"admin:{obj._meta.app_label}_{obj._meta.model_name}"
    version = obj.history.latest("history_date").history_id
    urls = [reverse(f"{prefix}_{page}", args=[obj.pk]) for page in PAGES]
    urls.append(reverse(f"{prefix}_simple_history", args=[obj.pk, version]))
    if obj._meta.model_name in {"company", "team", "project", "document"}:
        urls.append(reverse(f"{prefix}_permissions", args=[obj.pk]))
    return urls


def test_finding9_another_companys_objects_are_not_found_in_the_admin(
    client, company_admin, foreign_objects
):
    answers = {url: client.get(url).status_code
               for obj in foreign_objects.values() for url in _urls(obj)}
    assert {url: status for url, status in answers.items() if status != 404} == {}


def test_finding9_a_post_to_another_companys_object_is_not_found(
    client, company_admin, foreign_objects
):
    team = foreign_objects[Team]
    response = client.post(reverse("admin:rbac_team_change", args=[team.pk]),
                           {"name": "Renamed", "company": team.company_id})
    team.refresh_from_db()
    assert response.status_code == 404
    assert team.name != "Renamed"


def test_finding9_own_objects_still_open(client, company_admin):
    own = company_admin.memberships.get().company
    for url in _urls(own):
        # An Admin may not delete the company itself (owners only): refused, not hidden.
        expected = 403 if url.endswith("/delete/") else 200
        assert client.get(url).status_code == expected, url
