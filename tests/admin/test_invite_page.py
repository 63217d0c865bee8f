"""The admin's "Invite a person" page on a company."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from backoffice.projects.demo import demo_setup
from rbac.models import Company, Membership, Role, Team, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return demo_setup()


@pytest.fixture
def acme():
    return Company.objects.get(name="Acme", country="DE")


def invite_url(company):
    return reverse("admin:rbac_company_invite", args=[company.pk])


def login(client, email):
    client.force_login(User.objects.get(email=email))
    return client


def test_the_company_page_links_to_the_invite_page_for_its_administrators(client, demo, acme):
    page = login(client, demo.scoped_staff[0]).get(
        reverse("admin:rbac_company_change", args=[acme.pk]))
    assert invite_url(acme) in page.content.decode()


def test_the_invite_page_offers_only_roles_up_to_ones_own_and_the_companys_teams(
    client, demo, acme, django_assert_max_num_queries
):
    login(client, demo.scoped_staff[0])
    with django_assert_max_num_queries(20):
        page = client.get(invite_url(acme))
    assert page.status_code == 200
    roles = {role.slug for role in page.context["form"].fields["role"].queryset}
    assert "owner" not in roles and {"admin", "viewer"} <= roles
    html = page.content.decode()
    assert "Engineering › Platform" in html
    teams = page.context["form"].fields["team"].queryset
    assert set(teams.values_list("company_id", flat=True)) == {acme.pk}


def test_a_company_admin_invites_a_new_person_into_a_team(client, demo, acme):
    platform = Team.objects.get(company=acme, name="Platform")
    response = login(client, demo.scoped_staff[0]).post(invite_url(acme), {
        "email": "Newcomer@Example.com", "role": Role.objects.get(slug="editor").pk,
        "team": platform.pk, "_save": "Invite",
    }, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:rbac_company_change", args=[acme.pk])
    assert "Invited newcomer@example.com as Editor" in response.content.decode()
    membership = Membership.objects.get(user__email="newcomer@example.com")
    assert (membership.company, membership.team, membership.role.slug) == (acme, platform, "editor")
    assert mail.outbox[0].to == ["newcomer@example.com"]


def test_a_role_above_ones_own_is_refused_and_nothing_is_written(client, demo, acme):
    response = login(client, demo.scoped_staff[0]).post(invite_url(acme), {
        "email": "boss@example.com", "role": Role.objects.get(slug="owner").pk,
    })
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    assert not User.objects.filter(email="boss@example.com").exists()


def test_a_superuser_may_invite_an_owner(client, demo, acme):
    login(client, demo.superuser[0]).post(invite_url(acme), {
        "email": "boss@example.com", "role": Role.objects.get(slug="owner").pk,
    })
    assert Membership.objects.get(user__email="boss@example.com").role.slug == "owner"


def test_another_companys_invite_page_is_404_and_a_non_administrator_gets_403(client, demo):
    login(client, demo.scoped_staff[0])
    nordlicht = Company.objects.get(name="Nordlicht Logistik")
    assert client.get(invite_url(nordlicht)).status_code == 404
    assert client.post(invite_url(nordlicht), {"email": "x@example.com"}).status_code == 404
    acme = Company.objects.get(name="Acme", country="DE")
    client.force_login(User.objects.get(email="viewer@acme.de"))
    User.objects.filter(email="viewer@acme.de").update(is_staff=True)
    assert client.get(invite_url(acme)).status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()


def test_a_mail_that_cannot_be_sent_is_said_and_the_person_still_invited(
    client, demo, acme, monkeypatch
):
    def refuse(self, *args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    response = login(client, demo.scoped_staff[0]).post(invite_url(acme), {
        "email": "unlucky@example.com", "role": Role.objects.get(slug="viewer").pk,
    }, follow=True)
    assert "could not be sent" in response.content.decode()
    assert Membership.objects.filter(user__email="unlucky@example.com", company=acme).exists()
