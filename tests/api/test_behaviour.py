"""Writes, the rank rule, me, errors, throttling, health and the documentation pages."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from rest_framework.test import APIClient

from backoffice.api.throttling import APIKeyRateThrottle, UserRateThrottle
from rbac.models import Membership

pytestmark = pytest.mark.django_db


def test_editor_may_change_a_project_but_a_viewer_gets_403(world, api):
    url = f"/api/v1/projects/{world.ours.project.pk}/"
    assert api(world.ours.people["viewer"]).patch(url, {"name": "Nope"}).status_code == 403
    response = api(world.ours.people["editor"]).patch(url, {"name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


def test_direct_change_grant_lets_a_viewer_nothing_more_than_that_document(world, api):
    viewer = api(world.ours.people["viewer"])
    assert viewer.delete(f"/api/v1/documents/{world.ours.document.pk}/").status_code == 403


def test_admin_cannot_grant_the_owner_role_rank_rule(world, api):
    response = api(world.ours.people["admin"]).post("/api/v1/memberships/", {
        "user": world.ours.people["viewer"].pk, "company": world.ours.company.pk, "role": "owner",
    })
    assert response.status_code == 403
    assert "outranks" in response.json()["error"]["message"]


def test_a_role_name_with_a_nul_byte_is_an_unknown_role_not_a_server_error(world, api):
    # PostgreSQL cannot compare text holding NUL; schemathesis found the 500 this was.
    response = api(world.ours.people["admin"]).post("/api/v1/memberships/", {
        "user": world.ours.people["viewer"].pk, "company": world.ours.company.pk,
        "role": "edi\x00tor",
    })
    assert response.status_code == 400
    assert "role" in response.json()["error"]["details"]


def test_admin_can_promote_a_viewer_to_editor(world, api):
    membership = Membership.objects.get(user=world.ours.people["viewer"])
    response = api(world.ours.people["admin"]).patch(
        f"/api/v1/memberships/{membership.pk}/", {"role": "editor"}
    )
    assert response.status_code == 200
    assert response.json()["role"]["slug"] == "editor"


def test_admin_cannot_revoke_the_owner(world, api):
    membership = Membership.objects.get(user=world.ours.people["owner"])
    response = api(world.ours.people["admin"]).delete(f"/api/v1/memberships/{membership.pk}/")
    assert response.status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_admin_grants_and_revokes_a_direct_permission(world, api):
    client = api(world.ours.people["admin"])
    created = client.post("/api/v1/grants/", {
        "user": world.ours.people["billing"].pk, "resource_type": "project",
        "resource_id": world.ours.project.pk, "permission": "view",
    })
    assert created.status_code == 201, created.content
    assert world.ours.people["billing"].has_perm("projects.view_project", world.ours.project)
    assert client.delete(f"/api/v1/grants/{created.json()['id']}/").status_code == 204


def test_editor_cannot_see_grants(world, api):
    assert api(world.ours.people["editor"]).get("/api/v1/grants/").json()["results"] == []


def test_me_for_a_person_lists_roles_and_direct_grants(world, api):
    body = api(world.ours.people["viewer"]).get("/api/v1/me/").json()
    assert body["kind"] == "user"
    assert [m["role"]["slug"] for m in body["memberships"]] == ["viewer"]
    assert body["object_permissions"] == [
        {"resource_type": "document", "resource_id": world.ours.document.pk, "permission": "change"}
    ]


def test_me_for_an_api_key_gives_its_company_and_scopes(world, api):
    body = api(world.ours.keys["read write"]).get("/api/v1/me/").json()
    assert body["kind"] == "api_key"
    assert body["api_key"]["company"]["id"] == world.ours.company.pk
    assert body["api_key"]["scopes"] == ["read", "write"]
    assert body["user"] is None


def test_errors_share_one_format(world, api):
    body = api(world.ours.people["admin"]).post("/api/v1/projects/", {"name": ""}).json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "invalid"
    assert "company" in body["error"]["details"]


def test_duplicate_project_code_is_a_400_not_a_server_error(world, api):
    response = api(world.ours.people["admin"]).post("/api/v1/projects/", {
        "company": world.ours.company.pk, "code": world.ours.project.code, "name": "Twin",
    })
    assert response.status_code == 400


def test_unauthenticated_request_is_401_in_the_error_format():
    response = APIClient().get("/api/v1/companies/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_pages_link_forward_without_counting(world, api):
    client = api(world.ours.people["admin"])
    first = client.get("/api/v1/memberships/?limit=2").json()
    assert len(first["results"]) == 2 and first["previous"] is None
    second = client.get(first["next"]).json()
    assert {m["id"] for m in second["results"]}.isdisjoint({m["id"] for m in first["results"]})


@pytest.mark.parametrize(("caller", "throttle"), [
    (lambda w: w.ours.keys["read"], APIKeyRateThrottle),
    (lambda w: w.ours.people["viewer"], UserRateThrottle),
])
def test_throttled_caller_gets_429_with_retry_after(world, api, monkeypatch, caller, throttle):
    cache.clear()
    monkeypatch.setattr(throttle, "rate", "2/min", raising=False)
    client = api(caller(world))
    statuses = [client.get("/api/v1/companies/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get("/api/v1/companies/")
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "throttled"


def test_throttle_counts_each_key_separately(world, api, monkeypatch):
    cache.clear()
    monkeypatch.setattr(APIKeyRateThrottle, "rate", "1/min", raising=False)
    assert api(world.ours.keys["read"]).get("/api/v1/me/").status_code == 200
    assert api(world.ours.keys["admin"]).get("/api/v1/me/").status_code == 200


def test_healthz_touches_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200


def test_readyz_answers_from_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/readyz")
    assert response.json() == {"status": "ok", "database": "ok"}


def test_schema_is_openapi_3_and_lists_every_resource(client):
    response = client.get("/api/schema/?format=json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for resource in ("companies", "teams", "memberships", "projects", "documents", "grants"):
        assert f"/api/v1/{resource}/" in schema["paths"]


def test_swagger_ui_uses_only_assets_served_by_the_project(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn." not in page and "unpkg" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
