"""Finding 9 (info): CSP headers, API docs behind a log-in in production, 404 not 403.

The browser half of the CSP check (no violation on the admin and the Swagger UI) is
tests/browser/test_finding9_content_security_policy.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from backoffice.projects.models import DocumentUserObjectPermission
from tests.factories import UserFactory

from .conftest import KEY_SCOPES, ROLES

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


# --- Content-Security-Policy -----------------------------------------------------------

@pytest.mark.parametrize("url", ["/admin/login/", "/api/docs/", "/api/schema/"])
def test_finding9_pages_send_a_content_security_policy(client, url):
    response = client.get(url)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


def test_finding9_the_swagger_ui_page_has_no_inline_script(client):
    page = client.get("/api/docs/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    script = client.get("/api/docs/?script=").content.decode()
    assert "SwaggerUIBundle" in script


# --- API docs need a log-in in production ----------------------------------------------

@pytest.fixture
def docs_private(settings):
    settings.API_DOCS_PUBLIC = False


def test_finding9_private_docs_send_an_anonymous_browser_to_the_log_in(client, docs_private):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/api/docs/"


def test_finding9_private_schema_is_a_401_for_an_anonymous_client(client, docs_private):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_finding9_private_docs_open_to_a_logged_in_person(client, docs_private):
    client.force_login(UserFactory())
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/docs/?script=").status_code == 200
    assert client.get("/api/schema/?format=json").json()["openapi"].startswith("3.")


def test_finding9_production_settings_keep_the_docs_private():
    env = {
        **{name: value for name, value in os.environ.items() if name != "API_DOCS_PUBLIC"},
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
        "DJANGO_SECRET_KEY": "k" * 64, "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/db",
        "AWS_STORAGE_BUCKET_NAME": "bucket", "DJANGO_ALLOWED_HOSTS": "backoffice.example",
    }
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.API_DOCS_PUBLIC, 'csp.middleware.CSPMiddleware' in s.MIDDLEWARE)")
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "True"], result.stderr


# --- another company's object is 404, never 403 -----------------------------------------

CALLERS = [("person", slug) for slug in ROLES] + [("key", scope) for scope in KEY_SCOPES]


def _caller(objects, kind, name):
    return objects.people[name] if kind == "person" else objects.keys[name]


def _foreign_urls(world) -> list[tuple[str, str, dict | None]]:
    other = world.namesake
    grant = DocumentUserObjectPermission.objects.get(content_object=other.document)
    return [
        ("put", f"/api/v1/companies/{other.company.pk}/", {"name": "x", "country": "DE"}),
        ("put", f"/api/v1/teams/{other.team.pk}/", {"name": "x"}),
        ("put", f"/api/v1/projects/{other.project.pk}/", {"code": "X", "name": "x"}),
        ("get", f"/api/v1/documents/{other.document.pk}/download/", None),
        ("get", f"/api/v1/grants/document-{grant.pk}/", None),
    ]


@pytest.mark.parametrize(("kind", "name"), CALLERS)
def test_finding9_other_companies_objects_are_404_for_every_caller(world, api, kind, name):
    client = api(_caller(world.ours, kind, name))
    for method, url, body in _foreign_urls(world):
        response = getattr(client, method)(url, body)
        # A read-only key is refused every write before any object is looked up: 403 for
        # any id, known or not, so it tells nothing.
        expected = 403 if (kind, name) == ("key", "read") and method != "get" else 404
        assert response.status_code == expected, (method, url, response.content)
