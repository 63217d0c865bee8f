"""Who may do what: Core's roles and Portal's team roles as memberships, Portal's direct grants."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from operator import itemgetter

from django.contrib.auth.models import Permission
from django.db import models

from backoffice.projects.models import Document, DocumentUserObjectPermission
from importers import bulk
from importers.load import core, portal
from importers.load.engine import FieldRules, Planned, Row, chunks, fingerprint
from importers.load.people import USER_RULES
from importers.load.state import LoadContext, Scope, legacy_id_of
from importers.roles import highest_ranked
from rbac.models import (
    Company,
    CompanyUserObjectPermission,
    Membership,
    Team,
    TeamUserObjectPermission,
    User,
)

MEMBERSHIP_RULES: FieldRules = {
    "user_id": "keep", "company_id": "keep", "team_id": "keep", "role_id": "set",
    "created_at": "min",
}


@dataclass
class RoleCandidate:
    """A legacy row's role in a scope, before the highest of the scope is chosen."""

    source: str
    table: str
    planned: Planned
    rank: int
    role_slug: str


def load_memberships(ctx: LoadContext) -> None:
    candidates: dict[Scope, list[RoleCandidate]] = defaultdict(list)
    supers: list[Planned] = []
    for rows in ctx.readable_rows(ctx.core, "user_roles"):
        for row in rows:
            _core_role(ctx, row, candidates, supers)
    for rows in ctx.readable_rows(ctx.portal, "team_member"):
        for row in rows:
            _portal_role(ctx, row, candidates)
    for chunk in chunks(supers, ctx.batch_size):
        key_map = {p.key: p.key[1] for p in chunk}
        ctx.writer.write("core", "user_roles", User, chunk, key_map, USER_RULES)
    by_table: dict[tuple[str, str], list[Planned]] = defaultdict(list)
    for scope, items in candidates.items():
        _choose_role(ctx, scope, items)
        for item in items:
            by_table[(item.source, item.table)].append(item.planned)
    key_map: dict[Hashable, int] = {
        (user, company, team): pk for pk, user, company, team in
        Membership.objects.values_list("pk", "user_id", "company_id", "team_id")
    }
    for (source, table), planned in sorted(by_table.items()):
        for chunk in chunks(planned, ctx.batch_size):
            ctx.writer.write(source, table, Membership, chunk, key_map, MEMBERSHIP_RULES)


def _choose_role(ctx: LoadContext, scope: Scope, items: list[RoleCandidate]) -> None:
    """Give every row of a scope the highest role among them, or the one held already."""
    winner = highest_ranked(items, lambda c: c.rank)
    role_pk = ctx.roles[winner.role_slug].pk
    for item in items:
        item.planned.values["role_id"] = role_pk
        if item is not winner and item.role_slug != winner.role_slug:
            ctx.report.conflict(
                "role_outranked", row=f"{item.source}.{item.table} #{item.planned.legacy_id}",
                user=scope[0], company=scope[1], team=scope[2],
                kept=winner.role_slug, dropped=item.role_slug,
                rule="several roles in one scope: the highest rank wins",
            )
    # A role held through a row of a table not loaded now (an upload of one table): the
    # rows' role replaces it only when it ranks at least as high.
    held = ctx.held_roles.get(scope)
    if held is None or highest_ranked([(role_pk, winner.rank), held], itemgetter(1)) is not held:
        return
    for item in items:
        ctx.report.conflict(
            "role_outranked", row=f"{item.source}.{item.table} #{item.planned.legacy_id}",
            user=scope[0], company=scope[1], team=scope[2], kept=held[0], dropped=role_pk,
            rule="several roles in one scope: the highest rank wins",
        )
        item.planned.values["role_id"] = held[0]


def _core_role(ctx: LoadContext, row: Row, candidates: dict[Scope, list[RoleCandidate]],
               supers: list[Planned]) -> None:
    legacy_id = legacy_id_of("core", "user_roles", row)
    user_pk = ctx.maps.core_user.get(row["user_id"])
    place = ctx.maps.core_place.get(row["user_id"])
    if user_pk is None or place is None:
        ctx.report.reject("core", "user_roles", legacy_id,
                          f"its user {row['user_id']} was not imported")
        return
    role_name = (row.get("role") or "").strip()
    if role_name == core.SUPER_ADMIN:
        supers.append(Planned(legacy_id, row, ("user", user_pk),
                              {"is_staff": True, "is_superuser": True}))
        return
    if role_name not in core.ROLES:
        ctx.report.reject("core", "user_roles", legacy_id,
                          f"unknown Core role {role_name!r}: no unified role corresponds")
        return
    slug, scope = core.ROLES[role_name]
    company, team = place
    if scope == "company":
        team = None
    elif team is None and scope == "department":
        ctx.report.reject("core", "user_roles", legacy_id,
                          f"{role_name} needs a department; user {row['user_id']} has none")
        return
    values = {"user_id": user_pk, "company_id": company, "team_id": team,
              "created_at": core.role_granted_at(row, ctx.now)}
    candidates[(user_pk, company, team)].append(RoleCandidate(
        "core", "user_roles", Planned(legacy_id, row, (user_pk, company, team), values),
        ctx.roles[slug].rank, slug))


def _portal_role(ctx: LoadContext, row: Row,
                 candidates: dict[Scope, list[RoleCandidate]]) -> None:
    legacy_id = legacy_id_of("portal", "team_member", row)
    user = ctx.maps.member.get(row["member_id"])
    team = ctx.maps.team_of.get(("portal", row["team_id"]))
    slug = portal.ROLES.get(row.get("team_role") or "")
    if user is None or team is None or slug is None:
        ctx.report.reject("portal", "team_member", legacy_id, (
            f"its member {row['member_id']} does not exist in Portal (or was rejected)"
            if user is None else
            f"its team {row['team_id']} does not exist in Portal" if team is None else
            f"unknown Portal team role {row.get('team_role')!r}"))
        return
    company = ctx.maps.team_company[team]
    values = {"user_id": user, "company_id": company, "team_id": team,
              "created_at": portal.membership_added_at(row, ctx.now)}
    candidates[(user, company, team)].append(RoleCandidate(
        "portal", "team_member", Planned(legacy_id, row, (user, company, team), values),
        ctx.roles[slug].rank, slug))


# direct grants ------------------------------------------------------------------------------


def load_grants(ctx: LoadContext) -> None:
    if not ctx.portal:
        return
    maps, prov = ctx.maps, ctx.writer.prov
    targets: dict[str, tuple[type[models.Model], type[models.Model], Callable]] = {
        "company": (Company, CompanyUserObjectPermission,
                    lambda i: maps.company_of.get(("portal", i))),
        "team": (Team, TeamUserObjectPermission, lambda i: maps.team_of.get(("portal", i))),
        "file": (Document, DocumentUserObjectPermission, maps.file_of.get),
    }
    permissions = {
        (model, bit): Permission.objects.get(
            content_type=prov.content_type(model),
            codename=f"{action}_{model._meta.model_name}",
        ).pk
        for model, _, _ in targets.values() for bit, action in portal.PERMISSION_BITS.items()
    }
    counts = ctx.report.table("portal", "permission_grant")
    for rows in ctx.readable_rows(ctx.portal, "permission_grant"):
        existing = prov.lookup("portal", "permission_grant", [str(r["grant_id"]) for r in rows])
        grants: dict[type[models.Model], list[tuple[int, int, int]]] = defaultdict(list)
        for row in rows:
            legacy_id = str(row["grant_id"])
            user = maps.member.get(row["member_id"])
            target = targets.get(row["resource_type"])
            obj = target[2](row["resource_id"]) if target else None
            bits = row["perms"] or 0
            if user is None or obj is None or not bits & portal.KNOWN_BITS:
                ctx.report.reject("portal", "permission_grant", legacy_id, (
                    f"its member {row['member_id']} does not exist in Portal (or was rejected)"
                    if user is None else
                    f"its {row['resource_type']} {row['resource_id']} does not exist in Portal"
                    if obj is None else f"no known permission bit in {bits}"))
                continue
            if bits & ~portal.KNOWN_BITS:
                ctx.report.conflict(
                    "unknown_permission_bits", row=f"portal.permission_grant #{legacy_id}",
                    perms=bits, ignored=bits & ~portal.KNOWN_BITS,
                    rule="only 1 view, 2 change, 4 delete, 8 share are imported",
                )
            fp = fingerprint(row)
            record = existing.get(legacy_id)
            if record is not None and record.fingerprint == fp:
                counts.count("unchanged")
                continue
            model, perm_model, _ = target
            for bit in portal.granted_actions(bits):
                grants[perm_model].append((user, obj, permissions[(model, bit)]))
            if record is None:
                counts.count("created")
                prov.add("portal", "permission_grant", legacy_id, model, obj, fp, origin=True)
            else:
                # A changed grant adds the bits it gained; it does not take any away.
                counts.count("updated")
                prov.refresh(record, fp)
        for perm_model, triples in grants.items():
            bulk.insert_new(perm_model, ("user_id", "content_object_id", "permission_id"),
                            triples)
        prov.flush()
