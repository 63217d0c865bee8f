"""The exported Postman collection runs green with newman against a live, seeded server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from tests.factories import (
    CompanyFactory,
    DocumentFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
    member,
)

PASSWORD = "a long example password"


def tool(name: str) -> str:
    """Return the tool's path; skip outside CI when it is missing, fail in CI."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed, and CI must run this test.")
        pytest.skip(f"{name} is not installed (npm install -g newman); CI installs it.")
    return path


def loopback(url: str) -> str:
    """Address the live server by 127.0.0.1: tests talk to loopback only."""
    return url.replace("//localhost:", "//127.0.0.1:")


def seed_company_admin():
    company = CompanyFactory(name="Acme", country="DE")
    team = TeamFactory(company=company, name="Engineering")
    project = ProjectFactory(company=company, team=team)
    document = DocumentFactory(company=company, team=team, project=project)
    document.file.save("seed.txt", ContentFile(b"seeded bytes"))
    admin = UserFactory(email="admin@acme.example", password=PASSWORD)
    member(admin, company, "admin")
    return admin


@pytest.mark.django_db
def test_export_writes_a_v21_collection_and_an_environment(tmp_path):
    out = tmp_path / "api.postman_collection.json"
    call_command("export_postman", "--out", str(out))
    collection = json.loads(out.read_text())
    environment = json.loads((tmp_path / "api.postman_collection.environment.json").read_text())
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    requests = [item for folder in collection["item"] for item in folder["item"]]
    assert len(requests) >= 30
    assert all(item["event"][0]["script"]["exec"] for item in requests)
    assert {"base_url", "token"} <= {value["key"] for value in environment["values"]}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps seeded roles
def test_exported_collection_runs_green_with_newman(live_server, tmp_path):
    newman = tool("newman")
    admin = seed_company_admin()
    out = tmp_path / "api.postman_collection.json"
    call_command("export_postman", "--out", str(out), "--base-url", loopback(live_server.url))
    result = subprocess.run(
        [newman, "run", str(out), "-e", str(tmp_path / "api.postman_collection.environment.json"),
         "--env-var", f"username={admin.email}", "--env-var", f"password={PASSWORD}",
         "--working-dir", str(tmp_path), "--reporters", "cli", "--color", "off"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
