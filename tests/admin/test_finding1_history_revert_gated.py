"""Issue 13, finding 1: the history pages let any staff member make themselves superuser.

simple-history's history list and revert form answered for users outside the staff
member's company, and its revert POST saved whatever the historical row held, flags
included. The admin site's gate (rbac.admin_site) now asks change permission for history
and 404s objects outside the person's scope; a revert goes through the change form.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from backoffice.projects.models import Project
from rbac.models import Role, User
from tests.factories import (
    APIKeyFactory,
    CompanyFactory,
    ProjectFactory,
    StaffUserFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db


def _history_urls(obj) -> tuple[str, str]:
    prefix = f"admin:{obj._meta.app_label}_{obj._meta.model_name}"
    version = obj.history.latest("history_date").history_id
    return (reverse(f"{prefix}_history", args=[obj.pk]),
            reverse(f"{prefix}_simple_history", args=[obj.pk, version]))


@pytest.fixture
def world():
    own, other = CompanyFactory(name="Own"), CompanyFactory(name="Other")
    staff = StaffUserFactory(email="staff@own.example")
    member(staff, own, "admin")
    outsider = UserFactory(email="someone@other.example")
    member(outsider, other, "owner")
    return {"own": own, "other": other, "staff": staff, "outsider": outsider}


def _user_form(user: User, **flags) -> dict[str, str]:
    data = {"email": user.email, "first_name": "Taken", "last_name": "Over", "is_active": "on"}
    data.update({name: "on" for name, value in flags.items() if value})
    return data


def test_history_of_another_companys_user_is_not_found(client, world):
    client.force_login(world["staff"])
    for url in _history_urls(world["outsider"]):
        assert client.get(url).status_code == 404, url


def test_staff_cannot_make_themselves_superuser_through_a_revert(client, world):
    staff = world["staff"]
    client.force_login(staff)
    _, revert = _history_urls(staff)
    response = client.post(revert, _user_form(staff, is_staff=True, is_superuser=True))
    staff.refresh_from_db()
    assert not staff.is_superuser
    assert response.status_code == 403


def test_reverting_another_companys_user_is_not_found_and_changes_nothing(client, world):
    outsider = world["outsider"]
    client.force_login(world["staff"])
    _, revert = _history_urls(outsider)
    response = client.post(revert, _user_form(outsider, is_staff=True))
    outsider.refresh_from_db()
    assert response.status_code == 404
    assert (outsider.first_name, outsider.is_staff) != ("Taken", True)


def test_a_company_admin_cannot_revert_a_global_role(client, world):
    viewer = Role.objects.get(slug="viewer")
    viewer.save()  # the seeded roles have no version yet
    rank, permissions = viewer.rank, set(viewer.permissions.values_list("pk", flat=True))
    client.force_login(world["staff"])
    history, revert = _history_urls(viewer)
    assert client.get(history).status_code == 403
    response = client.post(revert, {"name": viewer.name, "slug": viewer.slug, "rank": "99",
                                    "permissions": list(range(1, 171))})
    viewer.refresh_from_db()
    assert response.status_code == 403
    assert viewer.rank == rank
    assert set(viewer.permissions.values_list("pk", flat=True)) == permissions


@pytest.mark.parametrize(("slug", "status"), [("editor", 200), ("viewer", 403)])
def test_history_of_own_content_needs_change_permission(client, world, slug, status):
    person = StaffUserFactory()
    member(person, world["own"], slug)
    project = ProjectFactory(company=world["own"])
    client.force_login(person)
    history, version = _history_urls(project)
    assert client.get(history).status_code == status
    assert client.get(version).status_code == status


def test_a_revert_leaves_the_fields_the_change_form_hides(client, world):
    # Reverting a key to the version before its revocation must not bring it back.
    api_key = APIKeyFactory(company=world["own"], name="ci", scopes="read")
    before_revocation = api_key.history.latest("history_date").history_id
    api_key.revoked_at = timezone.now()
    api_key.save()
    client.force_login(world["staff"])
    url = reverse("admin:rbac_apikey_simple_history", args=[api_key.pk, before_revocation])
    response = client.post(url, {"name": "ci renamed", "scopes": ["read"]})
    api_key.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert api_key.name == "ci renamed"
    assert api_key.revoked_at is not None


def test_a_revert_to_another_companys_version_is_refused(client, world):
    # An object that moved company keeps its old versions; reverting to one may not move it
    # back into a company the person does not administer.
    project = ProjectFactory(company=world["other"], code="P-1", name="Moved")
    old_version = project.history.latest("history_date").history_id
    project.company = world["own"]
    project.save()
    client.force_login(world["staff"])
    url = reverse("admin:projects_project_simple_history", args=[project.pk, old_version])
    client.post(url, {"code": "P-1", "name": "Moved", "status": project.status,
                      "budget": "", "company": world["other"].pk})
    assert Project.objects.get(pk=project.pk).company_id == world["own"].pk


def test_the_superuser_still_reverts(client, world, superuser):
    outsider = world["outsider"]
    client.force_login(superuser)
    _, revert = _history_urls(outsider)
    response = client.post(revert, _user_form(outsider))
    outsider.refresh_from_db()
    assert response.status_code == 302
    assert outsider.first_name == "Taken"

