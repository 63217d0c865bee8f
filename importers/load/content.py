"""What the companies hold: Core's projects and documents, Portal's files, the API keys."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from backoffice.projects.models import Document, Project
from importers.load import core, portal
from importers.load.engine import PLAIN_RULES, FieldRules, Planned
from importers.load.state import LoadContext, ProjectPlace
from rbac.models import APIKey

PROJECT_RULES: FieldRules = {"company_id": "keep", "code": "keep", "created_at": "min"}


def missing(kind: str, legacy_id: Any) -> str:
    """Return why a row whose `kind` (organization, company, …) is unknown is rejected."""
    if kind == "organization":
        return f"its organization {legacy_id} was not imported"
    return f"its {kind} {legacy_id} does not exist in Portal"


def _uploader(ctx: LoadContext, row: str, uploader_id: int | None,
              found: int | None) -> int | None:
    if uploader_id is None:
        return None
    if found is None:
        ctx.report.conflict("uploader_missing", row=row, uploader=uploader_id,
                            rule="imported without an uploader")
    return found


def load_projects_and_documents(ctx: LoadContext) -> None:
    if not ctx.core:
        return
    maps = ctx.maps
    key_map: dict[Hashable, int] = {
        (company, code): pk for pk, company, code in
        Project.objects.values_list("pk", "company_id", "code")
    }
    for rows in ctx.readable_rows(ctx.core, "projects"):
        planned = []
        for row in rows:
            company = maps.company_of.get(("core", row["organization_id"]))
            if company is None:
                ctx.report.reject("core", "projects", str(row["id"]),
                                  missing("organization", row["organization_id"]))
                continue
            team = maps.team_of.get(("core", row["department_id"]))
            planned.append(Planned(str(row["id"]), row, (company, row["code"]),
                                   core.project_values(row, company, team)))
        pks = ctx.writer.write("core", "projects", Project, planned, key_map, PROJECT_RULES)
        by_id = {p.legacy_id: p.values for p in planned}
        for legacy_id, pk in pks.items():
            values = by_id[legacy_id]
            maps.project_of[int(legacy_id)] = ProjectPlace(pk, values["company_id"],
                                                           values["team_id"])
    for rows in ctx.readable_rows(ctx.core, "documents"):
        planned = []
        for row in rows:
            project = maps.project_of.get(row["project_id"])
            if project is None:
                ctx.report.reject("core", "documents", str(row["id"]),
                                  f"its project {row['project_id']} was not imported")
                continue
            uploader = _uploader(ctx, f"core.documents #{row['id']}", row["uploaded_by"],
                                 maps.core_user.get(row["uploaded_by"]))
            planned.append(Planned(str(row["id"]), row, None,
                                   core.document_values(row, project, uploader)))
        ctx.writer.write("core", "documents", Document, planned, {}, PLAIN_RULES)


def load_files(ctx: LoadContext) -> None:
    maps = ctx.maps
    for rows in ctx.readable_rows(ctx.portal, "file"):
        planned = []
        for row in rows:
            team = maps.team_of.get(("portal", row["team_id"]))
            if team is None:
                ctx.report.reject("portal", "file", str(row["file_id"]),
                                  f"its team {row['team_id']} does not exist in Portal")
                continue
            uploader_id = row.get("uploader_member_id")
            uploader = _uploader(ctx, f"portal.file #{row['file_id']}", uploader_id,
                                 maps.member.get(uploader_id))
            values = portal.file_values(row, maps.team_company[team], team, uploader, ctx.now)
            planned.append(Planned(str(row["file_id"]), row, None, values))
        for legacy_id, pk in ctx.writer.write("portal", "file", Document, planned, {},
                                              PLAIN_RULES).items():
            maps.file_of[int(legacy_id)] = pk


def load_api_keys(ctx: LoadContext) -> None:
    for rows in ctx.readable_rows(ctx.core, "api_clients"):
        planned = []
        for row in rows:
            company = ctx.maps.company_of.get(("core", row["organization_id"]))
            if company is None:
                ctx.report.reject("core", "api_clients", str(row["id"]),
                                  missing("organization", row["organization_id"]))
                continue
            planned.append(Planned(str(row["id"]), row, None,
                                   core.api_client_values(row, company)))
        ctx.writer.write("core", "api_clients", APIKey, planned, {}, PLAIN_RULES)
    for rows in ctx.readable_rows(ctx.portal, "api_key"):
        planned = []
        for row in rows:
            company = ctx.maps.company_of.get(("portal", row["company_id"]))
            if company is None:
                ctx.report.reject("portal", "api_key", str(row["key_id"]),
                                  missing("company", row["company_id"]))
                continue
            planned.append(Planned(str(row["key_id"]), row, None,
                                   portal.api_key_values(row, company, ctx.now)))
        ctx.writer.write("portal", "api_key", APIKey, planned, {}, PLAIN_RULES)
