"""Issue 13, finding 4: a billing member turned a key into an admin key in the admin.

The key's scopes were free text and its revocation could be cleared; adding a key failed
with 403 for everyone but superusers. Scopes are now a choice among those the person's own
role in the company covers (rbac.selectors.api_key_scopes_grantable), a key's company and
revocation are read-only, and a company's administrators add keys.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from rbac import selectors
from rbac.models import APIKey
from tests.factories import APIKeyFactory, CompanyFactory, StaffUserFactory, member

pytestmark = pytest.mark.django_db

ADD = reverse("admin:rbac_apikey_add")


def _change(api_key: APIKey) -> str:
    return reverse("admin:rbac_apikey_change", args=[api_key.pk])


@pytest.fixture
def own():
    return CompanyFactory(name="Own")


def _staff(company, slug: str):
    person = StaffUserFactory()
    member(person, company, slug)
    return person


@pytest.mark.parametrize(("slug", "grantable"), [
    ("owner", ("read", "write", "admin")),
    ("admin", ("read", "write")),
    ("manager", ()),
    ("billing", ()),
])
def test_a_role_grants_only_the_scopes_it_covers(own, slug, grantable):
    person = _staff(own, slug)
    assert selectors.api_key_scopes_grantable(user=person, company=own) == grantable
    assert selectors.api_key_scopes_grantable(user=person, company=CompanyFactory()) == ()


def test_billing_member_cannot_widen_a_key_to_admin(client, own):
    api_key = APIKeyFactory(company=own, scopes="read")
    client.force_login(_staff(own, "billing"))
    # As the page was posted: its company, and the scopes (free text until now, so the
    # last value counted).
    response = client.post(_change(api_key), {"company": own.pk, "name": api_key.name,
                                              "scopes": ["read", "write", "admin"]})
    api_key.refresh_from_db()
    assert api_key.scopes == "read"
    assert response.status_code == 200  # the form, with its error


def test_scopes_are_a_choice_not_free_text(client, own):
    api_key = APIKeyFactory(company=own, scopes="read")
    client.force_login(_staff(own, "admin"))
    page = client.get(_change(api_key)).content.decode()
    assert 'type="checkbox" name="scopes" value="write"' in page
    assert 'value="admin"' not in page  # an Admin's role does not cover it
    assert 'type="text" name="scopes"' not in page


def test_a_revoked_key_stays_revoked_and_in_its_company(client, own):
    revoked_at = timezone.now()
    api_key = APIKeyFactory(company=own, scopes="read", revoked_at=revoked_at)
    client.force_login(_staff(own, "owner"))
    response = client.post(_change(api_key), {
        "name": "renamed", "scopes": ["read"], "revoked_at_0": "", "revoked_at_1": "",
        "company": CompanyFactory().pk,
    })
    api_key.refresh_from_db()
    assert response.status_code == 302
    assert api_key.name == "renamed"
    assert api_key.revoked_at == revoked_at
    assert api_key.company_id == own.pk


def test_a_company_admin_adds_a_key(client, own):
    client.force_login(_staff(own, "admin"))
    response = client.post(ADD, {"company": own.pk, "name": "ci", "scopes": ["read", "write"]})
    assert response.status_code == 200
    api_key = APIKey.objects.get(company=own, name="ci")
    assert api_key.scopes == "read write"
    assert "Cache-Control" in response and "no-store" in response["Cache-Control"]


def test_a_company_admin_cannot_add_an_admin_key(client, own):
    client.force_login(_staff(own, "admin"))
    response = client.post(ADD, {"company": own.pk, "name": "ci", "scopes": ["admin"]})
    assert response.status_code == 200
    assert not APIKey.objects.filter(name="ci").exists()


def test_an_owner_adds_an_admin_key(client, own):
    client.force_login(_staff(own, "owner"))
    client.post(ADD, {"company": own.pk, "name": "ci", "scopes": ["admin"]})
    assert APIKey.objects.get(name="ci").scopes == "admin"


def test_nobody_adds_a_key_to_another_company(client, own):
    other = CompanyFactory(name="Other")
    client.force_login(_staff(own, "owner"))
    client.post(ADD, {"company": other.pk, "name": "ci", "scopes": ["read"]})
    assert not APIKey.objects.filter(name="ci").exists()
