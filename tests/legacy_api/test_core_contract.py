"""Core's /v1 as its clients call it, against the imported sample: every endpoint of
LEGACY-API.md, answers compared field by field with the legacy rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from backoffice.legacy_api.ids import NEW_ID_OFFSET, object_pk
from rbac.models import Company, User
from rbac.tokens import access_token_issue, scopes_parse
from tests.factories import UserFactory, member

from .conftest import api_key, bearer, core_client_for, core_time, core_token, legacy_rows, truth

ORG = "3"  # Rapid Forge Studio: departments, users, projects and documents, all active
ROLE_RANK = {"ORG_ADMIN": 4, "DEPT_MANAGER": 3, "MEMBER": 2, "READ_ONLY": 1}


@pytest.fixture
def client(imported, db):
    """A Core integration: the organization's OAuth2 client, token from /oauth/token."""
    return bearer(core_token(core_client_for(ORG)))


@pytest.fixture
def staff(imported, db):
    """Core's SUPER_ADMIN (Platform Internal): sees every organization."""
    person = User.objects.get(email__iexact=legacy_rows("core", "users")["1"]["email"].strip())
    issued = access_token_issue(user=person, scopes=scopes_parse("", allowed=frozenset(
        {"read", "write", "admin"})))
    return bearer(issued.raw)


@pytest.fixture
def org_admin(imported, db):
    """A person with Core's ORG_ADMIN in the organization (roles are granted by people)."""
    person = UserFactory(email="admin@rapidforgestudio.dk")
    member(person, Company.objects.get(pk=object_pk("organization", ORG)), "admin")
    issued = access_token_issue(user=person, scopes=frozenset({"read", "write", "admin"}))
    return bearer(issued.raw)


def assert_core_error(answer, status: int, code: str) -> None:
    assert answer.status_code == status, answer.content
    body = answer.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == code and body["message"]


def assert_page(body: dict, *, offset: int = 0, limit: int = 50) -> None:
    assert set(body) == {"items", "total", "offset", "limit"}
    assert (body["offset"], body["limit"]) == (offset, limit)


def expected_organization(row: dict) -> dict:
    return {"id": int(row["id"]), "name": row["name"].strip(), "legalName": row["legal_name"],
            "vatNumber": row["vat_number"], "country": row["country"], "domain": row["domain"],
            "status": row["status"], "createdAt": core_time(row["created_at"])}


# --- authentication ---------------------------------------------------------------------


def test_oauth_token_answers_as_rfc_6749_with_the_legacy_client_secret(imported, db):
    known = core_client_for(ORG)
    answer = api_key("unused").post("/oauth/token", {
        "grant_type": "client_credentials", "client_id": known["client_id"],
        "client_secret": known["secret"]})
    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "read write admin" and body["access_token"]
    assert answer["Deprecation"].startswith("@") and answer["Sunset"].endswith("GMT")


def test_oauth_token_with_a_wrong_secret_is_invalid_client(imported, db):
    known = core_client_for(ORG)
    answer = api_key("unused").post("/oauth/token", {
        "grant_type": "client_credentials", "client_id": known["client_id"],
        "client_secret": "wrong"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_login_with_the_core_password_gives_a_token_that_reads_v1(imported, db):
    users = legacy_rows("core", "users")
    known = next(k for k in truth()["known_passwords"]
                 if k["source"] == "core" and users[str(k["legacy_id"])]["is_active"] == "true")
    answer = api_key("unused").post("/v1/auth/login", {"email": known["email"],
                                                       "password": known["password"]},
                                    format="json")
    assert answer.status_code == 200, answer.content
    assert set(answer.json()) == {"token", "expiresIn"} and answer.json()["expiresIn"] == 3600
    me = bearer(answer.json()["token"]).get(f"/v1/users/{known['legacy_id']}")
    assert me.status_code == 200 and me.json()["id"] == known["legacy_id"]


def test_login_with_a_wrong_password_is_invalid_credentials(imported, db):
    known = truth()["known_passwords"][0]
    answer = api_key("unused").post("/v1/auth/login", {"email": known["email"],
                                                       "password": "not it"}, format="json")
    assert_core_error(answer, 401, "invalid_credentials")


def test_a_request_without_a_token_is_unauthorized(imported, db):
    assert_core_error(api_key("unused").get("/v1/organizations"), 401, "unauthorized")


# --- organizations ----------------------------------------------------------------------


def test_organizations_list_every_core_organization_field_by_field(staff):
    rows = legacy_rows("core", "organizations")
    seen = {}
    for offset in range(0, 400, 200):
        body = staff.get(f"/v1/organizations?limit=200&offset={offset}").json()
        assert_page(body, offset=offset, limit=200)
        seen |= {item["id"]: item for item in body["items"]}
    core_ids = [i for i in seen if i < NEW_ID_OFFSET]
    assert body["total"] == len(seen)
    # Organizations entered twice were merged: one id stands for both.
    assert len(core_ids) >= len(rows) - 5
    # The Core copy's own values, except where a merge with Portal filled or renamed them.
    mismatched = [i for i in core_ids if seen[i] != expected_organization(rows[str(i)])]
    assert len(mismatched) <= len(core_ids) // 5, mismatched[:5]
    assert seen[int(ORG)] == expected_organization(rows[ORG])


def test_organizations_list_pages_with_offset_and_limit(staff):
    first = staff.get("/v1/organizations?limit=2").json()
    second = staff.get("/v1/organizations?limit=2&offset=2").json()
    assert_page(first, limit=2)
    assert len(first["items"]) == 2 and first["total"] > 4
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    assert staff.get("/v1/organizations?limit=999").json()["limit"] == 200


def test_a_client_sees_its_own_organization_only(client):
    body = client.get("/v1/organizations").json()
    assert body["total"] == 1
    assert body["items"] == [expected_organization(legacy_rows("core", "organizations")[ORG])]


def test_organization_detail_and_unknown_id(client):
    answer = client.get(f"/v1/organizations/{ORG}")
    assert answer.json() == expected_organization(legacy_rows("core", "organizations")[ORG])
    assert_core_error(client.get("/v1/organizations/2"), 404, "not_found")


def test_put_organization_changes_the_unified_company(client):
    answer = client.put(f"/v1/organizations/{ORG}", {
        "name": "Rapid Forge", "legalName": "Rapid Forge ApS", "vatNumber": "DK18190937",
        "domain": "rapidforge.dk"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["name"] == "Rapid Forge" and answer.json()["domain"] == "rapidforge.dk"
    assert client.get(f"/v1/organizations/{ORG}").json()["legalName"] == "Rapid Forge ApS"


def test_put_organization_with_a_bad_value_is_invalid_request(client):
    answer = client.put(f"/v1/organizations/{ORG}", {"name": ["not", "text"]}, format="json")
    assert_core_error(answer, 400, "invalid_request")


# --- departments ------------------------------------------------------------------------


def test_departments_field_by_field(client):
    rows = [r for r in legacy_rows("core", "departments").values() if r["organization_id"] == ORG]
    body = client.get(f"/v1/organizations/{ORG}/departments").json()
    assert_page(body)
    expected = [{"id": int(r["id"]), "organizationId": int(ORG),
                 "parentId": int(r["parent_id"]) if r["parent_id"] else None,
                 "name": r["name"].strip(), "createdAt": core_time(r["created_at"])}
                for r in rows]
    assert sorted(body["items"], key=lambda d: d["id"]) == expected
    assert body["total"] == len(rows)


def test_post_department_gets_a_legacy_shaped_id(client):
    answer = client.post(f"/v1/organizations/{ORG}/departments",
                         {"name": "Research", "parentId": 14}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["id"] > NEW_ID_OFFSET and body["parentId"] == 14
    assert body["organizationId"] == int(ORG) and body["name"] == "Research"
    listed = client.get(f"/v1/organizations/{ORG}/departments").json()["items"]
    assert body in listed


def test_post_department_with_another_organizations_parent_is_invalid_request(client):
    other = next(r for r in legacy_rows("core", "departments").values()
                 if r["organization_id"] != ORG)
    answer = client.post(f"/v1/organizations/{ORG}/departments",
                         {"name": "X", "parentId": int(other["id"])}, format="json")
    assert_core_error(answer, 400, "invalid_request")


# --- users ------------------------------------------------------------------------------


def expected_roles(user_id: str) -> list[str]:
    """The user's Core roles as the import keeps them: one per scope, highest rank wins."""
    names = {r["role"] for r in legacy_rows("core", "user_roles").values()
             if r["user_id"] == user_id}
    return sorted(names)


def test_users_of_an_organization_field_by_field(client):
    rows = {r["id"]: r for r in legacy_rows("core", "users").values()
            if r["organization_id"] == ORG}
    body = client.get(f"/v1/users?org={ORG}").json()
    assert_page(body)
    assert {str(u["id"]) for u in body["items"]} == set(rows)
    for user in body["items"]:
        row = rows[str(user["id"])]
        assert user["email"] == row["email"].strip().lower()
        assert user["fullName"] == row["full_name"]
        assert user["organizationId"] == int(ORG)
        assert user["departmentId"] == (int(row["department_id"]) if row["department_id"]
                                        else None)
        assert user["active"] is (row["is_active"] == "true")
        assert user["roles"] == expected_roles(row["id"])


def test_users_without_org_is_invalid_request(client):
    assert_core_error(client.get("/v1/users"), 400, "invalid_request")


def test_user_detail_and_patch(client):
    row = next(r for r in legacy_rows("core", "users").values() if r["organization_id"] == ORG)
    user = client.get(f"/v1/users/{row['id']}").json()
    assert user["id"] == int(row["id"]) and user["email"] == row["email"].strip().lower()
    unchanged = client.patch(f"/v1/users/{row['id']}", {"fullName": user["fullName"]},
                             format="json")
    assert unchanged.status_code == 200 and unchanged.json() == user
    changed = client.patch(f"/v1/users/{row['id']}", {"fullName": "Someone Else"},
                           format="json")
    assert_core_error(changed, 403, "forbidden")


def test_put_roles_replaces_the_users_roles(org_admin):
    client = org_admin
    row = next(r for r in legacy_rows("core", "users").values()
               if r["organization_id"] == ORG and r["department_id"])
    answer = client.put(f"/v1/users/{row['id']}/roles", {"roles": ["READ_ONLY", "BILLING"]},
                        format="json")
    # Billing and Read-only share the company scope: the higher rank stays, as on import.
    assert answer.status_code == 200, answer.content
    assert answer.json()["roles"] == ["READ_ONLY"]
    assert client.get(f"/v1/users/{row['id']}").json()["roles"] == ["READ_ONLY"]
    answer = client.put(f"/v1/users/{row['id']}/roles", {"roles": ["MEMBER"]}, format="json")
    assert answer.json()["roles"] == ["MEMBER"]


def test_an_api_client_may_not_change_roles(client):
    row = next(r for r in legacy_rows("core", "users").values() if r["organization_id"] == ORG)
    answer = client.put(f"/v1/users/{row['id']}/roles", {"roles": ["MEMBER"]}, format="json")
    assert_core_error(answer, 403, "forbidden")


def test_put_unknown_role_is_invalid_request(org_admin):
    client = org_admin
    row = next(r for r in legacy_rows("core", "users").values() if r["organization_id"] == ORG)
    answer = client.put(f"/v1/users/{row['id']}/roles", {"roles": ["LEGACY_AUDITOR"]},
                        format="json")
    assert_core_error(answer, 400, "invalid_request")


def test_invite_gives_an_existing_person_roles(org_admin):
    client = org_admin
    row = legacy_rows("core", "users")["38"]  # MEMBER of department 16
    answer = client.post(f"/v1/users?org={ORG}", {
        "email": row["email"], "fullName": row["full_name"], "departmentId": 14,
        "roles": ["DEPT_MANAGER"]}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["id"] == 38 and answer.json()["roles"] == ["DEPT_MANAGER"]
    assert answer.json()["departmentId"] == 14


def test_invite_of_someone_outside_the_organization_reads_as_unknown(org_admin):
    other = next(r for r in legacy_rows("core", "users").values()
                 if r["organization_id"] == "13" and r["is_active"] == "true")
    foreign = org_admin.post(f"/v1/users?org={ORG}", {"email": other["email"],
                                                      "roles": ["MEMBER"]}, format="json")
    unknown = org_admin.post(f"/v1/users?org={ORG}", {"email": "nobody@example.test",
                                                      "roles": ["MEMBER"]}, format="json")
    assert_core_error(foreign, 400, "invalid_request")
    assert foreign.json() == unknown.json()


# --- projects ---------------------------------------------------------------------------


def expected_project(row: dict) -> dict:
    return {"id": int(row["id"]), "organizationId": int(row["organization_id"]),
            "departmentId": int(row["department_id"]) if row["department_id"] else None,
            "code": row["code"], "name": row["name"], "status": row["status"],
            "budgetCents": int(row["budget_cents"]) if row["budget_cents"] else None,
            "archived": row["archived"] == "true", "createdAt": core_time(row["created_at"])}


def test_projects_field_by_field(client):
    rows = [r for r in legacy_rows("core", "projects").values() if r["organization_id"] == ORG]
    body = client.get(f"/v1/projects?org={ORG}").json()
    assert_page(body)
    assert body["items"] == [expected_project(r) for r in rows]


def test_project_create_read_update_delete(client):
    created = client.post(f"/v1/projects?org={ORG}", {
        "code": "PRJ-NEW", "name": "New", "departmentId": 14, "status": "active",
        "budgetCents": 12345}, format="json")
    assert created.status_code == 201, created.content
    project = created.json()
    assert project["id"] > NEW_ID_OFFSET and project["budgetCents"] == 12345
    assert project["departmentId"] == 14 and project["organizationId"] == int(ORG)
    assert client.get(f"/v1/projects/{project['id']}").json() == project
    changed = client.put(f"/v1/projects/{project['id']}", {
        "code": "PRJ-NEW", "name": "Renamed", "departmentId": None, "status": "on_hold",
        "budgetCents": 100}, format="json").json()
    assert (changed["name"], changed["status"], changed["departmentId"]) == (
        "Renamed", "on_hold", None)
    assert changed["budgetCents"] == 100
    assert client.delete(f"/v1/projects/{project['id']}").status_code == 204
    assert_core_error(client.get(f"/v1/projects/{project['id']}"), 404, "not_found")


def test_project_with_a_taken_code_is_refused(client):
    row = next(r for r in legacy_rows("core", "projects").values() if r["organization_id"] == ORG)
    answer = client.post(f"/v1/projects?org={ORG}", {"code": row["code"], "name": "Dup"},
                         format="json")
    assert_core_error(answer, 400, "invalid_request")


def test_project_detail_field_by_field(client):
    row = next(r for r in legacy_rows("core", "projects").values() if r["organization_id"] == ORG)
    assert client.get(f"/v1/projects/{row['id']}").json() == expected_project(row)
    assert Decimal(row["budget_cents"]) > 0


# --- documents --------------------------------------------------------------------------


def expected_document(row: dict) -> dict:
    users = legacy_rows("core", "users")
    return {"id": int(row["id"]), "projectId": int(row["project_id"]),
            "filename": row["filename"], "contentType": row["content_type"],
            "sizeBytes": int(row["size_bytes"]),
            "uploadedBy": int(row["uploaded_by"]) if row["uploaded_by"] in users else None,
            "uploadedAt": core_time(row["uploaded_at"])}


def test_project_documents_field_by_field(client):
    documents = legacy_rows("core", "documents").values()
    project = next(r for r in legacy_rows("core", "projects").values()
                   if r["organization_id"] == ORG
                   and any(d["project_id"] == r["id"] for d in documents))
    rows = [d for d in legacy_rows("core", "documents").values()
            if d["project_id"] == project["id"]]
    body = client.get(f"/v1/projects/{project['id']}/documents").json()
    assert_page(body)
    assert body["items"] == [expected_document(r) for r in rows]


def test_upload_then_download_through_the_legacy_paths(client):
    project = next(r for r in legacy_rows("core", "projects").values()
                   if r["organization_id"] == ORG)
    upload = SimpleUploadedFile("notes.txt", b"core bytes", content_type="text/plain")
    created = client.post(f"/v1/projects/{project['id']}/documents", {"file": upload},
                          format="multipart")
    assert created.status_code == 201, created.content
    document = created.json()
    assert document["filename"] == "notes.txt" and document["sizeBytes"] == 10
    assert document["projectId"] == int(project["id"]) and document["uploadedBy"] is None
    download = client.get(f"/v1/documents/{document['id']}/download")
    assert download.status_code == 200  # local storage streams; S3 redirects (below)
    assert b"".join(download.streaming_content) == b"core bytes"


def test_download_of_an_imported_document_redirects_to_its_legacy_bucket(client, s3_storage):
    row = next(d for d in legacy_rows("core", "documents").values()
               if d["project_id"] in {r["id"] for r in legacy_rows("core", "projects").values()
                                      if r["organization_id"] == ORG})
    answer = client.get(f"/v1/documents/{row['id']}/download")
    assert answer.status_code == 302
    assert "core-documents" in answer["Location"] and "Signature" in answer["Location"]
