"""The importer reading live legacy databases: Core on PostgreSQL, Portal on MariaDB.

The sample dumps are loaded into throwaway databases and imported with the command, by
URL, as at cut-over. The outcome must meet the same acceptance checks against
truth.json as the CSV import in test_loader, and count the same, table by table.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from importers.report import ImportReport, TableCounts
from tests.importers.test_loader import (
    SAMPLE,
    run_sample_import,
    test_company_merges_agree_with_truth,
    test_every_row_that_must_be_rejected_is_rejected_with_a_reason,
    test_every_table_balances_read_against_its_outcomes,
    test_person_merges_agree_with_truth_exactly,
)
from tests.importers.test_sources import mariadb_database, postgres_database

# The acceptance checks of the CSV import, collected again here: pytest runs them with
# this module's `imported` fixture, the import from the live databases.
__all__ = [
    "test_company_merges_agree_with_truth",
    "test_every_row_that_must_be_rejected_is_rejected_with_a_reason",
    "test_every_table_balances_read_against_its_outcomes",
    "test_person_merges_agree_with_truth_exactly",
]

pytestmark = [pytest.mark.postgres, pytest.mark.mariadb, pytest.mark.slow]


@pytest.fixture(scope="module")
def core_url() -> Iterator[str]:
    yield from postgres_database(SAMPLE / "core.sql")


@pytest.fixture(scope="module")
def portal_url() -> Iterator[str]:
    yield from mariadb_database(SAMPLE / "portal.sql")


def _rolled_back(run):
    """Return what `run()` returns, leaving the database as it was."""
    with transaction.atomic():
        result = run()
        transaction.set_rollback(True)
    return result


def _report_from_json(path: Path) -> ImportReport:
    data = json.loads(path.read_text(encoding="utf-8"))
    return ImportReport(
        tables={name: TableCounts(**counts) for name, counts in data["tables"].items()},
        rejects=data["rejects"],
        conflicts=data["conflicts"],
        review_pairs=data["review_pairs"],
        duration_s=data["duration_s"],
        dry_run=data["dry_run"],
    )


@pytest.fixture(scope="module")
def csv_report(django_db_setup, django_db_blocker) -> ImportReport:
    with django_db_blocker.unblock():
        return _rolled_back(run_sample_import)


@pytest.fixture(scope="module")
def imported(
    core_url, portal_url, django_db_setup, django_db_blocker, csv_report, tmp_path_factory
) -> Iterator[ImportReport]:
    """Import from the live databases once per module, rolled back at its end.

    The servers are checked first, so a missing one skips before any import; then
    `csv_report` runs the CSV import, rolled back, before this one starts.
    """
    report_path = tmp_path_factory.mktemp("live") / "report.json"
    with django_db_blocker.unblock(), transaction.atomic():
        call_command(
            "import_legacy",
            core=core_url,
            portal=portal_url,
            cognito=str(SAMPLE / "cognito-users.json"),
            report=str(report_path),
            no_progress=True,
            stdout=io.StringIO(),
        )
        yield _report_from_json(report_path)
        transaction.set_rollback(True)


def test_live_import_counts_equal_the_csv_import_table_by_table(imported, csv_report, db):
    assert imported.tables.keys() == csv_report.tables.keys()
    for name, counts in csv_report.tables.items():
        assert imported.tables[name] == counts, name


def test_live_import_rejects_the_same_rows_as_the_csv_import(imported, csv_report, db):
    def keys(report: ImportReport) -> set[tuple[str, str, str]]:
        return {(r["source"], r["table"], r["legacy_id"]) for r in report.rejects}

    assert keys(imported) == keys(csv_report)
