"""Company matching against the sample's ground truth: precision, recall, review pairs, time.

Run from the repository root: ``python -m bench.matching_eval [--scale N]``.
``--scale N`` also times N disjoint copies of the sample (70 ≈ production size).
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

from importers.matching import MatchResult, match_companies
from importers.normalize import domain_from_url
from importers.records import CompanyRecord, RecordKey

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "legacy_sample"

Pair = tuple[RecordKey, RecordKey]


def _rows(path: Path, *, portal: bool) -> Iterable[dict[str, str | None]]:
    # Portal exports carry a BOM and use ';'; in both, an empty field is NULL.
    encoding, delimiter = ("utf-8-sig", ";") if portal else ("utf-8", ",")
    with path.open(encoding=encoding, newline="") as handle:
        for row in csv.DictReader(handle, delimiter=delimiter):
            yield {column: value if value != "" else None for column, value in row.items()}


def _emails_by_company(path: Path, company_column: str, *, portal: bool) -> dict[int, set[str]]:
    emails: dict[int, set[str]] = defaultdict(set)
    for row in _rows(path, portal=portal):
        if row[company_column] and row["email"]:
            emails[int(row[company_column])].add(row["email"])
    return emails


def load_sample_company_records(sample_dir: Path = SAMPLE_DIR) -> list[CompanyRecord]:
    """Return the sample's Core organizations and Portal companies, with their people."""
    core, portal = sample_dir / "csv" / "core", sample_dir / "csv" / "portal"
    core_emails = _emails_by_company(core / "users.csv", "organization_id", portal=False)
    portal_emails = _emails_by_company(portal / "member.csv", "company_id", portal=True)
    records = [
        CompanyRecord(
            source="core",
            legacy_id=int(row["id"]),
            name=row["name"] or "",
            legal_name=row["legal_name"],
            vat=row["vat_number"],
            country=row["country"],
            domain=row["domain"],
            deleted=row["deleted_at"] is not None,
            emails=frozenset(core_emails[int(row["id"])]),
        )
        for row in _rows(core / "organizations.csv", portal=False)
    ]
    records += [
        CompanyRecord(
            source="portal",
            legacy_id=int(row["company_id"]),
            name=row["company_name"] or "",
            vat=row["vat"],
            country=row["country"],
            domain=row["website"],
            deleted=row["is_deleted"] == "1",
            emails=frozenset(portal_emails[int(row["company_id"])]),
        )
        for row in _rows(portal / "company.csv", portal=True)
    ]
    return records


def truth_company_clusters(sample_dir: Path = SAMPLE_DIR) -> list[list[RecordKey]]:
    truth = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))
    return [
        [("core", i) for i in company["core"]] + [("portal", i) for i in company["portal"]]
        for company in truth["companies"]
    ]


def same_company_pairs(clusters: Iterable[Iterable[RecordKey]]) -> set[Pair]:
    return {pair for cluster in clusters for pair in combinations(sorted(cluster), 2)}


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    wrong_merges: frozenset[Pair]
    missed_merges: frozenset[Pair]


def pairwise_score(
    predicted: Iterable[Iterable[RecordKey]], truth: Iterable[Iterable[RecordKey]]
) -> Score:
    found, expected = same_company_pairs(predicted), same_company_pairs(truth)
    right = found & expected
    return Score(
        precision=len(right) / len(found) if found else 1.0,
        recall=len(right) / len(expected) if expected else 1.0,
        wrong_merges=frozenset(found - expected),
        missed_merges=frozenset(expected - found),
    )


def evaluate_sample(sample_dir: Path = SAMPLE_DIR) -> tuple[Score, MatchResult]:
    result = match_companies(load_sample_company_records(sample_dir))
    return pairwise_score(result.clusters, truth_company_clusters(sample_dir)), result


def _disjoint_copy(record: CompanyRecord, copy: int, id_offset: int) -> CompanyRecord:
    """Return a copy that shares no name, VAT, domain or address with other copies."""
    tag = f"x{copy}"
    return replace(
        record,
        legacy_id=record.legacy_id + id_offset,
        name=f"{tag} {record.name}",
        legal_name=f"{tag} {record.legal_name}" if record.legal_name else None,
        vat=f"{record.vat}{copy:04d}" if record.vat else None,
        domain=f"{tag}{domain_from_url(record.domain)}" if domain_from_url(record.domain) else None,
        emails=frozenset(f"{tag}.{email.strip()}" for email in record.emails),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=0, help="also time N copies of the sample")
    args = parser.parse_args()

    records = load_sample_company_records()
    truth = truth_company_clusters()
    started = time.perf_counter()
    result = match_companies(records)
    elapsed = time.perf_counter() - started
    score = pairwise_score(result.clusters, truth)

    rows = [("sample", len(records), score.precision, score.recall, len(result.review_pairs),
             len(result.merges), elapsed)]  # fmt: skip
    if args.scale:
        scaled = [_disjoint_copy(r, c, c * 1_000_000) for c in range(args.scale) for r in records]
        started = time.perf_counter()
        scaled_result = match_companies(scaled)
        rows.append((f"sample x{args.scale}", len(scaled), float("nan"), float("nan"),
                     len(scaled_result.review_pairs), len(scaled_result.merges),
                     time.perf_counter() - started))  # fmt: skip

    print(f"{'data':<14}{'records':>9}{'precision':>11}{'recall':>9}{'review':>8}"
          f"{'merges':>8}{'seconds':>9}")  # fmt: skip
    for name, count, precision, recall, review, merges, seconds in rows:
        print(f"{name:<14}{count:>9}{precision:>11.4f}{recall:>9.4f}{review:>8}{merges:>8}"
              f"{seconds:>9.2f}")  # fmt: skip
    for pair in sorted(score.wrong_merges):
        print("wrong merge:", pair)
    for pair in sorted(score.missed_merges):
        print("missed merge:", pair)
    for review in result.review_pairs:
        evidence = "; ".join(f"{e.kind}: {e.detail}" for e in review.evidence)
        print(f"review {review.reason}: {review.a} {review.b} — {evidence}")


if __name__ == "__main__":
    main()
