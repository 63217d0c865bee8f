"""A suspended or archived company: its keys and client tokens are refused, saying why, and
its roles give its members nothing, from the next request on; superusers still see it."""

from __future__ import annotations

import bcrypt
import pytest
from rest_framework.test import APIClient

from rbac.models import AccessVersion, APIKey, Company
from rbac.tokens import access_token_issue, api_key_create
from tests.factories import (
    CompanyFactory,
    DocumentFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
TOKEN = "/api/v1/auth/token"
NOT_ACTIVE = [Company.Status.SUSPENDED, Company.Status.ARCHIVED]
CLIENT_SECRET = "the client's long secret"


def _set_status(company: Company, status: str) -> None:
    # A bulk update, as scripts and the importer write: the database must notice it too.
    Company.objects.filter(pk=company.pk).update(status=status)


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _core_client(company: Company) -> APIKey:
    hashed = bcrypt.hashpw(CLIENT_SECRET.encode(), bcrypt.gensalt(4)).decode()
    return APIKey.objects.create(
        company=company, name="Core client", prefix="core-client-8", hashed_key=hashed,
        hash_scheme=APIKey.Scheme.BCRYPT, scopes="read write",
    )


def _ids(client: APIClient, path: str) -> set[int]:
    response = client.get(path)
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("status", NOT_ACTIVE)
def test_finding8_an_api_key_of_a_company_that_is_not_active_is_refused_saying_why(
    client, status
):
    company = CompanyFactory()
    _, raw = api_key_create(company=company, name="k", scopes={"read"})
    assert client.get(ME, headers={"X-Api-Key": raw}).status_code == 200

    _set_status(company, status)
    response = client.get(ME, headers={"X-Api-Key": raw})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert f"company is {status}" in response.json()["error"]["message"]


@pytest.mark.parametrize("status", NOT_ACTIVE)
def test_finding8_a_client_token_stops_when_its_company_stops(status):
    company = CompanyFactory()
    raw = access_token_issue(api_key=_core_client(company), scopes=frozenset({"read"})).raw
    client = _bearer(raw)
    assert client.get(ME).status_code == 200

    _set_status(company, status)
    response = client.get(ME)

    assert response.status_code == 401
    assert f"company is {status}" in response.json()["error"]["message"]


@pytest.mark.parametrize("status", NOT_ACTIVE)
def test_finding8_a_core_client_of_a_company_that_is_not_active_gets_no_token(client, status):
    company = CompanyFactory(status=status)
    _core_client(company)

    response = client.post(TOKEN, {"grant_type": "client_credentials",
                                   "client_id": "core-client-8", "client_secret": CLIENT_SECRET})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert f"company is {status}" in response.json()["error_description"]


@pytest.fixture
def two_companies():
    """A person administers two companies, each with a document."""
    person = UserFactory(email="anna@example.test")
    worlds = []
    for name in ("Acme", "Globex"):
        company = CompanyFactory(name=name)
        team = TeamFactory(company=company)
        project = ProjectFactory(company=company, team=team)
        document = DocumentFactory(company=company, team=team, project=project)
        member(person, company, "admin")
        worlds.append((company, document))
    return person, worlds


@pytest.mark.parametrize("status", NOT_ACTIVE)
def test_finding8_a_persons_roles_in_a_stopped_company_give_nothing_from_the_next_request(
    two_companies, status
):
    person, [(stopped, stopped_doc), (active, active_doc)] = two_companies
    client = _bearer(access_token_issue(user=person, scopes=frozenset({"read"})).raw)
    # Kept: the process's access profile and the API's list pages.
    assert _ids(client, "/api/v1/documents/") == {stopped_doc.pk, active_doc.pk}
    assert _ids(client, "/api/v1/companies/") == {stopped.pk, active.pk}

    _set_status(stopped, status)

    assert _ids(client, "/api/v1/documents/") == {active_doc.pk}
    assert _ids(client, "/api/v1/companies/") == {active.pk}
    assert client.get(f"/api/v1/documents/{stopped_doc.pk}/").status_code == 404


def test_finding8_a_session_on_the_api_follows_the_rule_too(two_companies):
    person, [(stopped, stopped_doc), (active, active_doc)] = two_companies
    client = APIClient()
    client.force_login(person)
    assert _ids(client, "/api/v1/documents/") == {stopped_doc.pk, active_doc.pk}

    _set_status(stopped, Company.Status.SUSPENDED)

    assert _ids(client, "/api/v1/documents/") == {active_doc.pk}


def test_finding8_an_active_company_again_gives_its_roles_back(two_companies):
    person, [(stopped, stopped_doc), (_, active_doc)] = two_companies
    client = _bearer(access_token_issue(user=person, scopes=frozenset({"read"})).raw)
    _set_status(stopped, Company.Status.SUSPENDED)
    assert _ids(client, "/api/v1/documents/") == {active_doc.pk}

    _set_status(stopped, Company.Status.ACTIVE)

    assert _ids(client, "/api/v1/documents/") == {stopped_doc.pk, active_doc.pk}


def test_finding8_a_status_change_moves_the_members_access_versions_and_nothing_else_does(
    two_companies,
):
    person, [(company, _), _] = two_companies
    outsider = UserFactory()

    def version(user) -> int:
        found = AccessVersion.objects.filter(user=user).first()
        return found.version if found else 0

    before, outsider_before = version(person), version(outsider)
    Company.objects.filter(pk=company.pk).update(name="Renamed")
    assert version(person) == before

    _set_status(company, Company.Status.ARCHIVED)

    assert version(person) == before + 1
    assert version(outsider) == outsider_before


def test_finding8_a_superuser_still_sees_a_suspended_company_in_the_admin(client, superuser):
    company = CompanyFactory(status=Company.Status.SUSPENDED)
    client.force_login(superuser)

    assert client.get(f"/admin/rbac/company/{company.pk}/change/").status_code == 200
    assert company.name.encode() in client.get("/admin/rbac/company/").content
