"""migrate_files copies legacy objects into the unified bucket (moto's S3 server on loopback)."""

from __future__ import annotations

import socket
import urllib.request
from io import StringIO

import boto3
import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from backoffice.projects.models import Document
from importers import files
from importers.files import migrate_legacy_files
from tests.factories import DocumentFactory

REGION = "us-east-1"
CORE = "core-documents"
PORTAL = "portal-prod-files"
UNIFIED = "backoffice-unified"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, settings, monkeypatch):
    """A client on empty legacy and unified buckets, the default storage on the unified one."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    reset = urllib.request.Request(f"{s3_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    for bucket in (CORE, PORTAL, UNIFIED):
        client.create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = UNIFIED
    settings.AWS_S3_ENDPOINT_URL = s3_endpoint
    settings.AWS_S3_REGION_NAME = REGION
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.AWS_S3_FILE_OVERWRITE = False
    settings.STORAGES = {
        **settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    }
    return client


def _legacy(s3, bucket: str, key: str, body: bytes, **fields) -> Document:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return DocumentFactory(legacy_bucket=bucket, legacy_key=key, size=len(body), **fields)


def _body(s3, key: str) -> bytes:
    return s3.get_object(Bucket=UNIFIED, Key=key)["Body"].read()


def _unified_keys(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=UNIFIED).get("Contents", [])]


def _run(s3, **options) -> files.FileMigrationReport:
    return migrate_legacy_files(s3_client=s3, target_bucket=UNIFIED, **options)


def _migrate_command(*args: str) -> str:
    out = StringIO()
    call_command("migrate_files", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_objects_of_both_legacy_buckets_are_copied_and_documents_point_at_them(s3):
    core = _legacy(s3, CORE, "org/7/report.pdf", b"%PDF core bytes", original_name="report.pdf")
    portal = _legacy(s3, PORTAL, "teams/3/a b.txt", b"portal bytes", original_name="a b.txt")

    output = _migrate_command()

    core.refresh_from_db()
    portal.refresh_from_db()
    assert core.file.name == f"documents/{core.company_id}/legacy/{core.pk}/report.pdf"
    assert portal.file.name == f"documents/{portal.company_id}/legacy/{portal.pk}/a_b.txt"
    assert _body(s3, core.file.name) == b"%PDF core bytes"
    assert _body(s3, portal.file.name) == b"portal bytes"
    assert storages["default"].open(core.file.name).read() == b"%PDF core bytes"
    # The legacy objects stay where they were: the old systems may still read them.
    assert s3.head_object(Bucket=CORE, Key="org/7/report.pdf")["ContentLength"] == 15
    assert core.history.first().history_change_reason == files.CHANGE_REASON
    assert "copied:              2 (27 bytes)" in output


@pytest.mark.django_db
def test_a_missing_object_is_reported_and_the_run_goes_on(s3):
    missing = DocumentFactory(legacy_bucket=CORE, legacy_key="gone.pdf", size=3)
    present = _legacy(s3, PORTAL, "here.pdf", b"here")

    report = _run(s3)

    assert [problem.document_id for problem in report.missing] == [missing.pk]
    assert report.copied == 1
    missing.refresh_from_db()
    present.refresh_from_db()
    assert not missing.file
    assert _body(s3, present.file.name) == b"here"


@pytest.mark.django_db
def test_a_second_run_copies_nothing(s3, monkeypatch):
    _legacy(s3, CORE, "one.pdf", b"one")
    _legacy(s3, PORTAL, "two.pdf", b"two")
    _run(s3)
    copies = []
    monkeypatch.setattr(files, "copy_legacy_object", lambda **kw: copies.append(kw))

    report = _run(s3)

    assert copies == []
    assert (report.copied, report.already_done) == (0, 2)


class Interrupted(BaseException):
    """Stands in for Ctrl-C or a killed worker in the middle of a batch."""


@pytest.mark.django_db
def test_an_interrupted_run_resumes_after_the_last_copied_document(s3, monkeypatch):
    documents = [_legacy(s3, CORE, f"doc-{n}.pdf", f"bytes {n}".encode()) for n in range(5)]
    real_copy = files.copy_legacy_object
    copied: list[str] = []

    def copy_three_then_stop(**kwargs):
        if len(copied) == 3:
            raise Interrupted
        real_copy(**kwargs)
        copied.append(kwargs["source_key"])

    monkeypatch.setattr(files, "copy_legacy_object", copy_three_then_stop)
    with pytest.raises(Interrupted):
        _run(s3, batch_size=2)

    # The third copy was in an unfinished batch: it is recorded all the same.
    assert [bool(Document.objects.get(pk=d.pk).file) for d in documents] == [
        True, True, True, False, False,
    ]
    copied.clear()
    monkeypatch.setattr(files, "copy_legacy_object", lambda **kw: (real_copy(**kw),
                                                                   copied.append(kw["source_key"])))

    report = _run(s3, batch_size=2)

    assert copied == ["doc-3.pdf", "doc-4.pdf"]
    assert (report.copied, report.already_done) == (2, 3)
    for document in documents:
        document.refresh_from_db()
        assert _body(s3, document.file.name) == s3.get_object(
            Bucket=CORE, Key=document.legacy_key)["Body"].read()


@pytest.mark.django_db
def test_a_copy_left_by_a_run_that_stopped_before_pointing_is_reused(s3, monkeypatch):
    document = _legacy(s3, CORE, "early.pdf", b"early")
    key = files.target_name(document=document)
    s3.copy_object(CopySource={"Bucket": CORE, "Key": "early.pdf"}, Bucket=UNIFIED, Key=key)
    monkeypatch.setattr(files, "copy_legacy_object", lambda **kw: pytest.fail("copied again"))

    report = _run(s3)

    document.refresh_from_db()
    assert (report.reused, report.copied, document.file.name) == (1, 0, key)


@pytest.mark.django_db
def test_dry_run_checks_the_sources_and_changes_nothing(s3):
    present = _legacy(s3, CORE, "keep.pdf", b"keep")
    missing = DocumentFactory(legacy_bucket=PORTAL, legacy_key="nowhere.pdf", size=1)
    history = present.history.count()

    output = _migrate_command("--dry-run")

    assert _unified_keys(s3) == []
    present.refresh_from_db()
    assert not present.file
    assert present.history.count() == history
    assert f"would copy s3://{CORE}/keep.pdf (4 bytes) to s3://{UNIFIED}/" in output
    assert f"document {missing.pk} (s3://{PORTAL}/nowhere.pdf): no such object" in output
    assert "Dry run: nothing was copied or changed." in output


@pytest.mark.django_db
def test_a_size_different_from_the_documents_is_reported_and_not_copied(s3):
    document = _legacy(s3, CORE, "short.pdf", b"ten bytes!")
    Document.objects.filter(pk=document.pk).update(size=999)

    report = _run(s3)

    assert [problem.document_id for problem in report.size_mismatches] == [document.pk]
    assert "999 bytes, the object has 10" in report.size_mismatches[0].detail
    document.refresh_from_db()
    assert not document.file
    assert _unified_keys(s3) == []


@pytest.mark.django_db
def test_a_copy_whose_checksum_differs_is_reported_and_not_pointed_at(s3, monkeypatch):
    document = _legacy(s3, PORTAL, "x.pdf", b"original")

    def corrupt_copy(*, s3_client, target_bucket, target_key, size, **_):
        s3_client.put_object(Bucket=target_bucket, Key=target_key, Body=b"?" * size)

    monkeypatch.setattr(files, "copy_legacy_object", corrupt_copy)

    report = _run(s3)

    assert [problem.document_id for problem in report.checksum_mismatches] == [document.pk]
    document.refresh_from_db()
    assert not document.file


@pytest.mark.django_db
def test_documents_with_a_file_or_without_a_legacy_object_are_left_alone(s3):
    DocumentFactory(legacy_bucket="", legacy_key="")
    DocumentFactory(legacy_bucket=CORE, legacy_key="k.pdf", file="documents/1/2026/01/k.pdf")

    report = _run(s3)

    assert (report.copied, report.already_done, report.problems) == (0, 1, 0)


@pytest.mark.django_db
def test_without_a_unified_bucket_the_command_says_what_to_set(settings):
    settings.AWS_STORAGE_BUCKET_NAME = None

    with pytest.raises(CommandError, match="set AWS_STORAGE_BUCKET_NAME"):
        call_command("migrate_files", stdout=StringIO(), stderr=StringIO())
