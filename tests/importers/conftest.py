"""Fixtures shared by the importer tests: the sample, its truth, one import of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from django.db import transaction

from .test_loader import SAMPLE, run_sample_import


@pytest.fixture(scope="session")
def truth() -> dict:
    return json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(django_db_setup, django_db_blocker):
    """Import the sample once per module inside a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield run_sample_import()
        transaction.set_rollback(True)


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    target = tmp_path / "csv"
    shutil.copytree(SAMPLE / "csv", target)
    return target
