"""Finding 4: a refused grant is one error and nothing saved, never "changed successfully"."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from rbac.admin_members import members_url
from rbac.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def company_admin(client, company):
    person = factories.StaffUserFactory(email="admin@acme.test")
    factories.member(person, company, "admin")
    client.force_login(person)
    return person


@pytest.fixture
def viewer(company):
    return factories.member(factories.UserFactory(email="viewer@acme.test"), company, "viewer")


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _refused(response) -> None:
    assert response.status_code == 200  # the form again, with its error
    html = response.content.decode()
    assert "You cannot grant Owner (rank 5)" in html
    assert not any("success" in text for text in _messages(response))
    assert "successfully" not in html


def test_granting_owner_on_the_add_page_is_refused_and_saves_nothing(
    client, company, company_admin, viewer
):
    newcomer = factories.UserFactory(email="new@acme.test")
    factories.member(newcomer, company, "viewer", team=factories.TeamFactory(company=company))
    before = set(Membership.objects.values_list("pk", "role_id", "team_id"))
    response = client.post(reverse("admin:rbac_membership_add"), {
        "user": newcomer.pk, "company": company.pk, "team": "",
        "role": factories.role("owner").pk, "_save": "Save",
    })
    _refused(response)
    assert set(Membership.objects.values_list("pk", "role_id", "team_id")) == before


def test_raising_a_member_to_owner_on_the_members_list_is_refused(
    client, company, company_admin, viewer
):
    response = client.post(members_url(company), {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000", "form-0-id": viewer.pk,
        "form-0-role": factories.role("owner").pk, "_save": "Save",
    })
    _refused(response)
    viewer.refresh_from_db()
    assert viewer.role.slug == "viewer"


def test_lowering_the_owner_is_refused_and_the_owner_stays(client, company, company_admin):
    owner = factories.member(factories.UserFactory(email="boss@acme.test"), company, "owner")
    response = client.post(reverse("admin:rbac_membership_change", args=[owner.pk]), {
        "user": owner.user_id, "company": company.pk, "team": "",
        "role": factories.role("viewer").pk, "_save": "Save",
    })
    assert response.status_code == 200
    assert "You cannot grant Owner (rank 5)" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role.slug == "owner"


def test_removing_the_owner_is_refused(client, company, company_admin):
    owner = factories.member(factories.UserFactory(email="boss@acme.test"), company, "owner")
    response = client.post(reverse("admin:rbac_membership_delete", args=[owner.pk]),
                           {"post": "yes"})
    assert response.status_code == 403
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_an_allowed_change_on_the_members_list_says_so_and_saves(
    client, company, company_admin, viewer
):
    # The list posts every row of the page, the owner's (which the admin may not change)
    # unchanged among them.
    owner = factories.member(factories.UserFactory(email="boss@acme.test"), company, "owner")
    response = client.post(members_url(company), {
        "form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "2", "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000", "form-0-id": viewer.pk,
        "form-0-role": factories.role("editor").pk, "form-1-id": owner.pk,
        "form-1-role": owner.role_id, "_save": "Save",
    })
    assert response.status_code == 302
    assert any("changed successfully" in text for text in _messages(response))
    viewer.refresh_from_db()
    assert viewer.role.slug == "editor"


def test_a_bulk_removal_including_the_owner_removes_nobody(client, company, company_admin, viewer):
    owner = factories.member(factories.UserFactory(email="boss@acme.test"), company, "owner")
    response = client.post(members_url(company), {
        "action": "delete_selected", "post": "yes", "_selected_action": [viewer.pk, owner.pk],
    })
    assert response.status_code == 403
    assert Membership.objects.filter(pk__in=[viewer.pk, owner.pk]).count() == 2
