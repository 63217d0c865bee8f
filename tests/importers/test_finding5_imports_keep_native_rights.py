"""Finding 5: imports never take rights away from people the import did not create.

A native administrator (superuser) and a native staff member exist before any import; a
Core export then holds rows for their e-mail addresses that say less of them (inactive,
no SUPER_ADMIN role, a lower role). Neither `import_legacy` nor the admin's single-table
upload may switch their flags off or lower their role; both may switch a flag on, and
both still switch off what an import itself created.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from importers.loader import import_legacy
from importers.models import ImportRun, LegacyRecord
from importers.sources import open_source
from rbac.models import Company, Membership, User
from tests import factories

pytestmark = pytest.mark.django_db

HEADERS = {
    "api_clients": "id,organization_id,name,client_id,client_secret_hash,scopes,created_at,"
                   "revoked_at",
    "departments": "id,organization_id,parent_id,name,created_at",
    "documents": "id,project_id,s3_key,filename,content_type,size_bytes,uploaded_by,uploaded_at",
    "organizations": "id,name,legal_name,vat_number,country,domain,status,created_at,"
                     "updated_at,deleted_at",
    "projects": "id,organization_id,department_id,code,name,status,budget_cents,archived,"
                "created_at",
    "user_roles": "user_id,role,granted_at",
    "users": "id,email,full_name,password_hash,organization_id,department_id,is_active,"
             "last_login_at,created_at,updated_at",
}
STAMP = "2022-02-11T10:21:07+00:00"
ORGANIZATION = f"1,Finding Five GmbH,,,DE,finding-five.example,active,{STAMP},{STAMP},"


def _user_row(legacy_id: int, email: str, *, active: bool) -> str:
    return (f"{legacy_id},{email},Legacy Person {legacy_id},,1,,{str(active).lower()},,"
            f"{STAMP},{STAMP}")


# Rows that say less of the native people than the back-office knows.
DEMOTING_USERS = [
    _user_row(1, "ADMIN@example.test", active=False),
    _user_row(2, "staff@example.test", active=False),
    _user_row(3, "imported@example.test", active=True),
]


def _write_core_export(folder: Path, *, users: list[str] = (), roles: list[str] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = {"organizations": [ORGANIZATION], "users": list(users), "user_roles": list(roles)}
    for table, header in HEADERS.items():
        lines = [header, *rows.get(table, [])]
        (folder / f"{table}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _import_core(folder: Path):
    with open_source("core", folder) as core:
        return import_legacy(core=core)


@pytest.fixture
def native_people():
    """A native superuser, a native staff member and a native plain user."""
    admin = factories.StaffUserFactory(email="admin@example.test", is_superuser=True)
    staff = factories.StaffUserFactory(email="staff@example.test")
    plain = factories.UserFactory(email="plain@example.test")
    return admin, staff, plain


@pytest.fixture
def imported_company(tmp_path: Path, native_people) -> Company:
    """Import the Core organization alone; the native people are not touched yet."""
    _import_core(_write_core_export(tmp_path / "first"))
    return Company.objects.get(
        pk=LegacyRecord.objects.get(source="core", table="organizations").object_id)


def _flags(user: User) -> tuple[bool, bool, bool]:
    user.refresh_from_db()
    return user.is_active, user.is_staff, user.is_superuser


# --- manage.py import_legacy ---------------------------------------------------------------

def test_finding5_import_legacy_keeps_a_native_superusers_and_staff_flags(
    tmp_path, native_people, imported_company,
):
    admin, staff, _ = native_people
    report = _import_core(_write_core_export(tmp_path / "second", users=DEMOTING_USERS))
    assert report.tables["core.users"].merged == 2
    assert _flags(admin) == (True, True, True)
    assert _flags(staff) == (True, True, False)
    kept = {(c["object"], c["field"]) for c in report.conflicts if c["kind"] == "rights_kept"}
    assert (f"user {admin.pk}", "is_superuser") in kept
    assert (f"user {staff.pk}", "is_active") in kept


def test_finding5_import_legacy_keeps_a_native_persons_higher_role(
    tmp_path, native_people, imported_company,
):
    _, staff, _ = native_people
    owner = factories.member(staff, imported_company, "owner")
    _import_core(_write_core_export(
        tmp_path / "second", users=DEMOTING_USERS, roles=[f"2,READ_ONLY,{STAMP}"]))
    owner.refresh_from_db()
    assert owner.role.slug == "owner"
    assert Membership.objects.filter(user=staff).count() == 1


def test_finding5_import_legacy_may_switch_a_native_persons_flag_on(
    tmp_path, native_people, imported_company,
):
    _, _, plain = native_people
    _import_core(_write_core_export(
        tmp_path / "second", users=[_user_row(4, "plain@example.test", active=True)],
        roles=[f"4,SUPER_ADMIN,{STAMP}"]))
    assert _flags(plain) == (True, True, True)


def test_finding5_import_legacy_still_switches_off_whom_an_import_created(
    tmp_path, native_people, imported_company,
):
    _import_core(_write_core_export(tmp_path / "second", users=DEMOTING_USERS))
    created = User.objects.get(email="imported@example.test")
    assert created.is_active
    _import_core(_write_core_export(
        tmp_path / "third", users=[*DEMOTING_USERS[:2],
                                   _user_row(3, "imported@example.test", active=False)]))
    assert _flags(created)[0] is False


# --- the admin's single-table upload -------------------------------------------------------

@pytest.fixture
def importer(client):
    user = factories.StaffUserFactory(email="importer@example.test")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["run_import", "view_importrun"]))
    client.force_login(user)
    return user


def _upload_and_confirm(client, system_table: str, content: bytes) -> ImportRun:
    upload = SimpleUploadedFile(f"{system_table.split('.')[1]}.csv", content,
                                content_type="text/csv")
    preview = client.post(reverse("admin:importers_importrun_upload"),
                          {"table": system_table, "file": upload})
    assert preview.status_code == 200, preview.content[:2000]
    client.post(reverse("admin:importers_importrun_upload_confirm",
                        args=[preview.context["token"]]))
    return ImportRun.objects.latest("started_at")


def test_finding5_admin_csv_upload_keeps_a_native_superusers_and_staff_flags(
    client, importer, native_people, imported_company,
):
    admin, staff, _ = native_people
    content = "\n".join([HEADERS["users"], *DEMOTING_USERS]).encode() + b"\n"
    run = _upload_and_confirm(client, "core.users", content)
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.report["tables"]["core.users"]["merged"] == 2
    assert _flags(admin) == (True, True, True)
    assert _flags(staff) == (True, True, False)
    assert any(c["kind"] == "rights_kept" for c in run.report["conflicts"])


def test_finding5_admin_csv_upload_may_switch_a_native_persons_flag_on(
    client, importer, native_people, imported_company,
):
    _, _, plain = native_people
    plain.is_active = False
    plain.save(update_fields=["is_active"])
    content = "\n".join(
        [HEADERS["users"], _user_row(4, "plain@example.test", active=True)]).encode() + b"\n"
    _upload_and_confirm(client, "core.users", content)
    assert _flags(plain)[0] is True
