"""A re-run whose inputs are those of the last import reads no row (importers.digest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from importers.models import ImportRun, LegacyRecord, ReviewPair
from importers.report import OUTCOMES

from .test_loader import SAMPLE, row_counts


def _import(csv_root: Path, tmp_path: Path, *extra: str) -> dict:
    report_path = tmp_path / "report.json"
    call_command(
        "import_legacy", "--core", str(csv_root / "core"), "--portal", str(csv_root / "portal"),
        "--cognito", str(SAMPLE / "cognito-users.json"), "--no-progress",
        "--report", str(report_path), *extra,
    )
    return json.loads(report_path.read_text(encoding="utf-8"))


@pytest.fixture
def first(db, sample_copy: Path, tmp_path: Path) -> dict:
    return _import(sample_copy, tmp_path)


def _totals(report: dict) -> dict[str, int]:
    return {outcome: sum(t[outcome] for t in report["tables"].values())
            for outcome in ("read", *OUTCOMES)}


def test_same_inputs_report_every_row_unchanged_without_writing(first, sample_copy, tmp_path):
    before = row_counts()
    again = _import(sample_copy, tmp_path)
    assert again["unchanged_since_run"] == ImportRun.objects.order_by("pk").first().pk
    totals = _totals(again)
    assert (totals["created"], totals["updated"], totals["merged"]) == (0, 0, 0)
    assert totals["read"] == _totals(first)["read"]
    assert totals["rejected"] == _totals(first)["rejected"] > 0
    for counts in again["tables"].values():
        assert counts["read"] == counts["unchanged"] + counts["rejected"]
    assert again["rejects"] == first["rejects"]
    assert row_counts() == before


def test_a_skipped_run_is_a_baseline_for_the_next(first, sample_copy, tmp_path):
    _import(sample_copy, tmp_path)
    third = _import(sample_copy, tmp_path)
    assert third["unchanged_since_run"] == ImportRun.objects.order_by("-pk")[1].pk


def test_one_changed_row_makes_a_full_run_that_updates_it(first, sample_copy, tmp_path):
    path = sample_copy / "portal" / "team.csv"
    text = path.read_text(encoding="utf-8-sig")
    path.write_text("\ufeff" + text.replace("1;1;Support;", "1;1;Support Desk;", 1),
                    encoding="utf-8")
    again = _import(sample_copy, tmp_path)
    assert again["unchanged_since_run"] is None
    totals = _totals(again)
    assert (totals["created"], totals["updated"], totals["merged"]) == (0, 1, 0)
    assert again["tables"]["portal.team"]["updated"] == 1


@pytest.mark.parametrize("change", ["force", "decision", "lost provenance"])
def test_anything_else_that_changed_makes_a_full_run(first, sample_copy, tmp_path, change):
    extra = ()
    if change == "force":
        extra = ("--force",)
    elif change == "decision":
        ReviewPair.objects.create(
            left_source="core", left_table="organizations", left_legacy_id="1",
            right_source="portal", right_table="company", right_legacy_id="1",
            reason="test", status=ReviewPair.Status.DIFFERENT,
        )
    else:
        LegacyRecord.objects.filter(source="portal", table="team").first().delete()
    again = _import(sample_copy, tmp_path, *extra)
    assert again["unchanged_since_run"] is None
    assert _totals(again)["unchanged"] > 0


def test_a_dry_run_records_no_baseline(db, sample_copy, tmp_path):
    _import(sample_copy, tmp_path, "--dry-run")
    assert _import(sample_copy, tmp_path)["unchanged_since_run"] is None
