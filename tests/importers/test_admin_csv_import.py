"""Uploading one legacy CSV export in the admin: preview (a dry run), then confirm."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from importers.loader import import_legacy
from importers.models import ImportRun, LegacyRecord
from importers.sources import open_source
from rbac.models import User
from tests import factories

pytestmark = pytest.mark.django_db

PORTAL_CSV = Path(__file__).resolve().parents[1] / "data" / "legacy_sample" / "csv" / "portal"
UPLOAD_URL = "admin:importers_importrun_upload"


@pytest.fixture
def portal_without_members(tmp_path: Path):
    """Import the Portal sample with an empty member.csv: companies exist, people do not."""
    folder = tmp_path / "portal"
    shutil.copytree(PORTAL_CSV, folder)
    header = (PORTAL_CSV / "member.csv").read_bytes().splitlines(keepends=True)[0]
    (folder / "member.csv").write_bytes(header)
    with open_source("portal", folder) as portal:
        import_legacy(portal=portal)


@pytest.fixture
def importer(client):
    user = factories.StaffUserFactory(email="importer@example.test")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["run_import", "view_importrun"])
    )
    client.force_login(user)
    return user


def _member_upload(name: str = "member.csv", content: bytes | None = None):
    data = content if content is not None else (PORTAL_CSV / "member.csv").read_bytes()
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _member_records() -> int:
    return LegacyRecord.objects.filter(source="portal", table="member").count()


def test_preview_shows_the_counts_and_writes_nothing(client, importer, portal_without_members):
    users = User.objects.count()
    response = client.post(reverse(UPLOAD_URL),
                           {"table": "portal.member", "file": _member_upload()})
    assert response.status_code == 200
    html = response.content.decode()
    assert "portal.member" in html and "Confirm the import" in html
    counts = dict(response.context["table_rows"])["portal.member"]
    read, created = counts[0], counts[1]
    assert read > 100 and created > 0
    assert User.objects.count() == users
    assert _member_records() == 0
    assert not ImportRun.objects.filter(started_by=importer).exists()


def test_confirm_imports_the_previewed_rows(client, importer, portal_without_members):
    users = User.objects.count()
    preview = client.post(reverse(UPLOAD_URL),
                          {"table": "portal.member", "file": _member_upload()})
    counts = dict(preview.context["table_rows"])["portal.member"]
    created = counts[1]
    response = client.post(reverse("admin:importers_importrun_upload_confirm",
                                   args=[preview.context["token"]]))
    run = ImportRun.objects.get(started_by=importer)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:importers_importrun_change", args=[run.pk])
    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.report["tables"]["portal.member"]["created"] == created
    assert User.objects.count() == users + created
    assert _member_records() == counts[0] - counts[-1]  # every row read but the rejected


def test_confirm_twice_does_not_import_twice(client, importer, portal_without_members):
    preview = client.post(reverse(UPLOAD_URL),
                          {"table": "portal.member", "file": _member_upload()})
    confirm = reverse("admin:importers_importrun_upload_confirm", args=[preview.context["token"]])
    client.post(confirm)
    users = User.objects.count()
    again = client.post(confirm)
    assert again.status_code == 302 and again["Location"] == reverse(UPLOAD_URL)
    assert User.objects.count() == users
    assert ImportRun.objects.filter(started_by=importer).count() == 1


def test_staff_without_the_import_permission_gets_403(client):
    user = factories.StaffUserFactory(email="viewer@example.test")
    user.user_permissions.add(Permission.objects.get(codename="view_importrun"))
    client.force_login(user)
    assert client.get(reverse(UPLOAD_URL)).status_code == 403
    response = client.post(reverse(UPLOAD_URL),
                           {"table": "portal.member", "file": _member_upload()})
    assert response.status_code == 403
    assert _member_records() == 0


def test_malformed_csv_shows_the_file_line_and_problem(client, importer):
    lines = (PORTAL_CSV / "member.csv").read_bytes().splitlines(keepends=True)
    broken = lines[2].replace(b";", b"", 1)  # one field short on line 3
    response = client.post(reverse(UPLOAD_URL), {
        "table": "portal.member",
        "file": _member_upload("bad-member.csv", b"".join([lines[0], lines[1], broken])),
    })
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert len(errors) == 1
    assert errors[0].startswith("bad-member.csv: line 3: expected 10 fields, found 9")
    assert "tmp" not in errors[0]
    assert _member_records() == 0


def test_a_header_with_the_wrong_delimiter_is_refused_with_its_reason(client, importer):
    text = b"member_id,cognito_sub,email\n1,x,a@example.test\n"
    response = client.post(reverse(UPLOAD_URL),
                           {"table": "portal.member", "file": _member_upload(content=text)})
    error = response.context["form"].errors["file"][0]
    assert error.startswith("member.csv: line 1: the header is separated by ','")


def test_company_tables_are_not_offered_for_upload(client, importer):
    response = client.get(reverse(UPLOAD_URL))
    choices = dict(response.context["form"].fields["table"].choices)
    assert "portal.member" in choices and "core.users" in choices
    assert "portal.company" not in choices and "core.organizations" not in choices


def test_import_runs_list_links_to_the_upload_for_permitted_staff(client, importer):
    html = client.get(reverse("admin:importers_importrun_changelist")).content.decode()
    assert reverse(UPLOAD_URL) in html


def _people_by_member_id() -> dict[str, tuple]:
    users = {
        pk: (email, first, last, active)
        for pk, email, first, last, active in User.objects.values_list(
            "pk", "email", "first_name", "last_name", "is_active")
    }
    return {
        legacy_id: users[pk] for legacy_id, pk in LegacyRecord.objects.filter(
            source="portal", table="member").values_list("legacy_id", "object_id")
    }


def test_upload_makes_the_same_people_as_the_command(client, importer, portal_without_members):
    with transaction.atomic():
        with open_source("portal", PORTAL_CSV) as portal:
            import_legacy(portal=portal)
        expected = _people_by_member_id()
        transaction.set_rollback(True)
    preview = client.post(reverse(UPLOAD_URL),
                          {"table": "portal.member", "file": _member_upload()})
    client.post(reverse("admin:importers_importrun_upload_confirm",
                        args=[preview.context["token"]]))
    assert expected and _people_by_member_id() == expected
