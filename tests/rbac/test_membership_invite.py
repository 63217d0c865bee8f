"""Inviting a person by e-mail: new people get a set-password e-mail, known ones a role."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from rbac import services
from rbac.models import Membership, User
from rbac.principals import APIKeyPrincipal
from tests.factories import APIKeyFactory, CompanyFactory, TeamFactory, UserFactory, member, role

pytestmark = pytest.mark.django_db
BASE_URL = "https://backoffice.example.com"


@pytest.fixture
def admin(company):
    person = UserFactory(email="admin@acme.example")
    member(person, company, "admin")
    return person


def invite(actor, company, email, slug="viewer", team=None):
    return services.membership_invite(
        actor=actor, company=company, email=email, role=role(slug), team=team, base_url=BASE_URL
    )


def test_a_new_address_becomes_a_user_without_password_who_is_sent_the_set_password_mail(
    admin, company
):
    result = invite(admin, company, "  New.Person@Example.COM ")
    assert result.user_created and result.email_sent
    assert result.user.email == "new.person@example.com"
    assert not result.user.has_usable_password()
    assert result.membership.role.slug == "viewer" and result.membership.team is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert f"{BASE_URL}/accounts/reset/" in mail.outbox[0].body


def test_a_known_person_gets_the_membership_and_no_mail(admin, company):
    known = UserFactory(email="known@example.com")
    result = invite(admin, company, "KNOWN@example.com", "editor")
    assert result.user == known
    assert not result.user_created and not result.email_sent
    assert Membership.objects.get(user=known, company=company).role.slug == "editor"
    assert mail.outbox == []
    assert known.has_usable_password()


def test_inviting_twice_changes_nothing_and_sends_one_mail(admin, company):
    first = invite(admin, company, "twice@example.com")
    second = invite(admin, company, "Twice@Example.com")
    assert second.membership.pk == first.membership.pk
    assert not second.user_created
    assert User.objects.filter(email__iexact="twice@example.com").count() == 1
    assert Membership.objects.filter(user=first.user).count() == 1
    assert len(mail.outbox) == 1


def test_an_invitation_into_a_team_gives_the_role_there(admin, company):
    team = TeamFactory(company=company, name="Sales")
    result = invite(admin, company, "seller@example.com", "editor", team=team)
    assert result.membership.team == team


def test_a_team_of_another_company_is_refused(admin, company):
    elsewhere = TeamFactory(company=CompanyFactory(name="Globex"))
    with pytest.raises(ValidationError):
        invite(admin, company, "x@example.com", team=elsewhere)
    assert not User.objects.filter(email="x@example.com").exists()


def test_nobody_invites_with_a_role_above_their_own_and_nothing_is_written(admin, company):
    with pytest.raises(PermissionDenied, match="outranks"):
        invite(admin, company, "boss@example.com", "owner")
    assert not User.objects.filter(email="boss@example.com").exists()
    assert mail.outbox == []


def test_an_invitation_cannot_lower_someone_who_outranks_the_actor(admin, company):
    owner = UserFactory(email="owner@example.com")
    member(owner, company, "owner")
    with pytest.raises(PermissionDenied):
        invite(admin, company, "owner@example.com", "viewer")
    assert Membership.objects.get(user=owner, company=company).role.slug == "owner"


def test_a_member_who_does_not_administer_the_company_cannot_invite(company):
    editor = UserFactory()
    member(editor, company, "editor")
    with pytest.raises(PermissionDenied, match="do not administer"):
        invite(editor, company, "friend@example.com")
    assert not User.objects.filter(email="friend@example.com").exists()


def test_an_admin_of_another_company_cannot_invite_here(admin, company):
    other = CompanyFactory(name="Globex")
    with pytest.raises(PermissionDenied):
        invite(admin, other, "intruder@example.com")
    assert not Membership.objects.filter(company=other).exists()


def test_an_invalid_address_is_refused(admin, company):
    with pytest.raises(ValidationError):
        invite(admin, company, "not an address")
    assert User.objects.count() == 1


def test_an_api_key_cannot_invite_as_the_rank_rule_needs_a_person(company):
    key = APIKeyPrincipal(APIKeyFactory(company=company, scopes="admin"))
    with pytest.raises(PermissionDenied, match="API key"):
        invite(key, company, "by-key@example.com")
    assert not User.objects.filter(email="by-key@example.com").exists()
