"""The people: Core's users, Portal's members and Cognito's users, one User per e-mail address.

`scan_people` first gathers what every system says about each person (`People`), so the
user written from the first row already holds the facts of all of them (active in any
system, verified in Cognito, a superuser in Core).
"""

from __future__ import annotations

from importers.load import core, portal
from importers.load.engine import FieldRules, Planned, chunks
from importers.load.state import LoadContext, Place
from importers.normalize import person_key
from importers.sources import ERRORS_KEY, read_cognito
from rbac.models import User

USER_RULES: FieldRules = {
    "email": "keep", "password": "keep", "date_joined": "min", "is_active": "set",
    "email_verified": "set", "cognito_sub": "set", "is_staff": "set", "is_superuser": "set",
}


def scan_people(ctx: LoadContext) -> None:
    """Gather, before writing any user, what all systems say about each person."""
    people = ctx.people
    if ctx.cognito_path:
        for row in read_cognito(ctx.cognito_path):
            if ERRORS_KEY not in row:
                people.cognito[row["sub"]] = portal.cognito_facts(row)
    if ctx.core:
        for batch in ctx.batches(ctx.core, "user_roles", "scan "):
            people.super_core_ids.update(
                row["user_id"] for row in batch
                if ERRORS_KEY not in row and row["role"] == core.SUPER_ADMIN
            )
        for batch in ctx.batches(ctx.core, "users", "scan "):
            for row in batch:
                key = person_key(row.get("email")) if ERRORS_KEY not in row else None
                if key is None:
                    continue
                facts = people.facts[key]
                facts.core_active |= bool(row["is_active"])
                facts.superuser |= row["id"] in people.super_core_ids
                people.company_emails[("core", row["organization_id"])].add(key)
    if ctx.portal:
        for batch in ctx.batches(ctx.portal, "member", "scan "):
            for row in batch:
                key = person_key(row.get("email")) if ERRORS_KEY not in row else None
                if key is None:
                    continue
                facts = people.facts[key]
                sub = row.get("cognito_sub")
                pool_user = people.cognito.get(sub) if sub else None
                facts.portal_active |= portal.member_active(row, pool_user)
                if pool_user:
                    facts.email_verified |= pool_user.email_verified
                if sub:
                    people.claim_sub(key, sub)
                people.company_emails[("portal", row["company_id"])].add(key)


def load_users(ctx: LoadContext) -> None:
    maps, facts = ctx.maps, ctx.people.facts
    for rows in ctx.readable_rows(ctx.core, "users"):
        planned, places = [], {}
        for row in rows:
            key = person_key(row.get("email"))
            company = maps.company_of.get(("core", row["organization_id"]))
            if key is None or company is None:
                ctx.report.reject("core", "users", str(row["id"]), (
                    f"e-mail address {row.get('email')!r} is not valid"
                    if key is None else
                    f"its organization {row['organization_id']} was not imported"))
                continue
            values = core.user_values(row, key, core.person_values(facts[key]))
            planned.append(Planned(str(row["id"]), row, key, values))
            places[row["id"]] = Place(company, maps.team_of.get(("core", row["department_id"])))
        pks = ctx.writer.write("core", "users", User, planned, maps.user_by_key, USER_RULES,
                               maps.users_written)
        for legacy_id, pk in pks.items():
            maps.core_user[int(legacy_id)] = pk
            maps.core_place[int(legacy_id)] = places[int(legacy_id)]
    for rows in ctx.readable_rows(ctx.portal, "member"):
        planned = []
        for row in rows:
            key = person_key(row.get("email"))
            company = maps.company_of.get(("portal", row["company_id"]))
            if key is None or company is None:
                ctx.report.reject("portal", "member", str(row["member_id"]), (
                    f"e-mail address {row.get('email')!r} is not valid"
                    if key is None else
                    f"its company {row['company_id']} does not exist in Portal"))
                continue
            values = portal.member_values(row, key, core.person_values(facts[key]), ctx.now)
            planned.append(Planned(str(row["member_id"]), row, key, values))
        pks = ctx.writer.write("portal", "member", User, planned, maps.user_by_key,
                               USER_RULES, maps.users_written)
        for legacy_id, pk in pks.items():
            maps.member[int(legacy_id)] = pk
        for p in planned:
            if p.values["cognito_sub"] and p.legacy_id in pks:
                maps.user_by_sub[p.values["cognito_sub"]] = pks[p.legacy_id]
    if ctx.cognito_path:
        _load_cognito_users(ctx)


def _load_cognito_users(ctx: LoadContext) -> None:
    maps, facts = ctx.maps, ctx.people.facts
    rows = list(read_cognito(ctx.cognito_path))
    for chunk in chunks(rows, ctx.batch_size):
        planned = []
        for row in ctx.read("cognito", "users", chunk):
            key = person_key(row.get("email"))
            user = maps.user_by_sub.get(row["sub"])
            if user is None and key is not None:
                user = maps.user_by_key.get(key)
            if user is None or key is None:
                ctx.report.reject("cognito", "users", row["sub"], (
                    f"no Portal member or Core user has this Cognito user "
                    f"({row.get('email')}); it belongs to no company, so it is not imported"))
                continue
            # The person's facts, Cognito's included, went into a user written in this
            # run from its own address: nothing left to merge.
            done = user in maps.users_written and maps.user_by_key.get(key) == user
            values = core.person_values(facts[key]) if key in facts and not done else {}
            planned.append(Planned(row["sub"], row, ("user", user), values))
        sub_map = {("user", pk): pk for pk in {p.key[1] for p in planned}}
        ctx.writer.write("cognito", "users", User, planned, sub_map, USER_RULES)
