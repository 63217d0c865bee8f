"""Reads: the objects a user may see or change, each in a fixed number of queries."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.db.models import Q, QuerySet

from .access import access_profile
from .models import Company, CompanyUserObjectPermission, Membership, Team, User
from .pagination import SORTED_ALIKE, rows_in_order, slice_ids_first
from .principals import APIKeyPrincipal
from .scopes import scope_lookups


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


def company_access_view(*, company: Company) -> list[dict]:
    """Return, per member of a company, what they may do there and which grant says so."""
    memberships = list(
        Membership.objects.filter(company=company)
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