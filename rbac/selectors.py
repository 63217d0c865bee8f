"""Reads: the objects a user may see or change, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, reduce
from operator import or_

from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.db.models import Q, QuerySet

from .access import access_profile
from .direct import direct_permission_model, is_direct_table
from .models import Company, CompanyUserObjectPermission, Membership, Role, Team, User
from .pagination import SORTED_ALIKE, rows_in_order, slice_ids_first
from .principals import APIKeyPrincipal, scope_needed
from .scopes import scope_lookups, scope_of
from .tokens import SCOPES


def visibility_conditions(
    *, user, model: type[models.Model], action: str = "view"
) -> list[Q] | None:
    """Return the conditions any one of which lets the user `action` a row; None means all rows.

    Plain id lists (from the cached profile) on indexed foreign keys, never a subquery over
    the permission tables, so the database can use its indexes; each list is one array
    parameter on PostgreSQL (rbac.lookups).
    """
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    codename = f"{action}_{model._meta.model_name}"
    perm = f"{model._meta.app_label}.{codename}"
    company_lookup, team_lookup = scope_lookups(model)
    if isinstance(user, APIKeyPrincipal):
        if company_lookup is None or not user.allows(perm):
            return []
        return [Q(**{company_lookup: user.company_id})]
    profile = access_profile(user)
    conditions = []
    direct_ids = profile.directly_granted_ids(user, model, codename)
    if direct_ids:
        conditions.append(Q(pk__any_of=direct_ids))
    if company_lookup and (company_ids := profile.companies_with(perm)):
        conditions.append(Q(**{f"{company_lookup}__any_of": company_ids}))
    if team_lookup and (team_ids := profile.teams_with(perm)):
        conditions.append(Q(**{f"{team_lookup}__any_of": team_ids}))
    return conditions


def objects_for_user(*, user, queryset: QuerySet, action: str = "view") -> QuerySet:
    """Filter a queryset of a company-governed model down to what the user may `action`."""
    conditions = visibility_conditions(user=user, model=queryset.model, action=action)
    if conditions is None:
        return queryset
    if not conditions:
        return queryset.none()
    return queryset.filter(reduce(or_, conditions))


def visible_page(*, user, queryset: QuerySet, start: int, stop: int, action: str = "view") -> list:
    """Return `objects_for_user(...)[start:stop]` as a list, in one union query for the ids.

    A user who sees a few hundred companies sees thousands of documents: ORing the
    conditions makes the database fetch every visible row to sort it. Each condition alone
    is a sorted scan of one covering index, so the page is the union of each condition's
    own first `stop` rows, sorted once more here. `queryset` may be filtered, ordered and
    reduced to `values()` (with its id); it must not be filtered by permission yet.
    """
    conditions = visibility_conditions(user=user, model=queryset.model, action=action)
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
    fields = [name.lstrip("-") for name in ordering]
    if (
        conditions is None
        or len(conditions) < 2
        or not _sortable_here(queryset, fields)
        or not connection.features.supports_slicing_ordering_in_compound
    ):
        visible = objects_for_user(user=user, queryset=queryset, action=action)
        return slice_ids_first(visible, start, stop)
    branches = [
        queryset.filter(condition).order_by(*ordering).values_list("pk", *fields)[:stop]
        for condition in conditions
    ]
    rows = list({row[0]: row for row in branches[0].union(*branches[1:], all=True)}.values())
    for position in reversed(range(len(fields))):  # stable sorts, last key first
        rows.sort(
            key=lambda row, i=position + 1: (row[i] is None, row[i]),  # NULLs as PostgreSQL does
            reverse=ordering[position].startswith("-"),
        )
    return rows_in_order(queryset, [row[0] for row in rows[start:stop]])




def _sortable_here(queryset: QuerySet, fields: list[str]) -> bool:
    """Return whether the union's rows can be sorted in Python as the database sorted them."""
    fields_of_values = queryset._fields
    if fields_of_values and "id" not in fields_of_values and "pk" not in fields_of_values:
        return False  # rows without their id cannot be loaded by it
    opts = queryset.model._meta
    for name in fields:
        if name == "pk":
            continue
        try:
            field = opts.get_field(name)
        except FieldDoesNotExist:
            return False  # related lookups, annotations, "?"
        if not isinstance(field, SORTED_ALIKE):
            return False
    return True


def companies_for_user(*, user, action: str = "view") -> QuerySet[Company]:
    return objects_for_user(user=user, queryset=Company.objects.all(), action=action)


def teams_for_user(*, user, action: str = "view") -> QuerySet[Team]:
    return objects_for_user(
        user=user, queryset=Team.objects.select_related("company", "parent"), action=action
    )


def memberships_for_user(*, user, action: str = "view") -> QuerySet[Membership]:
    return objects_for_user(
        user=user,
        queryset=Membership.objects.select_related("user", "company", "team", "role"),
        action=action,
    )


# Up to this many people, the ones a user may see are sent as one list of ids.
MAX_VISIBLE_USER_IDS = 10_000


def users_for_user(*, user) -> QuerySet[User]:
    """Return the users the actor may see: themselves and the members of what they can see.

    The members are read first, as ids (one index scan of the memberships): "themselves
    or a member" as one condition with a subquery makes PostgreSQL test every user row.
    """
    if user.is_superuser:
        return User.objects.all()
    visible = (memberships_for_user(user=user).order_by().values_list("user_id", flat=True)
               .distinct())
    ids = list(visible[: MAX_VISIBLE_USER_IDS + 1])
    if len(ids) > MAX_VISIBLE_USER_IDS:
        return User.objects.filter(Q(pk=user.pk) | Q(pk__in=visible))
    return User.objects.filter(pk__any_of=[user.pk, *ids])


def company_administered_by(*, user, company: Company) -> bool:
    return user.is_superuser or user.has_perm("rbac.manage_permissions", company)


def api_key_scopes_grantable(*, user, company: Company) -> tuple[str, ...]:
    """Return the key scopes the user may give a key of the company, in SCOPES order.

    A key acts for the whole company with every permission its scopes cover
    (rbac.principals.scope_needed): "read" every view permission a role can hold, "write"
    every add, change, delete and share of content and teams, "admin" everything. A person
    may give a scope only when their own company-wide roles there hold every permission it
    covers, so no key does more than its maker may: an Owner gives all three, an Admin
    read and write, Billing (which cannot read the company's content) none.
    """
    if user.is_superuser:
        return SCOPES
    held = access_profile(user).scope_perms(company.pk, None)
    role_perms = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.filter(rbac_roles__isnull=False)
        .values_list("content_type__app_label", "codename").distinct()
    }
    covered = {scope: {p for p in role_perms if scope_needed(p) == scope} for scope in SCOPES}
    covered["admin"] = role_perms
    return tuple(scope for scope in SCOPES if covered[scope] <= held)


def company_member_count(*, company: Company) -> int:
    """Return how many people hold a role in the company or one of its teams."""
    return User.objects.filter(memberships__company=company).distinct().count()


def company_access_view(*, company: Company, limit: int | None = None) -> list[dict]:
    """Return, per member of a company, what they may do there and which grant says so.

    With `limit`, only the first `limit` members by e-mail address: the page that shows
    it stays the same size whatever the company's.
    """
    memberships = Membership.objects.filter(company=company)
    if limit is not None:
        first_members = (
            User.objects.filter(memberships__company=company).distinct()
            .order_by("email").values_list("pk", flat=True)[:limit]
        )
        memberships = memberships.filter(user_id__in=list(first_members))
    memberships = list(
        memberships
        .select_related("user", "team", "role")
        .prefetch_related("role__permissions__content_type")
        .order_by("user__email", "team__name")
    )
    rows: dict[int, dict] = {}
    for membership in memberships:
        row = rows.setdefault(
            membership.user_id, {"user": membership.user, "grants": [], "direct": []}
        )
        perms = sorted(
            f"{p.content_type.app_label}.{p.codename}" for p in membership.role.permissions.all()
        )
        row["grants"].append(
            {"membership": membership, "role": membership.role,
             "scope": membership.scope_label, "permissions": perms}
        )
    company_direct = _direct_company_grants(company)
    for user_id, perms in company_direct.items():
        if user_id in rows:
            rows[user_id]["direct"] = perms
    return list(rows.values())


def _direct_company_grants(company: Company) -> dict[int, list[str]]:
    grants: dict[int, list[str]] = {}
    for user_id, codename in CompanyUserObjectPermission.objects.filter(
        content_object=company
    ).values_list("user_id", "permission__codename"):
        grants.setdefault(user_id, []).append(f"rbac.{codename}")
    return grants

PATH_SEPARATOR = " › "


def team_path_labels(*, teams, with_company: bool = True) -> dict[int, str]:
    """Return "Company › Parent › Team" for each team, in at most two queries.

    Two "Engineering" teams of two "Acme" companies read alike in a picker; their paths
    do not. The ancestors' names come from one query over the ancestry ids.
    """
    teams = list(teams)
    ancestor_ids = {ancestor for team in teams for ancestor in team.ancestor_ids}
    known = {team.pk: team.name for team in teams}
    missing = ancestor_ids - known.keys()
    if missing:
        known.update(Team.objects.filter(pk__in=missing).values_list("pk", "name"))
    company_names: dict[int, str] = {}
    if with_company:
        company_ids = {team.company_id for team in teams}
        loaded = {
            team.company_id: str(team.company) for team in teams
            if "company" in team._state.fields_cache
        }
        company_names.update(loaded)
        if company_ids - loaded.keys():
            company_names.update(
                (company.pk, str(company))
                for company in Company.objects.filter(pk__in=company_ids - loaded.keys())
                .only("pk", "name", "country")
            )
    labels = {}
    for team in teams:
        parts = [known.get(ancestor, "?") for ancestor in team.ancestor_ids] + [team.name]
        if with_company:
            parts.insert(0, company_names.get(team.company_id, "?"))
        labels[team.pk] = PATH_SEPARATOR.join(parts)
    return labels


# --- access in words ---------------------------------------------------------------------

STANDARD_ACTIONS = ("view", "add", "change", "delete", "share")


@dataclass(frozen=True)
class AccessReason:
    """One person's access to one object, and the role or grant behind it, as a sentence."""

    user: User
    because: str  # "Editor in Acme (DE), company-wide"
    kind: str  # "company role", "team role", "direct grant"
    membership: Membership | None = None


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def permissions_in_words(perms) -> list[str]:
    """Return "view, add and change documents"-style phrases for "app.codename" permissions."""
    actions_by_model: dict[tuple[str, str], list[str]] = {}
    others: list[str] = []
    for perm in sorted(perms):
        app_label, _, codename = perm.partition(".")
        action, _, model_name = codename.partition("_")
        if action in STANDARD_ACTIONS and _model(app_label, model_name) is not None:
            actions_by_model.setdefault((app_label, model_name), []).append(action)
        else:
            others.append(_custom_permission_name(app_label, codename))
    phrases = []
    for (app_label, model_name), actions in actions_by_model.items():
        ordered = [action for action in STANDARD_ACTIONS if action in actions]
        plural = _model(app_label, model_name)._meta.verbose_name_plural
        phrases.append(f"{_words(ordered)} {plural}")
    return sorted(phrases) + sorted(others)


def _model(app_label: str, model_name: str):
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def _custom_permission_name(app_label: str, codename: str) -> str:
    for model in apps.get_app_config(app_label).get_models():
        for name, description in model._meta.permissions:
            if name == codename:
                return description.removeprefix("Can ").strip()
    return codename.replace("_", " ")


def _scope_words(membership: Membership, company_label: str | None = None) -> str:
    company = company_label or str(membership.company)
    if membership.team_id is None:
        return f"{membership.role} in {company}, company-wide"
    return f"{membership.role} of the team {membership.team} in {company}"


@dataclass(frozen=True)
class AccessList:
    reasons: list[AccessReason]
    more: bool  # reasons beyond the limit were left out


def who_can_access(
    *, obj: models.Model, action: str = "view", limit: int | None = None
) -> AccessList:
    """Return who may `action` the object and why, one line per role or grant, by e-mail.

    Superusers, who may do everything everywhere, are not listed. The roles of a company
    that is not active give nothing, so then only direct grants count. A fixed number of
    queries whatever the number of members (roles, team names, direct grants), and at most
    `limit` lines: a page cannot show a large company's every member.
    """
    company_id, team_id = scope_of(obj)
    if company_id is None:
        return AccessList([], more=False)
    window = slice(0, limit + 1 if limit is not None else None)
    model = type(obj)
    codename = f"{action}_{model._meta.model_name}"
    company = obj if isinstance(obj, Company) else Company.objects.get(pk=company_id)
    reasons: list[AccessReason] = []
    if company.status == Company.Status.ACTIVE:
        holding = Role.objects.filter(
            permissions__codename=codename,
            permissions__content_type=ContentType.objects.get_for_model(model),
        ).values("pk")
        teams, team = ([team_id], None) if team_id else ([], None)
        if team_id:
            team = obj if isinstance(obj, Team) else Team.objects.only(
                "ancestry", "name").get(pk=team_id)
            teams += team.ancestor_ids
        memberships = (
            Membership.objects.filter(company_id=company_id, role__in=holding)
            .filter(Q(team__isnull=True) | Q(team_id__in=teams))
            .select_related("user", "role", "team")
            .order_by("user__email", "team_id")
        )
        for membership in memberships[window]:
            because = _scope_words(membership, str(company))
            if membership.team_id and membership.team_id != team_id:
                because += f", which includes {team.name}"
            reasons.append(AccessReason(
                user=membership.user, because=because,
                kind="team role" if membership.team_id else "company role",
                membership=membership,
            ))
    perm_model = direct_permission_model(model)
    rows = perm_model.objects.filter(permission__codename=codename).select_related("user")
    if is_direct_table(perm_model):
        rows = rows.filter(content_object_id=obj.pk)
    else:
        rows = rows.filter(
            content_type=ContentType.objects.get_for_model(model), object_pk=str(obj.pk)
        )
    for row in rows.order_by("user__email")[window]:
        reasons.append(AccessReason(
            user=row.user, because=f"a direct grant of {action} on this {model._meta.verbose_name}",
            kind="direct grant",
        ))
    reasons.sort(key=lambda reason: reason.user.email)
    if limit is not None and len(reasons) > limit:
        return AccessList(reasons[:limit], more=True)
    return AccessList(reasons, more=False)


@dataclass(frozen=True)
class PersonInCompany:
    """What one person can do in one company: each role with its permissions in words."""

    company: Company
    roles: list[tuple[Membership, list[str]]]
    direct: list[str]
    company_active: bool
    permissions: set[str]  # "app.codename" held through any of the roles, in any scope


def person_access(*, user: User, companies=None) -> list[PersonInCompany]:
    """Return, per company the person belongs to, their roles and what each lets them do.

    `companies` limits it to those ids (what the reader may see). Queries: memberships,
    role permissions, and one per direct-grant table.
    """
    memberships = Membership.objects.filter(user=user).select_related("company", "team", "role")
    if companies is not None:
        memberships = memberships.filter(company_id__in=companies)
    memberships = list(memberships.order_by("company__name", "company_id", "team__name"))
    role_perms = _role_permission_names({m.role_id for m in memberships})
    role_phrases = {role_id: permissions_in_words(perms) for role_id, perms in role_perms.items()}
    direct = _direct_grants_in_words(user, {m.company_id for m in memberships})
    by_company: dict[int, PersonInCompany] = {}
    for membership in memberships:
        entry = by_company.get(membership.company_id)
        if entry is None:
            entry = by_company[membership.company_id] = PersonInCompany(
                company=membership.company, roles=[],
                direct=direct.get(membership.company_id, []),
                company_active=membership.company.status == Company.Status.ACTIVE,
                permissions=set(),
            )
        entry.permissions.update(role_perms.get(membership.role_id, ()))
        entry.roles.append((membership, role_phrases.get(membership.role_id, [])))
    return list(by_company.values())


def person_access_in_company(*, user: User, company: Company) -> list[str]:
    """Return "what can this person do here" as sentences, each naming its role or grant."""
    sentences = []
    for entry in person_access(user=user, companies=[company.pk]):
        if not entry.company_active:
            sentences.append(f"{company} is {company.get_status_display().lower()}: "
                             "its roles give nothing until it is active again.")
        for membership, phrases in entry.roles:
            what = "; ".join(phrases) if phrases else "nothing"
            sentences.append(f"As {_scope_words(membership)}: {what}.")
        sentences.extend(f"By a direct grant: {grant}." for grant in entry.direct)
    return sentences


def _role_permission_names(role_ids: set[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    if not role_ids:
        return names
    rows = Permission.objects.filter(rbac_roles__in=role_ids).values_list(
        "rbac_roles", "content_type__app_label", "codename"
    )
    for role_id, app_label, codename in rows:
        names.setdefault(role_id, []).append(f"{app_label}.{codename}")
    return names


def _direct_grants_in_words(user: User, company_ids: set[int]) -> dict[int, list[str]]:
    """Return, per company, the person's direct grants as "change on document report.pdf"."""
    grants: dict[int, list[str]] = {}
    if not company_ids:
        return grants
    for model in _governed_models():
        perm_model = direct_permission_model(model)
        if not is_direct_table(perm_model):
            continue
        company_lookup, _ = scope_lookups(model)
        rows = perm_model.objects.filter(
            user=user, **{f"content_object__{company_lookup}__in": company_ids}
        ).select_related("permission", "content_object")
        for row in rows:
            target = row.content_object
            company_id, _ = scope_of(target)
            action = row.permission.codename.split("_", 1)[0]
            grants.setdefault(company_id, []).append(
                f"{action} on {model._meta.verbose_name} {target}"
            )
    return grants


@cache
def _governed_models() -> tuple[type[models.Model], ...]:
    """Return the company-governed models that have a direct-permission table of their own."""
    return tuple(
        model for model in apps.get_models()
        if scope_lookups(model)[0] is not None
        and is_direct_table(direct_permission_model(model))
    )
