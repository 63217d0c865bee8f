"""Portal's /api as its clients call it, against the imported sample: every endpoint of
LEGACY-API.md, answers compared field by field with the legacy rows (Berlin times, bit
masks included)."""

from __future__ import annotations

from collections import Counter

import pytest
import requests
from django.contrib.auth.models import Permission

from backoffice.legacy_api.ids import NEW_ID_OFFSET, object_pk
from importers.normalize import fix_mojibake
from rbac.direct import direct_permission_model
from rbac.models import Company, Team, User
from rbac.tokens import access_token_issue
from tests.factories import UserFactory, member

from .conftest import api_key, bearer, legacy_rows, truth

COMPANY = "38"  # Alpine Delta Foods: nine teams, files, members, an API key
KEY = next(k["key"] for k in truth()["known_portal_keys"] if k["key"].startswith("pk_7bafc8ee8"))
SCOPES = frozenset({"read", "write", "admin"})


@pytest.fixture
def key(imported, db):
    return api_key(KEY)


@pytest.fixture
def company_admin(imported, db):
    """A person administering the company (Portal's web app, logged in the new way)."""
    person = UserFactory(email="admin@alpinedelta.example")
    member(person, Company.objects.get(pk=object_pk("company", COMPANY)), "admin")
    return bearer(access_token_issue(user=person, scopes=SCOPES).raw)


def assert_portal_error(answer, status: int) -> None:
    assert answer.status_code == status, answer.content
    assert set(answer.json()) == {"message"} and answer.json()["message"]


def company_teams() -> list[dict]:
    return [t for t in legacy_rows("portal", "team").values() if t["company_id"] == COMPANY]


def portal_only_members() -> set[str]:
    """Member ids of people with one Portal member row and no Core user."""
    return {str(person["portal"][0]) for person in truth()["persons"]
            if len(person["portal"]) == 1 and not person["core"]}


def single_row_members() -> set[str]:
    """Member ids of people with one Portal member row (consultants have one per company)."""
    return {str(person["portal"][0]) for person in truth()["persons"]
            if len(person["portal"]) == 1}


# --- authentication ---------------------------------------------------------------------


def test_the_api_key_reads_and_a_wrong_key_is_401(key):
    assert key.get(f"/api/companies/{COMPANY}").status_code == 200
    assert_portal_error(api_key("pk_" + "0" * 32).get(f"/api/companies/{COMPANY}"), 401)


def test_a_cognito_id_token_is_refused_with_how_to_get_a_token_now(imported, db):
    cognito = "eyJraWQiOiJ4In0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    answer = bearer(cognito).get("/api/members/me")
    assert_portal_error(answer, 401)
    assert "/api/v1/auth/token" in answer.json()["message"]
    assert "Cognito" in answer.json()["message"]


def test_members_me_field_by_field(imported, db):
    row = next(r for r in legacy_rows("portal", "member").values()
               if r["company_id"] == COMPANY and r["status"] == "active"
               and r["member_id"] in portal_only_members())
    person = User.objects.get(pk=object_pk("member", row["member_id"]))
    answer = bearer(access_token_issue(user=person, scopes=SCOPES).raw).get("/api/members/me")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    roles = {r["team_id"]: r["team_role"] for r in legacy_rows("portal", "team_member").values()
             if r["member_id"] == row["member_id"]}
    assert {k: body[k] for k in ("member_id", "email", "first_name", "last_name", "company_id",
                                 "status")} == {
        "member_id": int(row["member_id"]), "email": row["email"].strip().lower(),
        "first_name": fix_mojibake(row["first_name"]), "last_name": fix_mojibake(row["last_name"]),
        "company_id": int(COMPANY), "status": "active"}
    assert {str(t["team_id"]): t["team_role"] for t in body["teams"]} == roles


def test_members_me_with_an_api_key_is_forbidden(key):
    assert_portal_error(key.get("/api/members/me"), 403)


# --- companies and teams ----------------------------------------------------------------


def test_company_field_by_field(key):
    row = legacy_rows("portal", "company")[COMPANY]
    body = key.get(f"/api/companies/{COMPANY}").json()
    assert set(body) == {"company_id", "company_name", "vat", "website", "country"}
    assert body["company_id"] == int(COMPANY)
    assert body["company_name"] == fix_mojibake(row["company_name"]).strip()
    # The unified company keeps the VAT number normalised, the domain, the ISO country.
    assert body["vat"].replace(" ", "").upper().endswith(row["vat"].replace(" ", "").upper()[-9:])
    unified = Company.objects.get(pk=object_pk("company", COMPANY))
    assert body["website"] == f"https://{unified.domain}"
    assert len(body["country"]) == 2


def test_another_companys_id_is_404(key):
    assert_portal_error(key.get("/api/companies/8"), 404)


def test_teams_field_by_field(key):
    body = key.get(f"/api/companies/{COMPANY}/teams").json()
    assert isinstance(body, list)
    expected = [{"team_id": int(t["team_id"]), "company_id": int(COMPANY),
                 "team_name": t["team_name"].strip(), "description": None}
                for t in company_teams()]
    listed = sorted(body, key=lambda t: t["team_id"])
    assert [t for t in listed if t["team_id"] < NEW_ID_OFFSET] == expected


def test_post_team_gets_a_legacy_shaped_id(key):
    answer = key.post(f"/api/companies/{COMPANY}/teams",
                      {"team_name": "Logistics", "description": "Trucks"}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["team_id"] > NEW_ID_OFFSET and body["company_id"] == int(COMPANY)
    assert body in key.get(f"/api/companies/{COMPANY}/teams").json()
    assert_portal_error(key.post(f"/api/companies/{COMPANY}/teams", {}, format="json"), 400)


def test_team_members_field_by_field(key):
    team = company_teams()[0]["team_id"]
    single = single_row_members()
    members = legacy_rows("portal", "member")
    rows = [r for r in legacy_rows("portal", "team_member").values()
            if r["team_id"] == team and r["member_id"] in members]
    body = key.get(f"/api/teams/{team}/members").json()
    by_id = {m["member_id"]: m for m in body}
    assert len(body) == len(rows)
    for row in rows:
        if row["member_id"] not in single:
            continue
        legacy = members[row["member_id"]]
        assert by_id[int(row["member_id"])] == {
            "member_id": int(row["member_id"]), "email": legacy["email"].strip().lower(),
            "first_name": fix_mojibake(legacy["first_name"]),
            "last_name": fix_mojibake(legacy["last_name"]), "team_role": row["team_role"]}


def test_put_and_delete_a_team_role(company_admin):
    team = company_teams()[0]["team_id"]
    person = next(r for r in legacy_rows("portal", "member").values()
                  if r["company_id"] == COMPANY and r["member_id"] in single_row_members())
    path = f"/api/teams/{team}/members/{person['member_id']}"
    answer = company_admin.put(path, {"team_role": "editor"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["team_role"] == "editor"
    assert answer.json()["member_id"] == int(person["member_id"])
    assert answer.json() in company_admin.get(f"/api/teams/{team}/members").json()
    assert company_admin.delete(path).status_code == 204
    listed = company_admin.get(f"/api/teams/{team}/members").json()
    assert int(person["member_id"]) not in {m["member_id"] for m in listed}
    assert_portal_error(company_admin.delete(path), 404)


def test_put_an_unknown_team_role_is_400(company_admin):
    team = company_teams()[0]["team_id"]
    person = next(r for r in legacy_rows("portal", "member").values()
                  if r["company_id"] == COMPANY)
    answer = company_admin.put(f"/api/teams/{team}/members/{person['member_id']}",
                               {"team_role": "superhero"}, format="json")
    assert_portal_error(answer, 400)


def test_an_api_key_may_not_set_team_roles(key):
    team = company_teams()[0]["team_id"]
    person = next(r for r in legacy_rows("portal", "member").values()
                  if r["company_id"] == COMPANY)
    answer = key.put(f"/api/teams/{team}/members/{person['member_id']}",
                     {"team_role": "viewer"}, format="json")
    assert_portal_error(answer, 403)


# --- files ------------------------------------------------------------------------------


def expected_file(row: dict) -> dict:
    members = legacy_rows("portal", "member")
    uploader = row["uploader_member_id"]
    return {"file_id": int(row["file_id"]), "team_id": int(row["team_id"]),
            "file_name": fix_mojibake(row["original_name"]), "mime": row["mime"],
            "size": int(row["bytes"]),
            "uploaded_by": int(uploader) if uploader in members and uploader in
            single_row_members() else None,
            "created": row["uploaded"]}


def test_files_of_a_team_field_by_field_with_berlin_times(key):
    files = legacy_rows("portal", "file").values()
    team = next(t["team_id"] for t in company_teams()
                if any(f["team_id"] == t["team_id"] for f in files))
    rows = [f for f in legacy_rows("portal", "file").values() if f["team_id"] == team]
    body = key.get(f"/api/files?teamId={team}").json()
    assert isinstance(body, list) and len(body) == len(rows)
    by_id = {f["file_id"]: f for f in body}
    for row in rows:
        got, expected = by_id[int(row["file_id"])], expected_file(row)
        if expected["uploaded_by"] is None:  # a consultant: one of their member ids
            got = {**got, "uploaded_by": None}
        assert got == expected


def test_files_without_team_is_400(key):
    assert_portal_error(key.get("/api/files"), 400)


def test_file_detail_has_a_download_url(key, s3_storage):
    row = next(f for f in legacy_rows("portal", "file").values()
               if f["team_id"] in {t["team_id"] for t in company_teams()})
    body = key.get(f"/api/files/{row['file_id']}").json()
    assert {k: v for k, v in body.items() if k not in {"download_url", "uploaded_by"}} == {
        k: v for k, v in expected_file(row).items() if k != "uploaded_by"}
    assert row["bucket"] in body["download_url"] and "Signature" in body["download_url"]


def test_post_file_registers_it_and_answers_a_presigned_put(key, s3_storage):
    team = company_teams()[0]["team_id"]
    answer = key.post("/api/files", {"team_id": int(team), "file_name": "plan.pdf",
                                     "mime": "application/pdf", "size": 1234}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert set(body) == {"file_id", "upload_url"} and body["file_id"] > NEW_ID_OFFSET
    assert "Signature" in body["upload_url"]
    assert requests.put(body["upload_url"], data=b"x" * 1234,
                        headers={"Content-Type": "application/pdf"}, timeout=10).ok
    detail = key.get(f"/api/files/{body['file_id']}").json()
    assert (detail["file_name"], detail["mime"], detail["team_id"]) == (
        "plan.pdf", "application/pdf", int(team))


def test_post_file_on_local_storage_is_400(key):
    team = company_teams()[0]["team_id"]
    answer = key.post("/api/files", {"team_id": int(team), "file_name": "plan.pdf"},
                      format="json")
    assert_portal_error(answer, 400)


# --- grants -----------------------------------------------------------------------------


def direct_codenames(person: User, obj) -> set[str]:
    model = direct_permission_model(type(obj))
    ids = model.objects.filter(user=person, content_object=obj).values("permission_id")
    return set(Permission.objects.filter(pk__in=ids).values_list("codename", flat=True))


def test_post_grant_sets_one_permission_per_bit_and_delete_removes_them(company_admin):
    team = company_teams()[0]
    person = next(r for r in legacy_rows("portal", "member").values()
                  if r["company_id"] == COMPANY and r["member_id"] in single_row_members())
    answer = company_admin.post("/api/grants", {
        "member_id": int(person["member_id"]), "resource_type": "team",
        "resource_id": int(team["team_id"]), "perms": 1 | 2 | 8}, format="json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["grant_id"] > NEW_ID_OFFSET
    assert {k: body[k] for k in ("member_id", "resource_type", "resource_id", "perms")} == {
        "member_id": int(person["member_id"]), "resource_type": "team",
        "resource_id": int(team["team_id"]), "perms": 11}
    user = User.objects.get(pk=object_pk("member", person["member_id"]))
    target = Team.objects.get(pk=object_pk("team", team["team_id"]))
    assert direct_codenames(user, target) >= {"view_team", "change_team", "share_team"}
    assert "delete_team" not in direct_codenames(user, target)
    assert company_admin.delete(f"/api/grants/{body['grant_id']}").status_code == 204
    assert not direct_codenames(user, target) & {"change_team", "share_team"}
    assert_portal_error(company_admin.delete(f"/api/grants/{body['grant_id']}"), 404)


def test_post_grant_with_bits_outside_the_mask_is_400(company_admin):
    team = company_teams()[0]
    person = next(r for r in legacy_rows("portal", "member").values()
                  if r["company_id"] == COMPANY)
    answer = company_admin.post("/api/grants", {
        "member_id": int(person["member_id"]), "resource_type": "team",
        "resource_id": int(team["team_id"]), "perms": 16}, format="json")
    assert_portal_error(answer, 400)


def test_delete_an_imported_grant_by_its_portal_id(imported, db):
    grants = legacy_rows("portal", "permission_grant").values()
    counts = Counter((g["resource_type"], g["resource_id"]) for g in grants)
    grant = next(g for g in grants if counts[(g["resource_type"], g["resource_id"])] == 1
                 and g["resource_type"] == "team" and int(g["perms"]) in {1, 3, 5, 7, 9, 15}
                 and object_pk("team", g["resource_id"]) is not None
                 and object_pk("member", g["member_id"]) is not None)
    target = Team.objects.get(pk=object_pk("team", grant["resource_id"]))
    person = User.objects.get(pk=object_pk("member", grant["member_id"]))
    admin = UserFactory(email="grants-admin@example.test")
    member(admin, target.company, "owner")
    client = bearer(access_token_issue(user=admin, scopes=SCOPES).raw)
    assert "view_team" in direct_codenames(person, target)
    assert client.delete(f"/api/grants/{grant['grant_id']}").status_code == 204
    assert not direct_codenames(person, target)
