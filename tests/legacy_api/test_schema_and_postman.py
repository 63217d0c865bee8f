"""The legacy endpoints in the OpenAPI schema (their own deprecated group) and in the
Postman export (a "legacy" folder)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import get_resolver

from backoffice.legacy_api import urls as legacy_urls

pytestmark = pytest.mark.django_db

LEGACY_PREFIXES = ("/v1/", "/oauth/", "/api/members", "/api/companies", "/api/teams",
                   "/api/files", "/api/grants")


def legacy_paths() -> set[str]:
    paths = set()
    for pattern in legacy_urls.urlpatterns:
        route = "/" + str(pattern.pattern)
        for converter in ("int:", "str:"):
            route = route.replace(f"<{converter}", "{")
        paths.add(route.replace(">", "}"))
    return {p for p in paths if p.startswith(LEGACY_PREFIXES)}


def test_every_legacy_route_is_mounted():
    assert get_resolver().resolve("/v1/organizations").url_name == "core-organizations"
    assert get_resolver().resolve("/api/members/me").url_name == "portal-me"
    assert len(legacy_paths()) == 21


def test_schema_documents_every_legacy_operation_as_deprecated_in_its_own_group(client):
    schema = client.get("/api/schema/?format=json").json()
    operations = {(path, method): op for path, ops in schema["paths"].items()
                  for method, op in ops.items() if path.startswith(LEGACY_PREFIXES)}
    assert {path for path, _ in operations} == legacy_paths()
    assert all(op["deprecated"] is True for op in operations.values())
    tags = {tag for op in operations.values() for tag in op["tags"]}
    assert tags == {"legacy: Core /v1 (deprecated)", "legacy: Portal /api (deprecated)"}
    new = [op for path, ops in schema["paths"].items() if path.startswith("/api/v1/")
           for op in ops.values()]
    assert not any(op.get("deprecated") for op in new)


def test_postman_export_has_a_legacy_folder_with_every_legacy_operation(tmp_path):
    out = tmp_path / "api.postman_collection.json"
    call_command("export_postman", "--out", str(out))
    folders = {f["name"]: f["item"] for f in json.loads(out.read_text())["item"]}
    assert list(folders)[-1] == "legacy"
    raws = [item["request"]["url"]["raw"] for item in folders["legacy"]]
    assert len(raws) == 33  # 32 legacy operations and the lookup by legacy id
    assert raws[0] == "{{base_url}}/v1/organizations"  # fills the ids the others use
    assert not any("{" in raw.replace("{{", "").replace("}}", "") for raw in raws)
    assert all(folders["legacy"][0]["event"][0]["script"]["exec"])
    for name, items in folders.items():
        if name != "legacy":
            assert not any("/v1/" in i["request"]["url"]["raw"].replace("/api/v1/", "")
                           for i in items)
