"""Document bytes: streamed by Django on local storage, pre-signed S3 URLs when S3 is set up
(moto in server mode, on loopback, stands in for S3)."""

from __future__ import annotations

import socket

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from backoffice.projects.models import Document

pytestmark = pytest.mark.django_db

BUCKET = "backoffice-test-documents"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_endpoint):
    options = {
        "bucket_name": BUCKET, "endpoint_url": s3_endpoint, "region_name": "us-east-1",
        "access_key": "testing", "secret_key": "testing", "addressing_style": "path",
        "querystring_auth": True, "file_overwrite": False,
    }
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    storages = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        yield client


def test_local_upload_then_download_streams_the_same_bytes(world, api):
    client = api(world.ours.people["editor"])
    upload = SimpleUploadedFile("plan.txt", b"local bytes", content_type="text/plain")
    created = client.post(
        "/api/v1/documents/", {"company": world.ours.company.pk, "file": upload}, format="multipart"
    )
    assert created.status_code == 201, created.content
    assert created.json()["upload"] is None
    response = client.get(f"/api/v1/documents/{created.json()['id']}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"local bytes"
    assert "plan.txt" in response["Content-Disposition"]


def test_local_storage_refuses_a_presigned_upload(world, api):
    response = api(world.ours.people["editor"]).post(
        "/api/v1/documents/", {"company": world.ours.company.pk, "original_name": "a.pdf"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_viewer_may_not_upload(world, api):
    response = api(world.ours.people["viewer"]).post(
        "/api/v1/documents/", {"company": world.ours.company.pk, "original_name": "a.pdf"}
    )
    assert response.status_code == 403


def test_s3_upload_goes_through_a_presigned_post_and_download_redirects_to_s3(
    world, api, s3_storage
):
    client = api(world.ours.people["editor"])
    created = client.post("/api/v1/documents/", {
        "company": world.ours.company.pk, "original_name": "report.pdf",
        "content_type": "application/pdf", "size": 9,
    })
    assert created.status_code == 201, created.content
    upload = created.json()["upload"]
    assert upload["url"].startswith("http://127.0.0.1:")
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("report.pdf", b"%PDF-s3ok")},
        timeout=10,
    )
    assert posted.status_code in (200, 201, 204), posted.text

    download = client.get(f"/api/v1/documents/{created.json()['id']}/download/")
    assert download.status_code == 302
    fetched = requests.get(download["Location"], timeout=10)
    assert fetched.content == b"%PDF-s3ok"
    assert "report.pdf" in fetched.headers["Content-Disposition"]


def test_s3_multipart_upload_through_the_server_lands_in_the_bucket(world, api, s3_storage):
    client = api(world.ours.keys["read write"])
    upload = SimpleUploadedFile("notes.txt", b"via django", content_type="text/plain")
    created = client.post(
        "/api/v1/documents/", {"company": world.ours.company.pk, "file": upload}, format="multipart"
    )
    assert created.status_code == 201, created.content
    key = Document.objects.get(pk=created.json()["id"]).file.name
    assert s3_storage.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"via django"


def test_s3_download_of_an_imported_document_signs_its_legacy_key(world, api, s3_storage):
    s3_storage.create_bucket(Bucket="core-documents")
    s3_storage.put_object(Bucket="core-documents", Key="org/1/contract.pdf", Body=b"legacy")
    document = world.ours.document
    document.legacy_bucket, document.legacy_key = "core-documents", "org/1/contract.pdf"
    document.save()
    download = api(world.ours.people["viewer"]).get(f"/api/v1/documents/{document.pk}/download/")
    assert download.status_code == 302
    assert requests.get(download["Location"], timeout=10).content == b"legacy"


def test_download_of_another_companys_document_is_404_even_on_s3(world, api, s3_storage):
    response = api(world.ours.people["owner"]).get(
        f"/api/v1/documents/{world.namesake.document.pk}/download/"
    )
    assert response.status_code == 404
