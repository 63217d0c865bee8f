"""Portal `pk_` keys keep working as sent today; a key acts for its company, within its scopes."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.api.authentication import APIKeyAuthentication
from rbac.admin_auth import APIKeyCreateOnceMixin
from rbac.hashers import sha256_hex
from rbac.models import APIKey
from rbac.principals import APIKeyPrincipal
from rbac.tokens import api_key_create
from tests.factories import (
    CompanyFactory,
    TeamFactory,
    UserFactory,
    legacy_rows,
    legacy_truth,
    portal_api_key,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rbac.auth_urls")]

WHOAMI = "/api/test/whoami"
PORTAL_KEYS = legacy_truth()["known_portal_keys"]


@pytest.fixture
def portal_keys():
    """Every sample Portal key, in a company per Portal company, as the importer stores them."""
    companies = {}
    keys = {}
    for row in legacy_rows("portal", "api_key"):
        company = companies.setdefault(
            row["company_id"], CompanyFactory(name=f"Portal company {row['company_id']}")
        )
        keys[row["key_prefix"]] = portal_api_key(company=company, row=row)
    return keys


def _get(client, key: str, header: str = "x-api-key"):
    if header == "x-api-key":
        return client.get(WHOAMI, headers={"X-Api-Key": key})
    return client.get(WHOAMI, headers={"Authorization": f"Api-Key {key}"})


@pytest.mark.parametrize("header", ["x-api-key", "authorization"])
@pytest.mark.parametrize("known", PORTAL_KEYS, ids=[k["key"][:8] for k in PORTAL_KEYS])
def test_every_known_portal_key_authenticates_and_sees_only_its_company_or_gets_401_expired(
    client, portal_keys, known, header
):
    api_key = portal_keys[known["key"][:8]]

    response = _get(client, known["key"], header)

    if api_key.expires_at is not None and api_key.expires_at <= timezone.now():
        assert response.status_code == 401
        assert "expired" in response.content.decode()
    else:
        assert response.status_code == 200, response.content
        assert response.json()["company_id"] == api_key.company_id
        assert response.json()["visible_company_ids"] == [api_key.company_id]


def test_the_sample_holds_both_live_and_expired_portal_keys(portal_keys):
    now = timezone.now()
    expired = [k for k in portal_keys.values() if k.expires_at and k.expires_at <= now]
    assert expired and len(expired) < len(portal_keys)


def test_a_revoked_key_gets_401_saying_revoked(client, company):
    api_key, raw = api_key_create(company=company, name="k", scopes=["read"])
    api_key.revoked_at = timezone.now()
    api_key.save()

    response = _get(client, raw)

    assert response.status_code == 401
    assert "revoked" in response.content.decode()


@pytest.mark.parametrize(
    "raw", ["pk_00000000000000000000000000000000", "pk_", "not-a-key", "pk_12345 trailing"]
)
def test_an_unknown_or_malformed_key_gets_401(client, company, raw):
    api_key_create(company=company, name="k", scopes=["read"])

    assert _get(client, raw).status_code == 401


def test_a_right_prefix_with_a_wrong_secret_gets_401(client, company):
    _, raw = api_key_create(company=company, name="k", scopes=["read"])
    wrong = raw[:8] + ("0" if raw[8] != "0" else "1") + raw[9:]

    assert _get(client, wrong).status_code == 401


def test_keys_sharing_a_prefix_each_authenticate_as_their_own(client):
    first, second = CompanyFactory(), CompanyFactory()
    raw_first = "pk_abcde" + "1" * 27
    raw_second = "pk_abcde" + "2" * 27
    for company, raw in ((first, raw_first), (second, raw_second)):
        APIKey.objects.create(
            company=company, name="k", prefix=raw[:8], hashed_key=sha256_hex(raw), scopes="read"
        )

    assert _get(client, raw_first).json()["company_id"] == first.pk
    assert _get(client, raw_second).json()["company_id"] == second.pk


def test_no_credential_gets_401_not_403(client):
    assert client.get(WHOAMI).status_code == 401


def test_a_read_key_cannot_write_and_a_write_key_can(client, company):
    _, read_only = api_key_create(company=company, name="r", scopes=["read"])
    _, writer = api_key_create(company=company, name="w", scopes=["read", "write"])

    assert client.get(WHOAMI, headers={"X-Api-Key": read_only}).status_code == 200
    assert client.post(WHOAMI, headers={"X-Api-Key": read_only}).status_code == 403
    assert client.post(WHOAMI, headers={"X-Api-Key": writer}).status_code == 201


def test_a_key_acts_only_within_its_company_for_object_permissions(company):
    other = CompanyFactory()
    api_key, _ = api_key_create(company=company, name="k", scopes=["read", "write"])

    principal = APIKeyPrincipal(api_key)

    assert principal.has_perm("rbac.view_team", TeamFactory(company=company))
    assert not principal.has_perm("rbac.view_team", TeamFactory(company=other))


def test_last_used_is_written_at_most_once_a_minute(client, company):
    api_key, raw = api_key_create(company=company, name="k", scopes=["read"])

    _get(client, raw)
    api_key.refresh_from_db()
    first_use = api_key.last_used_at
    with CaptureQueriesContext(connection) as queries:
        _get(client, raw)

    api_key.refresh_from_db()
    assert first_use is not None
    assert api_key.last_used_at == first_use
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]


def test_last_used_is_written_again_after_a_minute(client, company):
    api_key, raw = api_key_create(company=company, name="k", scopes=["read"])
    long_ago = timezone.now() - timedelta(minutes=5)
    APIKey.objects.filter(pk=api_key.pk).update(last_used_at=long_ago)

    _get(client, raw)

    api_key.refresh_from_db()
    assert api_key.last_used_at > long_ago


def test_key_authentication_is_one_query(company):
    api_key, raw = api_key_create(company=company, name="k", scopes=["read"])
    APIKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    request = RequestFactory().get(WHOAMI, headers={"X-Api-Key": raw})

    with CaptureQueriesContext(connection) as queries:
        principal, auth = APIKeyAuthentication().authenticate(request)

    assert len(queries) == 1
    assert principal.company_id == company.pk and auth == api_key


def test_a_created_key_is_stored_as_its_sha256_only(company):
    api_key, raw = api_key_create(company=company, name="k", scopes=["write", "read"])

    assert raw.startswith("pk_") and len(raw) == 35
    assert api_key.prefix == raw[:8]
    assert api_key.hashed_key == sha256_hex(raw)
    assert raw not in {str(value) for value in APIKey.objects.values_list(flat=True)}
    assert api_key.scopes == "read write"


class _KeyAdmin(APIKeyCreateOnceMixin, admin.ModelAdmin):
    pass


def test_the_admin_shows_a_new_key_once_and_stores_only_its_hash(company):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().post(
        "/admin/rbac/apikey/add/",
        {"company": company.pk, "name": "ERP export", "scopes": ["read", "write"]},
    )
    request.user = superuser
    request._dont_enforce_csrf_checks = True
    request.session = {}

    response = _KeyAdmin(APIKey, admin.site).add_view(request)
    response.render()

    api_key = APIKey.objects.get(name="ERP export")
    page = response.content.decode()
    raw = page.split('id="api-key"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert raw.startswith(api_key.prefix)
    assert api_key.hashed_key == sha256_hex(raw)
    assert api_key.scopes == "read write"
    assert response["Cache-Control"] == "no-store"
