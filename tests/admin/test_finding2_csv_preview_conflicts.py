"""Finding 2: the CSV import's preview shows rows that clash with a unique key as errors.

The sample's Portal member.csv and team.csv, uploaded where a person or a team already
holds one of their unique values under another identity, made the preview (a dry run)
raise an IntegrityError: a 500, with the upload left in the storage.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from importers.admin_csv import UPLOAD_FOLDER, delete_stale_uploads
from importers.loader import import_legacy
from importers.models import ImportRun, LegacyRecord
from importers.sources import open_source
from rbac.models import Team, User
from tests import factories

pytestmark = pytest.mark.django_db

PORTAL_CSV = Path(__file__).resolve().parents[1] / "data" / "legacy_sample" / "csv" / "portal"
UPLOAD_URL = "admin:importers_importrun_upload"
MEMBER_1_SUB = "33c8900c-2058-4489-a1f1-0ec0f087e191"


def _import_portal(folder: Path) -> None:
    with open_source("portal", folder) as portal:
        import_legacy(portal=portal)


@pytest.fixture
def importer(client):
    user = factories.StaffUserFactory(email="importer@example.test")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["run_import", "view_importrun"]))
    client.raise_request_exception = False
    client.force_login(user)
    return user


@pytest.fixture
def sub_taken(tmp_path: Path) -> User:
    """The Portal sample without members, and someone else holding member 1's Cognito sub."""
    folder = tmp_path / "portal"
    shutil.copytree(PORTAL_CSV, folder)
    header = (PORTAL_CSV / "member.csv").read_bytes().splitlines(keepends=True)[0]
    (folder / "member.csv").write_bytes(header)
    _import_portal(folder)
    return User.objects.create_user("someone.else@example.test", cognito_sub=MEMBER_1_SUB)


@pytest.fixture
def name_taken(tmp_path: Path) -> Team:
    """An earlier export had team 1 as "Helpdesk" and a team 9999 "support" in company 1;
    the sample's team.csv renames team 1 to "Support", team 9999 being gone from Portal."""
    folder = tmp_path / "portal"
    shutil.copytree(PORTAL_CSV, folder)
    lines = (PORTAL_CSV / "team.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("1;1;Support;")
    lines[1] = lines[1].replace("1;1;Support;", "1;1;Helpdesk;", 1)
    lines.append("9999;1;support;;2020-01-01 00:00:00")
    (folder / "team.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    _import_portal(folder)
    record = LegacyRecord.objects.get(source="portal", table="team", legacy_id="9999")
    return Team.objects.get(pk=record.object_id)


def _upload(client, table: str):
    data = (PORTAL_CSV / f"{table}.csv").read_bytes()
    return client.post(reverse(UPLOAD_URL), {
        "table": f"portal.{table}",
        "file": SimpleUploadedFile(f"{table}.csv", data, content_type="text/csv"),
    })


def _stored_files() -> set[str]:
    """The uploads kept in the storage (which other tests of this process share)."""
    try:
        folders, _ = default_storage.listdir(UPLOAD_FOLDER)
    except FileNotFoundError:
        return set()
    return {f"{folder}/{name}" for folder in folders
            for name in default_storage.listdir(f"{UPLOAD_FOLDER}/{folder}")[1]}


def test_a_member_whose_sub_someone_else_holds_is_a_row_error_in_the_preview(
    client, importer, sub_taken
):
    response = _upload(client, "member")
    assert response.status_code == 200
    rejects = response.context["report"].rejects
    clash = [r for r in rejects if r["table"] == "member" and r["legacy_id"] == "1"]
    assert len(clash) == 1 and MEMBER_1_SUB in clash[0]["reason"]
    assert "someone.else@example.test" in clash[0]["reason"]
    html = response.content.decode()
    assert "portal.member #1:" in html and "Confirm the import" in html
    assert not User.objects.filter(email="georgia.morgan@polarforgemedia.co.uk").exists()


def test_the_confirmed_import_skips_the_clashing_member_and_imports_the_rest(
    client, importer, sub_taken
):
    stored = _stored_files()
    preview = _upload(client, "member")
    response = client.post(reverse("admin:importers_importrun_upload_confirm",
                                   args=[preview.context["token"]]))
    assert response.status_code == 302
    run = ImportRun.objects.get(started_by=importer)
    assert run.status == ImportRun.Status.SUCCEEDED
    assert User.objects.get(cognito_sub=MEMBER_1_SUB).email == "someone.else@example.test"
    assert not User.objects.filter(email="georgia.morgan@polarforgemedia.co.uk").exists()
    assert User.objects.filter(email="bernard.gilbert@polarforgemedia.co.uk").exists()
    assert _stored_files() == stored


def test_a_team_renamed_to_a_name_its_company_uses_is_a_row_error_in_the_preview(
    client, importer, name_taken
):
    response = _upload(client, "team")
    assert response.status_code == 200
    rejects = response.context["report"].rejects
    clash = [r for r in rejects if r["table"] == "team" and r["legacy_id"] == "1"]
    assert len(clash) == 1 and "Support" in clash[0]["reason"]
    assert Team.objects.filter(company=name_taken.company, name="Helpdesk").exists()


def test_a_failed_preview_leaves_no_upload_behind(client, importer):
    stored = _stored_files()
    response = client.post(reverse(UPLOAD_URL), {
        "table": "portal.member",
        "file": SimpleUploadedFile("member.csv", b"not;the;header\n1;2;3\n"),
    })
    assert response.status_code == 200 and response.context["form"].errors
    assert _stored_files() == stored


def test_a_cancelled_preview_deletes_its_upload(client, importer, sub_taken):
    stored = _stored_files()
    preview = _upload(client, "member")
    assert len(_stored_files() - stored) == 1
    response = client.post(reverse("admin:importers_importrun_upload_cancel",
                                   args=[preview.context["token"]]))
    assert response.status_code == 302
    assert _stored_files() == stored


def test_uploads_previewed_a_day_ago_and_left_are_deleted(client, importer, sub_taken):
    preview = _upload(client, "member")
    folder = preview.context["upload"]["path"].split("/")[1]
    delete_stale_uploads(now=timezone.now())
    assert any(path.startswith(f"{folder}/") for path in _stored_files())
    assert delete_stale_uploads(now=timezone.now() + timedelta(days=1, minutes=1)) >= 1
    assert not any(path.startswith(f"{folder}/") for path in _stored_files())
