"""What one user may do where: their memberships resolved into permission sets.

Built once per user object in three queries (memberships, role permissions, covered
teams) and kept on it, so a page can ask `has_perm` for every row without new queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.contrib.auth.models import Permission
from django.db.models import Q

from .models import Membership, Team

CACHE_ATTRIBUTE = "_rbac_access_profile"


@dataclass
class AccessProfile:
    memberships: list[Membership]
    company_perms: dict[int, frozenset[str]]
    team_perms: dict[int, frozenset[str]]
    # (model label, object id) -> direct guardian permissions, filled lazily.
    direct_cache: dict[tuple[str, int], frozenset[str]] = field(default_factory=dict)

    def scope_perms(self, company_id: int | None, team_id: int | None) -> frozenset[str]:
        perms = self.company_perms.get(company_id, frozenset()) if company_id else frozenset()
        if team_id:
            perms = perms | self.team_perms.get(team_id, frozenset())
        return perms

    def companies_with(self, perm: str) -> list[int]:
        return sorted(cid for cid, perms in self.company_perms.items() if perm in perms)

    def teams_with(self, perm: str) -> list[int]:
        return sorted(tid for tid, perms in self.team_perms.items() if perm in perms)

    def best_rank(self, company_id: int, *, needs: str | None = None) -> int | None:
        """Return the highest rank the user holds at company scope, optionally with a permission."""
        ranks = [
            m.role.rank
            for m in self.memberships
            if m.company_id == company_id
            and m.team_id is None
            and (needs is None or needs in self.company_perms.get(company_id, frozenset()))
        ]
        return max(ranks, default=None)


def role_permission_names(role_ids: set[int]) -> dict[int, frozenset[str]]:
    """Return "app_label.codename" permissions of each role, in one query."""
    names: dict[int, set[str]] = defaultdict(set)
    rows = Permission.objects.filter(rbac_roles__in=role_ids).values_list(
        "rbac_roles", "content_type__app_label", "codename"
    )
    for role_id, app_label, codename in rows:
        names[role_id].add(f"{app_label}.{codename}")
    return {role_id: frozenset(perms) for role_id, perms in names.items()}


def build_access_profile(user) -> AccessProfile:
    # No company join: the profile needs only company_id, and joining the company made the
    # planner hash all of rbac_company (a sequential scan) on every request.
    memberships = list(Membership.objects.filter(user_id=user.pk).select_related("role", "team"))
    role_perms = role_permission_names({m.role_id for m in memberships}) if memberships else {}

    company_perms: dict[int, set[str]] = defaultdict(set)
    team_roots: dict[int, set[str]] = defaultdict(set)
    for membership in memberships:
        perms = role_perms.get(membership.role_id, frozenset())
        if membership.team_id is None:
            company_perms[membership.company_id] |= perms
        else:
            team_roots[membership.team_id] |= perms

    team_perms: dict[int, set[str]] = defaultdict(set)
    if team_roots:
        roots = {m.team_id: m.team for m in memberships if m.team_id}
        covering = reduce(
            or_, (Q(ancestry__startswith=team.subtree_prefix) for team in roots.values())
        )
        for team_id, ancestry in Team.objects.filter(
            Q(pk__in=roots) | covering
        ).values_list("pk", "ancestry"):
            lineage = {team_id, *(int(part) for part in ancestry.strip("/").split("/") if part)}
            for root_id in lineage & team_roots.keys():
                team_perms[team_id] |= team_roots[root_id]

    return AccessProfile(
        memberships=memberships,
        company_perms={cid: frozenset(p) for cid, p in company_perms.items()},
        team_perms={tid: frozenset(p) for tid, p in team_perms.items()},
    )


def access_profile(user) -> AccessProfile:
    """Return the user's access profile, built on first use and kept on the user object."""
    profile = getattr(user, CACHE_ATTRIBUTE, None)
    if profile is None:
        profile = build_access_profile(user)
        setattr(user, CACHE_ATTRIBUTE, profile)
    return profile


def forget_access_profile(user) -> None:
    """Drop the cached profile after the user's memberships changed."""
    if hasattr(user, CACHE_ATTRIBUTE):
        delattr(user, CACHE_ATTRIBUTE)
    # Django's and guardian's own per-object caches go stale too.
    for name in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_guardian_perms_cache"):
        if hasattr(user, name):
            delattr(user, name)
