"""Finding 1: changing a member's role from a team's page saved nothing or raised a 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from rbac import services
from rbac.admin_members import members_url
from rbac.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def engineering(company):
    return factories.TeamFactory(company=company, name="Engineering")


@pytest.fixture
def team_member(engineering):
    person = factories.UserFactory(email="dev@acme.test")
    return factories.member(person, engineering.company, "viewer", team=engineering)


def _team_form(team) -> dict[str, str]:
    legacy = "importers-legacyrecord-content_type-object_id"
    return {"name": team.name, "company": str(team.company_id), "parent": "",
            "created_at_0": "2024-01-01", "created_at_1": "10:00:00",
            f"{legacy}-TOTAL_FORMS": "0", f"{legacy}-INITIAL_FORMS": "0",
            "_continue": "Save"}


def test_posting_a_team_page_with_a_changed_member_role_is_not_a_500(
    client, superuser, engineering, team_member
):
    # The members inline once posted these fields and TeamAdmin saved them with
    # CompanyAdmin's code, which took the team for a company: ValueError, a 500.
    client.raise_request_exception = False
    client.force_login(superuser)
    prefix = "memberships"
    data = {
        **_team_form(engineering),
        f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-id": str(team_member.pk), f"{prefix}-0-team": str(engineering.pk),
        f"{prefix}-0-user": str(team_member.user_id),
        f"{prefix}-0-role": str(factories.role("editor").pk),
    }
    response = client.post(reverse("admin:rbac_team_change", args=[engineering.pk]), data)
    assert response.status_code == 302


def _members_list_post(client, url: str, changes: dict) -> object:
    """Post the members list's role column for the given {membership: role} changes."""
    data = {"form-TOTAL_FORMS": str(len(changes)), "form-INITIAL_FORMS": str(len(changes)),
            "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000", "_save": "Save"}
    for index, (membership, role) in enumerate(changes.items()):
        data[f"form-{index}-id"] = str(membership.pk)
        data[f"form-{index}-role"] = str(role.pk)
    return client.post(url, data)


def test_the_team_page_links_to_its_members_list(client, superuser, engineering, team_member):
    factories.member(factories.UserFactory(email="other@acme.test"), engineering.company,
                     "viewer")  # a company-wide role: not on the team's list
    client.force_login(superuser)
    page = client.get(reverse("admin:rbac_team_change", args=[engineering.pk]))
    link = page.content.decode()
    assert "Members (1)" in link
    url = members_url(engineering)
    assert url in link.replace("&amp;", "&")
    listing = client.get(url)
    assert [m.pk for m in listing.context["cl"].result_list] == [team_member.pk]
    assert listing.context["title"] == "Members of Acme (DE) › Engineering"


def test_a_members_role_is_changed_from_the_team_members_list(
    client, superuser, engineering, team_member
):
    client.force_login(superuser)
    response = _members_list_post(client, members_url(engineering),
                                  {team_member: factories.role("editor")})
    assert response.status_code == 302
    team_member.refresh_from_db()
    assert team_member.role.slug == "editor"


def test_moving_a_membership_to_a_team_keeps_the_persons_direct_grants(engineering):
    person = factories.UserFactory()
    company_wide = factories.member(person, engineering.company, "viewer")
    services.grant_object_permission(user=person, obj=engineering.company, action="view")
    moved = services.membership_save(
        membership=company_wide, user=person, company=engineering.company,
        team=engineering, role=factories.role("editor"),
    )
    assert list(Membership.objects.filter(user=person).values_list("pk", flat=True)) == [
        moved.pk]
    assert moved.team == engineering and moved.role.slug == "editor"
    assert person.has_perm("rbac.view_company", engineering.company)


def test_a_refused_change_of_scope_leaves_the_membership_where_it_was(engineering):
    admin_person = factories.UserFactory()
    factories.member(admin_person, engineering.company, "admin")
    owner = factories.member(factories.UserFactory(), engineering.company, "owner")
    with pytest.raises(PermissionDenied):
        services.membership_save(
            membership=owner, user=owner.user, company=engineering.company,
            team=engineering, role=factories.role("viewer"), actor=admin_person,
        )
    owner.refresh_from_db()
    assert owner.team is None and owner.role.slug == "owner"
