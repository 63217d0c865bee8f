"""The import_legacy command: exit codes, report file, all-or-nothing writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from importers import loader
from importers.models import ImportRun
from rbac.models import Company, User

from .test_loader import SAMPLE, row_counts


def _call(*extra: str) -> None:
    call_command(
        "import_legacy",
        "--core", str(SAMPLE / "csv" / "core"),
        "--portal", str(SAMPLE / "csv" / "portal"),
        "--cognito", str(SAMPLE / "cognito-users.json"),
        "--no-progress",
        *extra,
    )


def test_missing_source_folder_fails_with_a_one_line_reason(db, tmp_path: Path):
    with pytest.raises(CommandError) as failure:
        call_command("import_legacy", "--core", str(tmp_path / "nowhere"), "--no-progress")
    assert "\n" not in str(failure.value) and "nowhere" in str(failure.value)


def test_missing_cognito_export_fails_with_a_one_line_reason_naming_it(db, tmp_path: Path):
    missing = tmp_path / "users.json"
    with pytest.raises(CommandError) as failure:
        call_command("import_legacy", "--cognito", str(missing), "--no-progress")
    assert "\n" not in str(failure.value) and str(missing) in str(failure.value)


def test_no_source_at_all_is_refused(db):
    with pytest.raises(CommandError, match="Nothing to import"):
        call_command("import_legacy")


def test_import_writes_the_report_file_and_records_the_run(db, tmp_path: Path):
    report_path = tmp_path / "report.json"
    _call("--report", str(report_path))
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert set(report) >= {"tables", "rejects", "conflicts", "review_pairs", "duration_s"}
    assert report["tables"]["cognito.users"]["read"] > 0
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.SUCCEEDED and run.report["tables"] == report["tables"]


def test_dry_run_on_an_empty_database_leaves_it_empty(db, tmp_path: Path):
    report_path = tmp_path / "report.json"
    _call("--dry-run", "--report", str(report_path))
    assert json.loads(report_path.read_text())["tables"]["core.users"]["created"] > 0
    assert (Company.objects.count(), User.objects.count(), ImportRun.objects.count()) == (0, 0, 0)


def test_a_fault_after_some_batches_leaves_the_database_as_before(db, monkeypatch):
    before = row_counts()
    flush = loader.Provenance.flush
    calls = {"n": 0}

    def failing_flush(self) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk full")
        flush(self)

    monkeypatch.setattr(loader.Provenance, "flush", failing_flush)
    with pytest.raises(RuntimeError, match="disk full"):
        _call()
    assert calls["n"] == 5
    assert row_counts() == before
