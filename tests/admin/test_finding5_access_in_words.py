"""Finding 5: the access view says who can do what in sentences, with real line breaks."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from rbac import services
from rbac.access_words import join_words, permissions_in_words
from tests import factories

pytestmark = pytest.mark.django_db


def _access_row(html: str, email: str) -> str:
    table = html[html.index("<table class='access-view'>"):]
    return next(row for row in re.findall(r"<tr>.*?</tr>", table, re.S) if email in row)


def test_the_access_view_breaks_lines_and_says_what_each_grant_allows(
    client, superuser, company
):
    warehouse = factories.TeamFactory(company=company, name="Warehouse")
    person = factories.UserFactory(email="clerk@acme.test")
    factories.member(person, company, "viewer")
    factories.member(person, company, "editor", team=warehouse)
    services.grant_object_permission(user=person, obj=company, action="view_billing")
    client.force_login(superuser)
    html = client.get(reverse("admin:rbac_company_change", args=[company.pk])).content.decode()
    row = _access_row(html, "clerk@acme.test")
    assert "&lt;br&gt;" not in html
    assert row.count("<br>") >= 2
    assert "Viewer role in the whole company" in row
    assert "Editor role in team Warehouse" in row
    assert "direct grant on the company: see billing" in row
    assert ("In team Warehouse: can view, add and change documents and projects; view "
            "memberships, teams and the company.") in row
    assert "In the whole company: can view documents, memberships, projects, teams" in row


def test_the_access_view_shows_the_first_members_and_links_to_the_rest(
    client, superuser, company
):
    for number in range(30):
        factories.member(factories.UserFactory(email=f"p{number:02d}@acme.test"), company,
                         "viewer")
    client.force_login(superuser)
    html = client.get(reverse("admin:rbac_company_change", args=[company.pk])).content.decode()
    assert "p24@acme.test" in html and "p25@acme.test" not in html
    assert "The first 25 of 30 members" in html


def test_permissions_are_grouped_by_what_may_be_done():
    words = permissions_in_words([
        "projects.view_document", "projects.change_document", "projects.view_project",
        "projects.change_project", "rbac.view_team", "rbac.manage_permissions",
    ])
    assert words == "view and change documents and projects; view teams; manage who can do what"
    assert join_words(["a", "b", "c"]) == "a, b and c"
    assert permissions_in_words([]) == "nothing"
