"""Know, before reading a row, whether an import would change anything.

A digest names everything an import's result depends on: each legacy table's content
(hashed by its own server, or the CSV file's bytes), the Cognito export's bytes, the
importer's own code, the staff's review decisions and the roles. When the digest equals
the one recorded by the last successful import, and that import's provenance is still all
there, a re-run would change nothing: it reports every row as unchanged (rejects as
rejected) without reading the rows. Anything different, and the whole import runs.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from importers.legacy_schema import TABLES
from importers.models import ImportRun, LegacyRecord, ReviewPair
from importers.report import ImportReport, TableCounts
from importers.sources import LegacySource, file_digest
from rbac.models import Role

# The modules and packages whose code decides what a legacy row becomes.
_CODE = ("legacy_schema", "load", "matching", "normalize", "records", "roles", "sources")
RECORDS_KEY = "legacy_records"


def _code_files() -> list[Path]:
    here = Path(__file__).resolve().parent
    files: list[Path] = []
    for name in _CODE:
        if (here / name).is_dir():
            files += sorted((here / name).rglob("*.py"))
        else:
            files.append(here / f"{name}.py")
    return files


@cache
def _code_digest() -> str:
    sha = hashlib.sha256()
    for path in _code_files():
        sha.update(path.read_bytes())
    return sha.hexdigest()


def _rows_digest(rows: Any) -> str:
    return hashlib.sha256(json.dumps(list(rows), default=str).encode()).hexdigest()


def source_digest(
    core: LegacySource | None, portal: LegacySource | None, cognito: str | None
) -> dict[str, str]:
    """Return {what: digest} for every input of an import of these sources."""
    digest: dict[str, str] = {"code": _code_digest()}
    for source in (core, portal):
        if source is not None:
            for table in TABLES[source.system]:
                digest[f"{source.system}.{table}"] = source.digest(table)
    if cognito:
        digest["cognito.users"] = file_digest(cognito)
    digest["review_decisions"] = _rows_digest(
        ReviewPair.objects.exclude(status=ReviewPair.Status.OPEN)
        .order_by("pk").values_list("pk", "status")
    )
    digest["roles"] = _rows_digest(Role.objects.order_by("pk").values_list("pk", "slug", "rank"))
    return digest


def with_records(digest: dict[str, str]) -> dict[str, str]:
    """Add the number of provenance rows, as they stand after an import."""
    return digest | {RECORDS_KEY: str(LegacyRecord.objects.count())}


def unchanged_since(digest: dict[str, str]) -> ImportRun | None:
    """Return the last successful import if its inputs were these and its work is intact."""
    last = ImportRun.objects.filter(status=ImportRun.Status.SUCCEEDED).order_by("-pk").first()
    if last is None or not last.digest or not last.report:
        return None
    recorded = dict(last.digest)
    records = recorded.pop(RECORDS_KEY, None)
    if recorded != digest or records != str(LegacyRecord.objects.count()):
        return None
    return last


def unchanged_report(run: ImportRun, *, dry_run: bool) -> ImportReport:
    """The report of a re-run on the inputs of `run`: every row unchanged or still rejected."""
    previous = run.report
    report = ImportReport(dry_run=dry_run, unchanged_since=run.pk, digest=dict(run.digest))
    for name, counts in previous["tables"].items():
        rejected = counts.get("rejected", 0)
        report.tables[name] = TableCounts(
            read=counts["read"], unchanged=counts["read"] - rejected, rejected=rejected
        )
    report.rejects = list(previous.get("rejects", []))
    report.conflicts = list(previous.get("conflicts", []))
    report.review_pairs = list(previous.get("review_pairs", []))
    return report
