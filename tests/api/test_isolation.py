"""Nothing of another company leaks to anyone: every endpoint × every role and key scope ×
a namesake company (same name, other country) and an unrelated one."""

from __future__ import annotations

import pytest

from backoffice.projects.models import DocumentUserObjectPermission
from rbac.models import Membership

from .conftest import KEY_SCOPES, ROLES

pytestmark = pytest.mark.django_db

CALLERS = [("person", slug) for slug in ROLES] + [("key", scope) for scope in KEY_SCOPES]
FOREIGN = ["namesake", "stranger"]


def caller_of(objects, kind: str, name: str):
    return objects.people[name] if kind == "person" else objects.keys[name]


def grant_id(objects) -> str:
    row = DocumentUserObjectPermission.objects.get(content_object=objects.document)
    return f"document-{row.pk}"


# endpoint -> (id of a company's object there, company of a list row)
ENDPOINTS = {
    "companies": (lambda o: o.company.pk, lambda row, w: row["id"]),
    "teams": (lambda o: o.team.pk, lambda row, w: row["company"]),
    "memberships": (
        lambda o: Membership.objects.get(user=o.people["viewer"]).pk,
        lambda row, w: row["company"],
    ),
    "projects": (lambda o: o.project.pk, lambda row, w: row["company"]),
    "documents": (lambda o: o.document.pk, lambda row, w: row["company"]),
    "grants": (grant_id, lambda row, w: w.ours.company.pk
               if row["resource_id"] == w.ours.document.pk else None),
}
WRITES = {
    "companies": [("patch", {"name": "Hijacked"})],
    "teams": [("patch", {"name": "Hijacked"})],
    "memberships": [("patch", {"role": "viewer"}), ("delete", None)],
    "projects": [("patch", {"name": "Hijacked"}), ("delete", None)],
    "documents": [("delete", None)],
    "grants": [("delete", None)],
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("kind", "name"), CALLERS)
def test_list_holds_only_the_callers_company(world, api, endpoint, kind, name):
    _, company_of = ENDPOINTS[endpoint]
    response = api(caller_of(world.ours, kind, name)).get(f"/api/v1/{endpoint}/?limit=200")
    assert response.status_code == 200
    companies = {company_of(row, world) for row in response.json()["results"]}
    assert companies <= {world.ours.company.pk}


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e not in {"companies", "grants"}])
@pytest.mark.parametrize(("kind", "name"), CALLERS)
@pytest.mark.parametrize("foreign", FOREIGN)
def test_filter_on_another_company_gives_an_empty_list(world, api, endpoint, kind, name, foreign):
    other = getattr(world, foreign).company
    response = api(caller_of(world.ours, kind, name)).get(f"/api/v1/{endpoint}/?company={other.pk}")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(("kind", "name"), CALLERS)
def test_company_filters_never_return_the_namesake(world, api, kind, name):
    client = api(caller_of(world.ours, kind, name))
    by_name = client.get("/api/v1/companies/?name=acme").json()["results"]
    by_country = client.get("/api/v1/companies/?country=FR").json()["results"]
    assert {row["id"] for row in by_name} <= {world.ours.company.pk}
    assert by_country == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("kind", "name"), CALLERS)
@pytest.mark.parametrize("foreign", FOREIGN)
def test_detail_of_another_companys_object_is_404(world, api, endpoint, kind, name, foreign):
    object_id, _ = ENDPOINTS[endpoint]
    target = object_id(getattr(world, foreign))
    response = api(caller_of(world.ours, kind, name)).get(f"/api/v1/{endpoint}/{target}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("kind", "name"), CALLERS)
@pytest.mark.parametrize("foreign", FOREIGN)
def test_writes_to_another_companys_object_read_like_an_unknown_id_and_change_nothing(
    world, api, endpoint, kind, name, foreign
):
    object_id, _ = ENDPOINTS[endpoint]
    target = object_id(getattr(world, foreign))
    unknown = "document-987654321" if endpoint == "grants" else 987654321
    client = api(caller_of(world.ours, kind, name))
    owner = api(getattr(world, foreign).people["owner"])
    before = owner.get(f"/api/v1/{endpoint}/{target}/").json()
    for method, body in WRITES[endpoint]:
        response = getattr(client, method)(f"/api/v1/{endpoint}/{target}/", body)
        baseline = getattr(client, method)(f"/api/v1/{endpoint}/{unknown}/", body)
        assert (response.status_code, response.json()) == (baseline.status_code, baseline.json())
        # A read-only key is refused every write (403) before any object is looked up.
        expected = 403 if (kind, name) == ("key", "read") else 404
        assert response.status_code == expected, (method, response.content)
    assert owner.get(f"/api/v1/{endpoint}/{target}/").json() == before


CREATES = {
    "teams": lambda w, company: {"company": company, "name": "Intruders"},
    "projects": lambda w, company: {"company": company, "code": "X-1", "name": "Intrusion"},
    "documents": lambda w, company: {"company": company, "original_name": "x.pdf"},
    "memberships": lambda w, company: {
        "company": company, "user": w.ours.people["viewer"].pk, "role": "viewer"
    },
}


@pytest.mark.parametrize("endpoint", CREATES)
@pytest.mark.parametrize(("kind", "name"), CALLERS)
def test_creating_in_another_company_reads_exactly_like_an_unknown_id(
    world, api, endpoint, kind, name
):
    client = api(caller_of(world.ours, kind, name))
    foreign = client.post(
        f"/api/v1/{endpoint}/", CREATES[endpoint](world, world.namesake.company.pk)
    )
    unknown = client.post(f"/api/v1/{endpoint}/", CREATES[endpoint](world, 987654321))
    assert foreign.status_code == unknown.status_code
    assert foreign.status_code == (403 if (kind, name) == ("key", "read") else 400)
    assert foreign.json() == unknown.json()


@pytest.mark.parametrize(("kind", "name"), CALLERS)
def test_granting_on_another_companys_document_reads_like_an_unknown_one(world, api, kind, name):
    client = api(caller_of(world.ours, kind, name))
    body = {
        "user": world.ours.people["viewer"].pk,
        "resource_type": "document",
        "permission": "view",
    }
    foreign = client.post("/api/v1/grants/", {**body, "resource_id": world.namesake.document.pk})
    unknown = client.post("/api/v1/grants/", {**body, "resource_id": 987654321})
    assert foreign.status_code == unknown.status_code
    assert foreign.json() == unknown.json()


@pytest.mark.parametrize(("kind", "name"), CALLERS)
def test_people_of_another_company_cannot_be_given_roles_here(world, api, kind, name):
    client = api(caller_of(world.ours, kind, name))
    body = {"company": world.ours.company.pk, "role": "viewer"}
    foreign = client.post(
        "/api/v1/memberships/", {**body, "user": world.namesake.people["viewer"].pk}
    )
    unknown = client.post("/api/v1/memberships/", {**body, "user": 987654321})
    assert foreign.status_code == unknown.status_code
    assert foreign.json() == unknown.json()
    assert not Membership.objects.filter(
        user=world.namesake.people["viewer"], company=world.ours.company
    ).exists()
