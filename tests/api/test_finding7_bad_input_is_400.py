"""Finding 7: bad input is a 400, never a 500.

A JSON body nested 100,000 deep (RecursionError), a JSON body over the size limit, a
multipart upload whose file name is 300 non-ASCII characters (OSError on local storage),
and a server started without DJANGO_SETTINGS_MODULE (local settings, DEBUG on).
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.exceptions import ParseError

from backoffice.api.parsers import BoundedJSONParser, json_depth_exceeds
from backoffice.projects.models import MAX_FILE_NAME_BYTES, Document, document_file_name

REPO = Path(__file__).resolve().parents[2]


def _post_json(client, body: str):
    return client.generic("POST", "/api/v1/grants/", body, content_type="application/json")


def _assert_parse_error(response, words: str) -> None:
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error"
    assert words in error["message"]


# --- JSON depth and size ---------------------------------------------------------------

@pytest.mark.django_db
def test_finding7_a_json_body_nested_100000_deep_is_a_400(world, api):
    body = "[" * 100_000 + "]" * 100_000
    _assert_parse_error(_post_json(api(world.ours.people["admin"]), body), "nests deeper")


@pytest.mark.django_db
def test_finding7_the_token_endpoint_answers_a_deep_json_body_with_invalid_request(client):
    body = '{"grant_type": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.generic("POST", "/api/v1/auth/token", body,
                              content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "nests deeper" in response.json()["error_description"]


@pytest.mark.django_db
def test_finding7_a_json_body_deeper_than_the_limit_is_a_400(world, api, settings):
    settings.API_JSON_MAX_DEPTH = 8
    body = '{"user": ' + '{"a": ' * 8 + "1" + "}" * 8 + "}"
    _assert_parse_error(_post_json(api(world.ours.people["admin"]), body), "deeper than 8")


@pytest.mark.django_db
def test_finding7_a_json_body_over_the_size_limit_is_a_400(world, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"user": "' + "x" * 2000 + '"}'
    _assert_parse_error(_post_json(api(world.ours.people["admin"]), body), "larger than 1000")


@pytest.mark.django_db
def test_finding7_an_ordinary_json_body_still_parses(world, api):
    response = _post_json(api(world.ours.people["admin"]), (
        f'{{"user": {world.ours.people["billing"].pk}, "resource_type": "project", '
        f'"resource_id": {world.ours.project.pk}, "permission": "view"}}'))
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("limit", [10, 1000])
def test_finding7_the_parser_refuses_a_body_over_the_size_limit(settings, limit):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = limit
    body = ('{"a": "' + "x" * limit + '"}').encode()
    with pytest.raises(ParseError, match=f"larger than {limit} bytes"):
        BoundedJSONParser().parse(io.BytesIO(body))
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(body)
    assert BoundedJSONParser().parse(io.BytesIO(body)) == {"a": "x" * limit}


def test_finding7_depth_counts_lists_and_objects_not_scalars():
    assert not json_depth_exceeds({"a": [1, {"b": "deep"}]}, 3)
    assert json_depth_exceeds({"a": [1, {"b": []}]}, 3)
    assert not json_depth_exceeds("just a string", 0)


@pytest.mark.django_db
def test_finding7_too_many_multipart_fields_is_a_400_in_the_api_shape(world, api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    data = {f"field{i}": "x" for i in range(10)} | {"company": world.ours.company.pk}
    response = api(world.ours.people["admin"]).post(
        "/api/v1/documents/", data, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


# --- file names ------------------------------------------------------------------------

@pytest.fixture
def local_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(tmp_path / "media")}},
    }
    return tmp_path / "media"


@pytest.mark.django_db
def test_finding7_a_300_character_non_ascii_file_name_uploads_on_local_storage(
    world, api, local_storage,
):
    name = "é" * 300 + ".pdf"
    upload = SimpleUploadedFile(name, b"%PDF-1.4 content", content_type="application/pdf")
    response = api(world.ours.people["editor"]).post(
        "/api/v1/documents/", {"company": world.ours.company.pk, "file": upload},
        format="multipart")
    assert response.status_code == 201, response.content
    document = Document.objects.get(pk=response.json()["id"])
    stored = Path(document.file.path)
    assert stored.is_file() and stored.read_bytes() == b"%PDF-1.4 content"
    assert len(stored.name.encode()) <= 255
    assert stored.suffix == ".pdf"
    # Django keeps 255 characters of an uploaded name; the document keeps those.
    assert document.original_name.startswith("é" * 200)
    assert len(document.original_name) == 255


@pytest.mark.django_db
def test_finding7_the_same_long_name_twice_gets_two_files(world, api, local_storage):
    client = api(world.ours.people["editor"])
    ids = []
    for content in (b"first", b"second"):
        upload = SimpleUploadedFile("ü" * 250 + ".txt", content)
        response = client.post("/api/v1/documents/",
                               {"company": world.ours.company.pk, "file": upload},
                               format="multipart")
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    first, second = (Document.objects.get(pk=pk) for pk in ids)
    assert first.file.name != second.file.name
    assert Path(second.file.path).read_bytes() == b"second"
    assert len(Path(second.file.path).name.encode()) <= 255


@pytest.mark.parametrize(("name", "expected"), [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\me\\plan 2024.xlsx", "plan_2024.xlsx"),
    ("..", "document"),
    ("", "document"),
])
def test_finding7_file_names_keep_their_last_segment_in_safe_characters(name, expected):
    assert document_file_name(name) == expected


def test_finding7_a_long_file_name_is_cut_on_a_character_boundary_keeping_its_extension():
    name = document_file_name("日本語" * 200 + ".docx")
    assert len(name.encode()) <= MAX_FILE_NAME_BYTES
    assert name.endswith(".docx")
    assert name.removesuffix(".docx").strip("日本語") == ""


def test_finding7_a_long_extension_is_part_of_the_name():
    name = document_file_name("notes." + "x" * 400)
    assert len(name.encode()) <= MAX_FILE_NAME_BYTES
    assert name.startswith("notes.x")


# --- the server's default settings -----------------------------------------------------

@pytest.mark.parametrize("module", ["backoffice.wsgi", "backoffice.asgi"])
def test_finding7_a_server_started_without_a_settings_module_runs_production(module):
    env = {name: value for name, value in os.environ.items()
           if name not in {"DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DJANGO_DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], env=env, cwd=REPO, capture_output=True,
        text=True, timeout=120,
    )
    # Production refuses to start without its secrets: no DEBUG tracebacks, ever.
    assert result.returncode != 0
    assert "refuses to start" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("module", ["backoffice.wsgi", "backoffice.asgi"])
def test_finding7_a_server_started_with_production_secrets_has_debug_off(module):
    env = {
        **{name: value for name, value in os.environ.items()
           if name not in {"DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG"}},
        "DJANGO_SECRET_KEY": "k" * 64, "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/db",
        "AWS_STORAGE_BUCKET_NAME": "bucket", "DJANGO_ALLOWED_HOSTS": "backoffice.example",
    }
    code = (f"import {module}; from django.conf import settings; "
            "print(settings.SETTINGS_MODULE, settings.DEBUG)")
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["backoffice.settings.production", "False"], result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("body", [
    {"grant_type": "password", "username": "a\x00@example.test", "password": "x"},
    {"grant_type": "password", "email": "a@example.test", "password": "x\x00"},
    {"grant_type": "client_credentials", "client_id": "c\x00", "client_secret": "s"},
    {"grant_type": "pass\x00word"},
], ids=["username", "password", "client_id", "grant_type"])
def test_finding7_the_token_endpoint_answers_a_nul_byte_with_invalid_request(client, body):
    # PostgreSQL refuses to compare a string holding NUL: before, that was the API's own
    # error shape (or a 500), which an OAuth2 client cannot read.
    response = client.post("/api/v1/auth/token", body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "NUL" in response.json()["error_description"]


@pytest.mark.django_db
def test_finding7_the_token_endpoint_answers_nul_in_basic_credentials_with_invalid_request(
        client):
    encoded = base64.b64encode(b"client%00:secret").decode()
    response = client.post("/api/v1/auth/token", {"grant_type": "client_credentials"},
                           HTTP_AUTHORIZATION=f"Basic {encoded}")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
