"""Record an import, of the whole export or of one uploaded table, as an ImportRun."""

from __future__ import annotations

from typing import Any

from importers.models import ImportRun
from importers.report import ImportReport
from rbac.models import User


def import_run_record(
    *, options: dict[str, Any], duration_s: float, started_by: User | None = None,
    started_by_name: str = "", report: ImportReport | None = None, error: str = "",
    digest: dict[str, str] | None = None,
) -> ImportRun:
    """Record a finished import: succeeded with its report, or failed with its error."""
    fields: dict[str, Any] = {
        "started_by": started_by, "started_by_name": started_by_name, "options": options,
        "duration_s": duration_s,
    }
    if report is None:
        fields.update(status=ImportRun.Status.FAILED, error=error)
    else:
        fields.update(status=ImportRun.Status.SUCCEEDED, report=report.as_dict())
    if digest is not None:
        fields["digest"] = digest
    return ImportRun.objects.create(**fields)
