"""What an import did, per legacy table and per row that needs a person's attention."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OUTCOMES = ("created", "updated", "merged", "unchanged", "rejected")


def readable_duration(seconds: float | None) -> str:
    """Return a duration as people read it: "0.4 s", "12 s", "1 min 15 s", "2 h 5 min"."""
    if seconds is None:
        return "-"
    if seconds < 0.05:
        return "under 0.1 s"
    if round(seconds, 1) < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


@dataclass
class TableCounts:
    read: int = 0
    created: int = 0
    updated: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def balanced(self) -> bool:
        return self.read == sum(getattr(self, outcome) for outcome in OUTCOMES)


@dataclass
class ImportReport:
    tables: dict[str, TableCounts] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    review_pairs: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step of the run
    dry_run: bool = False
    # The run whose inputs were the same, when no row had to be read (importers.digest).
    unchanged_since: int | None = None
    # What the import's result depends on, recorded with its run (not part of the report).
    digest: dict[str, str] = field(default_factory=dict)

    def table(self, source: str, table: str) -> TableCounts:
        return self.tables.setdefault(f"{source}.{table}", TableCounts())

    def reject(self, source: str, table: str, legacy_id: str, reason: str) -> None:
        self.table(source, table).count("rejected")
        self.rejects.append(
            {"source": source, "table": table, "legacy_id": legacy_id, "reason": reason}
        )

    def conflict(self, kind: str, **details: Any) -> None:
        self.conflicts.append({"kind": kind, **details})

    def as_dict(self) -> dict[str, Any]:
        return {
            "tables": {name: asdict(counts) for name, counts in self.tables.items()},
            "rejects": self.rejects,
            "conflicts": self.conflicts,
            "review_pairs": self.review_pairs,
            "duration_s": round(self.duration_s, 3),
            "phases_s": {name: round(seconds, 3) for name, seconds in self.phases.items()},
            "dry_run": self.dry_run,
            "unchanged_since_run": self.unchanged_since,
        }

    def summary(self) -> str:
        """Return the per-table counts as a fixed-width text table."""
        headers = ("table", "read", *OUTCOMES)
        rows = [
            (name, *(str(getattr(counts, h)) for h in headers[1:]))
            for name, counts in self.tables.items()
        ]
        totals = TableCounts()
        for counts in self.tables.values():
            for h in headers[1:]:
                setattr(totals, h, getattr(totals, h) + getattr(counts, h))
        rows.append(("total", *(str(getattr(totals, h)) for h in headers[1:])))
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        lines = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in [headers, *rows]
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.insert(-1, lines[1])
        lines.append(
            f"{len(self.rejects)} rejected rows, {len(self.conflicts)} conflicts, "
            f"{len(self.review_pairs)} pairs to review; {self.duration_s:.1f} s"
            + (" (dry run: nothing written)" if self.dry_run else "")
            + (f"; sources unchanged since import run #{self.unchanged_since}, no row read"
               if self.unchanged_since else "")
        )
        return "\n".join(lines)
