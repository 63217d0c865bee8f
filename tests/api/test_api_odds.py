"""Unknown API URLs answer the JSON error envelope; ?search= filters lists; the schema is
served as JSON to whoever asks for JSON."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/nothing-here/", "/api/v2/companies/", "/api/",
                                 "/api/v1/companies/1/not-an-action/"])
def test_an_unknown_api_url_answers_the_json_error_envelope(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.",
                                         "details": None}}


def test_an_unknown_url_outside_the_api_stays_an_html_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_an_api_url_without_its_slash_is_still_redirected(client):
    response = client.get("/api/v1/companies")
    assert response.status_code == 301
    assert response["Location"].endswith("/api/v1/companies/")


@pytest.mark.parametrize("ask", [{"HTTP_ACCEPT": "application/json"}, {"format": "json"}])
def test_the_schema_is_json_for_whoever_asks_for_json(client, ask):
    data = {"format": ask["format"]} if "format" in ask else {}
    headers = {k: v for k, v in ask.items() if k.startswith("HTTP_")}
    response = client.get("/api/schema/", data, **headers)
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    assert json.loads(response.content)["openapi"].startswith("3.")


def test_a_browser_asking_for_html_gets_the_schema_it_can_read(client):
    response = client.get(
        "/api/schema/",
        HTTP_ACCEPT="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    )
    assert response.status_code == 200
    assert json.loads(response.content)["openapi"].startswith("3.")


def test_the_schema_names_the_search_parameter_of_the_lists(client):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    for path in ("/api/v1/companies/", "/api/v1/teams/", "/api/v1/memberships/",
                 "/api/v1/projects/", "/api/v1/documents/"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert "search" in names, path


def _names(response, key):
    assert response.status_code == 200, response.content
    return sorted(row[key] for row in response.json()["results"])


def test_search_finds_companies_teams_projects_and_documents_by_name(world, api):
    owner = api(world.ours.people["owner"])
    assert _names(owner.get("/api/v1/companies/", {"search": "acm"}), "name") == ["Acme"]
    assert _names(owner.get("/api/v1/companies/", {"search": "globex"}), "name") == []
    assert _names(owner.get("/api/v1/teams/", {"search": "platf"}), "name") == ["Platform"]
    assert _names(owner.get("/api/v1/projects/", {"search": "p-1"}), "code") == ["P-1"]
    document = world.ours.document
    found = owner.get("/api/v1/documents/", {"search": document.original_name[2:-2]})
    assert _names(found, "id") == [document.pk]


def test_search_finds_members_by_email_and_stays_within_reach(world, api):
    owner = api(world.ours.people["owner"])
    email = world.ours.people["viewer"].email
    found = owner.get("/api/v1/memberships/", {"search": email.split("@")[0]})
    viewer = world.ours.people["viewer"]
    assert [row["user"]["id"] for row in found.json()["results"]] == [viewer.pk]
    foreign = world.stranger.people["viewer"].email
    assert owner.get("/api/v1/memberships/", {"search": foreign}).json()["results"] == []


def test_a_superusers_search_of_members_goes_through_the_indexed_search(world, api, superuser):
    root = api(superuser)
    viewer = world.ours.people["viewer"]
    found = root.get("/api/v1/memberships/", {"search": viewer.email})
    assert [row["user"]["id"] for row in found.json()["results"]] == [viewer.pk]
    both = root.get("/api/v1/memberships/", {"search": "viewer example.test"}).json()["results"]
    assert len(both) == 3  # the viewer of each of the three companies
