"""Reads: the objects a user may see or change, each in a fixed number of queries."""

from __future__ import annotations

from django.db import models
from django.db.models import Q, QuerySet

from .access import AccessProfile, access_profile
from .direct import direct_object_ids, direct_perms_on
from .models import APIKey, Company, Membership, Role, Team, User
from .principals import APIKeyPrincipal
from .scopes import scope_lookups


def objects_for_user(*, user, queryset: QuerySet, action: str = "view") -> QuerySet:
    """Filter a queryset of a company-governed model down to what the user may `action`.

    Uses plain id lists (from the cached profile) and indexed foreign keys, never a
    subquery over the permission tables, so the database can use its indexes.
    """
    model = queryset.model
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_superuser:
        return queryset
    codename = f"{action}_{model._meta.model_name}"
    perm = f"{model._meta.app_label}.{codename}"
    company_lookup, team_lookup = scope_lookups(model)
    if isinstance(user, APIKeyPrincipal):
        if company_lookup is None or not user.allows(perm):
            return queryset.none()
        return queryset.filter(**{company_lookup: user.company_id})
    profile = access_profile(user)

    condition = Q(pk__in=direct_object_ids(user, model, codename))
    if company_lookup:
        condition |= Q(**{f"{company_lookup}__in": profile.companies_with(perm)})
    if team_lookup:
        condition |= Q(**{f"{team_lookup}__in": profile.teams_with(perm)})
    return queryset.filter(condition)


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


def api_keys_for_user(*, user, action: str = "view") -> QuerySet[APIKey]:
    return objects_for_user(
        user=user, queryset=APIKey.objects.select_related("company"), action=action
    )


def users_for_user(*, user) -> QuerySet[User]:
    """Return the users the actor may see: themselves and the members of what they can see."""
    if user.is_superuser:
        return User.objects.all()
    visible = memberships_for_user(user=user).values("user_id")
    return User.objects.filter(Q(pk=user.pk) | Q(pk__in=visible))


def roles_grantable_by(*, user, company: Company) -> QuerySet[Role]:
    """Return the roles the user may grant in a company: ranked at or below their own."""
    if user.is_superuser:
        return Role.objects.all()
    rank = access_profile(user).best_rank(company.pk, needs="rbac.manage_permissions")
    if rank is None:
        return Role.objects.none()
    return Role.objects.filter(rank__lte=rank)


def company_administered_by(*, user, company: Company) -> bool:
    return user.is_superuser or user.has_perm("rbac.manage_permissions", company)


def user_company_ids(*, user) -> list[int]:
    return sorted({grant.company_id for grant in access_profile(user).grants})


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
    from .models import CompanyUserObjectPermission

    grants: dict[int, list[str]] = {}
    for user_id, codename in CompanyUserObjectPermission.objects.filter(
        content_object=company
    ).values_list("user_id", "permission__codename"):
        grants.setdefault(user_id, []).append(f"rbac.{codename}")
    return grants


def explain_access(*, user, obj: models.Model) -> list[str]:
    """Return human-readable reasons why the user holds permissions on an object."""
    from .scopes import scope_of

    profile: AccessProfile = access_profile(user)
    company_id, team_id = scope_of(obj)
    reasons = []
    for m in profile.memberships:
        if m.company_id != company_id:
            continue
        if m.team_id is None:
            reasons.append(f"{m.role} of the company")
        elif team_id and team_id in profile.team_perms and (
            m.team_id == team_id or str(m.team_id) in _lineage(obj, team_id)
        ):
            reasons.append(f"{m.role} of team {m.team}")
    direct = direct_perms_on(user, obj)
    if direct:
        reasons.append("direct grant: " + ", ".join(sorted(direct)))
    return reasons


def _lineage(obj: models.Model, team_id: int) -> list[str]:
    team = obj if isinstance(obj, Team) else Team.objects.filter(pk=team_id).first()
    return team.ancestry.strip("/").split("/") if team else []
