"""/api/v1's isolation matrix through the legacy paths: every role and key scope, a
namesake company in another country and an unrelated one. Another company's id is a 404
in the legacy error shape, for reads and writes alike; lists hold only the caller's own."""

from __future__ import annotations

import pytest

from backoffice.legacy_api.ids import NEW_ID_OFFSET
from tests.api.conftest import KEY_SCOPES, ROLES, client_for

pytestmark = pytest.mark.django_db

CALLERS = [("person", slug) for slug in ROLES] + [("key", scope) for scope in KEY_SCOPES]
FOREIGN = ["namesake", "stranger"]


def legacy(obj) -> int:
    """Objects made after cut-over (as the factories make them) have no legacy row."""
    return NEW_ID_OFFSET + obj.pk


# (method, path of a company's object, body)
CORE = [
    ("get", lambda o: f"/v1/organizations/{legacy(o.company)}", None),
    ("put", lambda o: f"/v1/organizations/{legacy(o.company)}", {"name": "Hijacked"}),
    ("get", lambda o: f"/v1/organizations/{legacy(o.company)}/departments", None),
    ("post", lambda o: f"/v1/organizations/{legacy(o.company)}/departments", {"name": "X"}),
    ("get", lambda o: f"/v1/users?org={legacy(o.company)}", None),
    ("post", lambda o: f"/v1/users?org={legacy(o.company)}",
     {"email": "x@example.test", "roles": ["MEMBER"]}),
    ("get", lambda o: f"/v1/users/{legacy(o.people['viewer'])}", None),
    ("patch", lambda o: f"/v1/users/{legacy(o.people['viewer'])}", {"active": False}),
    ("put", lambda o: f"/v1/users/{legacy(o.people['viewer'])}/roles", {"roles": ["MEMBER"]}),
    ("post", lambda o: f"/v1/projects?org={legacy(o.company)}", {"code": "X", "name": "X"}),
    ("get", lambda o: f"/v1/projects/{legacy(o.project)}", None),
    ("put", lambda o: f"/v1/projects/{legacy(o.project)}", {"name": "Hijacked"}),
    ("delete", lambda o: f"/v1/projects/{legacy(o.project)}", None),
    ("get", lambda o: f"/v1/projects/{legacy(o.project)}/documents", None),
    ("post", lambda o: f"/v1/projects/{legacy(o.project)}/documents", {}),
    ("get", lambda o: f"/v1/documents/{legacy(o.document)}/download", None),
]
PORTAL = [
    ("get", lambda o: f"/api/companies/{legacy(o.company)}", None),
    ("get", lambda o: f"/api/companies/{legacy(o.company)}/teams", None),
    ("post", lambda o: f"/api/companies/{legacy(o.company)}/teams", {"team_name": "X"}),
    ("get", lambda o: f"/api/teams/{legacy(o.team)}/members", None),
    ("put", lambda o: f"/api/teams/{legacy(o.team)}/members/{legacy(o.people['viewer'])}",
     {"team_role": "viewer"}),
    ("delete", lambda o: f"/api/teams/{legacy(o.team)}/members/{legacy(o.people['viewer'])}",
     None),
    ("get", lambda o: f"/api/files?teamId={legacy(o.sub_team)}", None),
    ("get", lambda o: f"/api/files/{legacy(o.document)}", None),
]


class Ghost:
    """A company whose objects do not exist: what an unknown id answers."""

    pk = 987_654_321

    def __init__(self) -> None:
        self.company = self.team = self.sub_team = self.project = self.document = self
        self.people = {"viewer": self}


def caller_of(objects, kind: str, name: str):
    return objects.people[name] if kind == "person" else objects.keys[name]


def request(client, method: str, path: str, body):
    return getattr(client, method)(path, body, format="json") if body is not None else \
        getattr(client, method)(path)


def assert_reads_like_an_unknown_id(world, kind, name, foreign, method, path, body):
    """A foreign object answers as an unknown id does: 404 for people; a key may be refused
    with 403 first (a read-only key's write, a key setting roles), before any object is
    looked up, as on /api/v1."""
    client = client_for(caller_of(world.ours, kind, name))
    answer = request(client, method, path(getattr(world, foreign)), body)
    baseline = request(client, method, path(Ghost()), body)
    allowed = {404, 403} if kind == "key" and method != "get" else {404}
    assert answer.status_code in allowed, (answer.status_code, answer.content)
    assert (answer.status_code, answer.json()) == (baseline.status_code, baseline.json())
    return answer


@pytest.mark.parametrize("foreign", FOREIGN)
@pytest.mark.parametrize(("kind", "name"), CALLERS)
@pytest.mark.parametrize(("method", "path", "body"), CORE)
def test_core_another_companys_object_is_not_found(world, kind, name, foreign, method, path,
                                                   body):
    answer = assert_reads_like_an_unknown_id(world, kind, name, foreign, method, path, body)
    assert set(answer.json()) == {"error", "message"}
    assert answer.json()["error"] == ("forbidden" if answer.status_code == 403 else "not_found")


@pytest.mark.parametrize("foreign", FOREIGN)
@pytest.mark.parametrize(("kind", "name"), CALLERS)
@pytest.mark.parametrize(("method", "path", "body"), PORTAL)
def test_portal_another_companys_object_is_not_found(world, kind, name, foreign, method, path,
                                                     body):
    answer = assert_reads_like_an_unknown_id(world, kind, name, foreign, method, path, body)
    assert set(answer.json()) == {"message"}


def test_writes_through_legacy_paths_change_nothing_of_another_company(world):
    namesake = world.namesake
    before = (namesake.company.name, namesake.project.name, namesake.project.pk)
    client = client_for(world.ours.people["owner"])
    for method, path, body in CORE + PORTAL:
        if method != "get":
            request(client, method, path(namesake), body)
    namesake.company.refresh_from_db()
    namesake.project.refresh_from_db()
    assert (namesake.company.name, namesake.project.name, namesake.project.pk) == before


@pytest.mark.parametrize(("kind", "name"), CALLERS)
def test_core_lists_hold_only_the_callers_company(world, kind, name):
    client = client_for(caller_of(world.ours, kind, name))
    ours = legacy(world.ours.company)
    organizations = client.get("/v1/organizations").json()["items"]
    assert {o["id"] for o in organizations} <= {ours}
    projects = client.get("/v1/projects").json()["items"]
    assert {p["organizationId"] for p in projects} <= {ours}


@pytest.mark.parametrize(("kind", "name"), CALLERS)
def test_our_own_objects_answer_as_on_the_new_api(world, kind, name):
    client = client_for(caller_of(world.ours, kind, name))
    ours = world.ours
    pairs = [
        (f"/api/v1/companies/{ours.company.pk}/", f"/api/companies/{legacy(ours.company)}"),
        (f"/api/v1/companies/{ours.company.pk}/", f"/v1/organizations/{legacy(ours.company)}"),
        (f"/api/v1/projects/{ours.project.pk}/", f"/v1/projects/{legacy(ours.project)}"),
        (f"/api/v1/documents/{ours.document.pk}/", f"/api/files/{legacy(ours.document)}"),
    ]
    for new, old in pairs:
        assert client.get(old).status_code == client.get(new).status_code, old
    if kind == "key" or name not in {"manager", "billing"}:
        assert client.get(pairs[0][1]).json()["company_id"] == legacy(ours.company)


def test_a_foreign_grant_is_not_found(world):
    owner = client_for(world.namesake.people["owner"])
    created = owner.post("/api/grants", {
        "member_id": legacy(world.namesake.people["editor"]), "resource_type": "team",
        "resource_id": legacy(world.namesake.team), "perms": 1}, format="json")
    assert created.status_code == 201, created.content
    ours = client_for(world.ours.people["owner"])
    answer = ours.delete(f"/api/grants/{created.json()['grant_id']}")
    assert answer.status_code == 404 and set(answer.json()) == {"message"}


def test_a_grant_on_a_foreign_resource_is_refused_as_unknown(world):
    ours = client_for(world.ours.people["owner"])
    answer = ours.post("/api/grants", {
        "member_id": legacy(world.ours.people["editor"]), "resource_type": "team",
        "resource_id": legacy(world.stranger.team), "perms": 1}, format="json")
    assert answer.status_code == 400 and set(answer.json()) == {"message"}
