"""Finding 9 (info): the admin's CSV import streams the upload and bounds its size."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from importers.admin_csv import UPLOAD_FOLDER, copy_in_chunks
from importers.sources import SourceError
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer(client):
    user = factories.StaffUserFactory(email="importer@example.test")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["run_import", "view_importrun"]))
    client.force_login(user)
    return user


def _stored_uploads() -> list[str]:
    try:
        folders, _ = default_storage.listdir(UPLOAD_FOLDER)
    except FileNotFoundError:
        return []
    return folders


def test_finding9_an_upload_over_the_limit_is_refused_with_its_reason(client, importer, settings):
    settings.LEGACY_CSV_UPLOAD_MAX_BYTES = 1024 * 1024
    stored_before = _stored_uploads()
    upload = SimpleUploadedFile("member.csv", b"x" * (1024 * 1024 + 1), content_type="text/csv")
    response = client.post(reverse("admin:importers_importrun_upload"),
                           {"table": "portal.member", "file": upload})
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors == ["The file is larger than 1 MB, the most the admin imports; import it "
                      "with the import_legacy command instead."]
    assert _stored_uploads() == stored_before


def test_finding9_the_copy_stops_at_the_limit_without_reading_the_rest():
    read = []

    def chunks():
        for number in range(1000):
            read.append(number)
            yield b"x" * 100

    with pytest.raises(SourceError, match="larger than"):
        copy_in_chunks(chunks(), io.BytesIO(), limit=250)
    assert len(read) == 3


def test_finding9_the_copy_returns_the_sha256_of_what_it_wrote():
    target = io.BytesIO()
    digest = copy_in_chunks([b"id,name\n", b"1,a\n"], target, limit=100)
    assert target.getvalue() == b"id,name\n1,a\n"
    assert digest == hashlib.sha256(b"id,name\n1,a\n").hexdigest()
