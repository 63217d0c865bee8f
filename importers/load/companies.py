"""The companies, matched across both systems, and their teams (departments, Portal teams)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from typing import Any

from django.utils import timezone

from importers import matching
from importers.bulk import WRITE_BATCH_SIZE
from importers.load import core, portal
from importers.load.engine import FieldRules, Planned, Row, chunks
from importers.load.state import LoadContext
from importers.models import ReviewPair
from importers.normalize import team_key
from importers.records import CompanyRecord
from rbac.models import Company, Team

COMPANY_TABLES = {"core": "organizations", "portal": "company"}
TEAM_TABLES = {"core": "departments", "portal": "team"}
COMPANY_RULES: FieldRules = {"status": "set", "created_at": "min"}
TEAM_RULES: FieldRules = {
    "company_id": "keep", "name": "keep", "ancestry": "quiet", "created_at": "min",
}


def cluster_status(records: list[CompanyRecord]) -> str:
    """Return a matched company's status: archived only when every legacy copy is deleted."""
    if all(record.deleted for record in records):
        return Company.Status.ARCHIVED
    return Company.Status.ACTIVE


def _company_rows(ctx: LoadContext, system: str) -> list[Row]:
    source = ctx.core if system == "core" else ctx.portal
    rows: list[Row] = []
    for readable in ctx.readable_rows(source, COMPANY_TABLES[system]):
        rows.extend(readable)
    return rows


def load_companies(ctx: LoadContext) -> None:
    """Match every company row of both systems, then write one company per match."""
    core_rows = _company_rows(ctx, "core")
    portal_rows = _company_rows(ctx, "portal")
    emails = ctx.people.company_emails
    records = [core.company_record(row, frozenset(emails.get(("core", row["id"]), ())))
               for row in core_rows]
    records += [portal.company_record(row, frozenset(emails.get(("portal", row["company_id"]),
                                                                  ())))
                for row in portal_rows]
    emails.clear()  # matching has them now
    decisions = [
        matching.Decision(
            (pair.left_source, int(pair.left_legacy_id)),
            (pair.right_source, int(pair.right_legacy_id)),
            matching.Verdict(pair.status),
        )
        for pair in ReviewPair.objects.exclude(status=ReviewPair.Status.OPEN)
    ]
    result = matching.match_companies(records, decisions=decisions)
    _store_review_pairs(ctx, result.review_pairs, {r.key: r for r in records})
    cluster_of: dict[tuple[str, int], int] = {}
    for index, cluster in enumerate(result.clusters):
        for record_key in cluster:
            cluster_of[record_key] = index
    by_key = {r.key: r for r in records}
    status_of = {
        index: cluster_status([by_key[k] for k in cluster])
        for index, cluster in enumerate(result.clusters)
    }
    key_map: dict[Hashable, int] = {}
    for system, table in COMPANY_TABLES.items():
        for legacy_id, pk in ctx.writer.prov.object_ids(system, table).items():
            index = cluster_of.get((system, int(legacy_id)))
            if index is not None:
                key_map.setdefault(index, pk)
    vat_owner: dict[str, Hashable] = {
        vat: ("pk", pk)
        for vat, pk in Company.objects.filter(vat_number__isnull=False).values_list(
            "vat_number", "pk"
        )
    }
    for system, rows in (("core", core_rows), ("portal", portal_rows)):
        table = COMPANY_TABLES[system]
        for chunk in chunks(rows, ctx.batch_size):
            planned = []
            for row in chunk:
                legacy_id = int(next(iter(row.values())))
                index = cluster_of[(system, legacy_id)]
                if system == "core":
                    values = core.company_values(row, status_of[index])
                else:
                    values = portal.company_values(row, status_of[index], timezone.now())
                _claim_vat(ctx, values, index, key_map, vat_owner, f"{system}.{table} #{legacy_id}")
                planned.append(Planned(str(legacy_id), row, index, values))
            for legacy_id, pk in ctx.writer.write(
                system, table, Company, planned, key_map, COMPANY_RULES
            ).items():
                ctx.maps.company_of[(system, int(legacy_id))] = pk


def _claim_vat(
    ctx: LoadContext, values: dict[str, Any], index: int, key_map: dict[Hashable, int],
    vat_owner: dict[str, Hashable], row: str,
) -> None:
    # A VAT number is unique in the unified model; when matching kept two rows with
    # the same number apart (conflicting evidence), only the first company gets it.
    vat = values.get("vat_number")
    if not vat:
        return
    mine = {("cluster", index)}
    if index in key_map:
        mine.add(("pk", key_map[index]))
    owner = vat_owner.setdefault(vat, ("cluster", index))
    if owner not in mine:
        values["vat_number"] = None
        ctx.report.conflict(
            "vat_in_use", row=row, vat=vat,
            rule="a VAT number belongs to one company; kept on the first, dropped here",
        )


def _evidence(record: CompanyRecord) -> dict[str, Any]:
    return {
        "name": record.name, "legal_name": record.legal_name, "vat": record.vat,
        "country": record.country, "domain": record.domain, "deleted": record.deleted,
        "people": len(record.emails),
    }


def _store_review_pairs(
    ctx: LoadContext, pairs: list[matching.CandidatePair],
    records: dict[tuple[str, int], CompanyRecord],
) -> None:
    existing = {
        (p.left_source, p.left_legacy_id, p.right_source, p.right_legacy_id): p
        for p in ReviewPair.objects.all()
    }
    new = []
    for pair in pairs:
        (ls, lid), (rs, rid) = pair.a, pair.b
        reason = f"{pair.reason.value}: " + "; ".join(e.detail for e in pair.evidence)
        ctx.report.review_pairs.append(
            {"a": f"{ls}.{COMPANY_TABLES[ls]} #{lid}",
             "b": f"{rs}.{COMPANY_TABLES[rs]} #{rid}", "reason": reason}
        )
        if (ls, str(lid), rs, str(rid)) in existing:
            continue
        new.append(
            ReviewPair(
                left_source=ls, left_table=COMPANY_TABLES[ls], left_legacy_id=str(lid),
                left_evidence=_evidence(records[pair.a]),
                right_source=rs, right_table=COMPANY_TABLES[rs], right_legacy_id=str(rid),
                right_evidence=_evidence(records[pair.b]), reason=reason[:255],
            )
        )
    ReviewPair.objects.bulk_create(new, batch_size=WRITE_BATCH_SIZE)


# teams ------------------------------------------------------------------------------------


def load_teams(ctx: LoadContext) -> None:
    key_map: dict[Hashable, int] = {
        (company_id, team_key(name)): pk
        for pk, company_id, name in Team.objects.values_list("pk", "company_id", "name")
    }
    if ctx.core:
        _load_departments(ctx, key_map)
    for rows in ctx.readable_rows(ctx.portal, "team"):
        planned = []
        for row in rows:
            company = ctx.maps.company_of.get(("portal", row["company_id"]))
            name = portal.team_name(row)
            if company is None or not name:
                ctx.report.reject("portal", "team", str(row["team_id"]), (
                    f"its company {row['company_id']} does not exist in Portal"
                    if company is None else "the team has no name"))
                continue
            planned.append(Planned(str(row["team_id"]), row, (company, team_key(name)),
                                   portal.team_values(row, company, ctx.now)))
        _write_teams(ctx, "portal", planned, key_map)


def _load_departments(ctx: LoadContext, key_map: dict[Hashable, int]) -> None:
    # Departments nest through parent_id: write them level by level, so a parent
    # always has its pk (and ancestry) before its children are created.
    rows: dict[int, Row] = {}
    for readable in ctx.readable_rows(ctx.core, "departments"):
        for row in readable:
            rows[row["id"]] = row

    def depth(dept_id: int) -> int:
        seen: set[int] = set()
        level = 0
        while (parent := rows[dept_id]["parent_id"]) in rows and parent not in seen:
            seen.add(dept_id)
            dept_id, level = parent, level + 1
        return level

    levels: dict[int, list[Row]] = defaultdict(list)
    for dept_id in rows:
        levels[depth(dept_id)].append(rows[dept_id])
    maps = ctx.maps
    for level in sorted(levels):
        for chunk in chunks(levels[level], ctx.batch_size):
            planned = []
            for row in chunk:
                company = maps.company_of.get(("core", row["organization_id"]))
                name = core.department_name(row)
                if company is None or not name:
                    ctx.report.reject("core", "departments", str(row["id"]), (
                        f"its organization {row['organization_id']} was not imported"
                        if company is None else "the department has no name"))
                    continue
                parent = maps.team_of.get(("core", row["parent_id"]))
                if parent is not None and maps.team_company.get(parent) != company:
                    parent = None
                values = core.department_values(
                    row, company, parent, maps.team_ancestry[parent] if parent else "")
                planned.append(Planned(str(row["id"]), row, (company, team_key(name)), values))
            _write_teams(ctx, "core", planned, key_map)


def _write_teams(ctx: LoadContext, system: str, planned: list[Planned],
                 key_map: dict[Hashable, int]) -> None:
    pks = ctx.writer.write(system, TEAM_TABLES[system], Team, planned, key_map, TEAM_RULES)
    by_id = {p.legacy_id: p for p in planned}
    for legacy_id, pk in pks.items():
        ctx.maps.team_of[(system, int(legacy_id))] = pk
        ctx.maps.team_company[pk] = by_id[legacy_id].values["company_id"]
        ctx.maps.team_ancestry.setdefault(pk, by_id[legacy_id].values["ancestry"])
