"""Schemathesis fuzzes every operation of /api/schema/ on a live, seeded server: no server
error, no response that violates the schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rbac.tokens import SCOPES, access_token_issue

from .test_postman_newman import loopback, seed_company_admin, tool

MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps seeded roles
def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_server, tmp_path):
    executable = Path(sys.executable).with_name("schemathesis")
    if not executable.exists():
        tool("schemathesis")  # skips outside CI, fails in CI
    admin = seed_company_admin()
    # A bearer token, as clients get one: the API takes no HTTP Basic (docs/authentication.md).
    token = access_token_issue(user=admin, scopes=frozenset(SCOPES)).raw
    result = subprocess.run(
        [str(executable), "run", f"{loopback(live_server.url)}/api/schema/",
         "--checks", "not_a_server_error,response_schema_conformance",
         "--header", f"Authorization: Bearer {token}",
         "--max-examples", MAX_EXAMPLES, "--seed", "1", "--no-color",
         "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
