"""POST /api/v1/auth/token: Core clients and people get short-lived bearer tokens."""

import base64
from datetime import timedelta

import bcrypt
import pytest
from django.utils import timezone

from rbac.models import AccessToken
from rbac.tokens import access_token_revoke, api_key_revoke
from tests.factories import (
    DEFAULT_PASSWORD,
    CompanyFactory,
    UserFactory,
    core_api_client,
    legacy_rows,
    legacy_truth,
    member,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.rbac.auth_urls")]

TOKEN = "/api/v1/auth/token"
WHOAMI = "/api/test/whoami"
CORE_CLIENTS = legacy_truth()["known_core_clients"]


@pytest.fixture
def core_clients():
    """Every sample Core client, in a company per Core organization, as the importer stores them."""
    companies = {}
    clients = {}
    for row in legacy_rows("core", "api_clients"):
        company = companies.setdefault(
            row["organization_id"], CompanyFactory(name=f"Core org {row['organization_id']}")
        )
        clients[row["client_id"]] = core_api_client(company=company, row=row)
    return clients


def _client_credentials(client, client_id: str, secret: str, **extra):
    data = {"grant_type": "client_credentials", "client_id": client_id,
            "client_secret": secret, **extra}
    return client.post(TOKEN, data)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("known", CORE_CLIENTS, ids=[c["client_id"] for c in CORE_CLIENTS])
def test_every_known_core_client_gets_a_token_that_sees_only_its_company_or_401_revoked(
    client, core_clients, known
):
    api_key = core_clients[known["client_id"]]

    response = _client_credentials(client, known["client_id"], known["secret"])

    if known["revoked"]:
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert "revoked" in response.json()["error_description"]
        return
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == api_key.scopes
    seen = client.get(WHOAMI, headers=_bearer(body["access_token"]))
    assert seen.status_code == 200
    assert seen.json()["company_id"] == api_key.company_id
    assert seen.json()["visible_company_ids"] == [api_key.company_id]


@pytest.fixture
def core_client(core_clients):
    known = next(c for c in CORE_CLIENTS if not c["revoked"])
    return core_clients[known["client_id"]], known["secret"]


def test_client_credentials_are_accepted_as_json(client, core_client):
    api_key, secret = core_client
    data = {"grant_type": "client_credentials", "client_id": api_key.prefix,
            "client_secret": secret}

    response = client.post(TOKEN, data, content_type="application/json")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_client_credentials_are_accepted_in_http_basic(client, core_client):
    api_key, secret = core_client
    basic = base64.b64encode(f"{api_key.prefix}:{secret}".encode()).decode()

    response = client.post(
        TOKEN, {"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )

    assert response.status_code == 200


def test_a_wrong_client_secret_gets_401_invalid_client(client, core_client):
    api_key, secret = core_client

    response = _client_credentials(client, api_key.prefix, secret + "x")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_an_unknown_client_gets_401_invalid_client(client, db):
    response = _client_credentials(client, "core_0000000000000000", "secret")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_narrower_scope_can_be_asked_for_and_then_cannot_write(client, core_client):
    api_key, secret = core_client
    assert "write" in api_key.scope_set

    body = _client_credentials(client, api_key.prefix, secret, scope="read").json()

    assert body["scope"] == "read"
    assert client.post(WHOAMI, headers=_bearer(body["access_token"])).status_code == 403


def test_a_scope_the_client_lacks_is_refused(client, core_client):
    api_key, secret = core_client
    api_key.scopes = "read"
    api_key.save()

    response = _client_credentials(client, api_key.prefix, secret, scope="read write")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_unsupported_and_missing_grant_types_get_oauth_errors(client, db):
    assert client.post(TOKEN, {"grant_type": "implicit"}).json()["error"] == (
        "unsupported_grant_type"
    )
    assert client.post(TOKEN, {}).json()["error"] == "invalid_request"


def test_only_the_tokens_hash_is_stored(client, core_client):
    api_key, secret = core_client

    raw = _client_credentials(client, api_key.prefix, secret).json()["access_token"]

    stored = AccessToken.objects.get()
    assert raw not in {stored.token_hash, *stored.scopes.split()}
    assert len(stored.token_hash) == 64


def test_a_bearer_request_never_runs_bcrypt(client, core_client, monkeypatch):
    api_key, secret = core_client
    raw = _client_credentials(client, api_key.prefix, secret).json()["access_token"]

    def refuse(*args):
        raise AssertionError("bcrypt on a request")

    monkeypatch.setattr(bcrypt, "checkpw", refuse)
    monkeypatch.setattr(bcrypt, "hashpw", refuse)

    assert client.get(WHOAMI, headers=_bearer(raw)).status_code == 200


def test_revoking_the_client_stops_its_tokens_with_401_saying_so(client, core_client):
    api_key, secret = core_client
    raw = _client_credentials(client, api_key.prefix, secret).json()["access_token"]

    api_key_revoke(api_key=api_key)
    response = client.get(WHOAMI, headers=_bearer(raw))

    assert response.status_code == 401
    assert "revoked" in response.content.decode()


def test_an_expired_token_gets_401_saying_expired(client, core_client):
    api_key, secret = core_client
    raw = _client_credentials(client, api_key.prefix, secret).json()["access_token"]
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(WHOAMI, headers=_bearer(raw))

    assert response.status_code == 401
    assert "expired" in response.content.decode()


def test_an_unknown_bearer_token_gets_401(client, db):
    response = client.get(WHOAMI, headers=_bearer("at_nothing"))

    assert response.status_code == 401
    assert 'Bearer realm="api"' in response["WWW-Authenticate"]


# --- people -----------------------------------------------------------------------------


def test_a_person_exchanges_email_and_password_for_a_token_that_acts_as_them(client):
    company = CompanyFactory()
    CompanyFactory()
    user = UserFactory(email="anna@example.test")
    member(user, company, "viewer")

    response = client.post(
        TOKEN, {"grant_type": "password", "username": "Anna@Example.test",
                "password": DEFAULT_PASSWORD},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    seen = client.get(WHOAMI, headers=_bearer(body["access_token"])).json()
    assert seen["email"] == "anna@example.test"
    assert seen["visible_company_ids"] == [company.pk]


def test_a_wrong_password_gets_invalid_grant(client, db):
    UserFactory(email="anna@example.test")

    response = client.post(
        TOKEN, {"grant_type": "password", "username": "anna@example.test", "password": "nope"}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_revoked_person_token_gets_401_saying_revoked(client, db):
    UserFactory(email="anna@example.test")
    raw = client.post(
        TOKEN, {"grant_type": "password", "email": "anna@example.test",
                "password": DEFAULT_PASSWORD},
        content_type="application/json",
    ).json()["access_token"]

    access_token_revoke(token=AccessToken.objects.get())
    response = client.get(WHOAMI, headers=_bearer(raw))

    assert response.status_code == 401
    assert "revoked" in response.content.decode()


def test_a_deactivated_persons_token_stops_working(client, db):
    user = UserFactory(email="anna@example.test")
    raw = client.post(
        TOKEN, {"grant_type": "password", "username": user.email, "password": DEFAULT_PASSWORD}
    ).json()["access_token"]

    user.is_active = False
    user.save()

    assert client.get(WHOAMI, headers=_bearer(raw)).status_code == 401


def test_a_body_that_does_not_parse_gets_an_oauth_invalid_request(client, db):
    response = client.post(TOKEN, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
