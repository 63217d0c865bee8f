"""What one user may do where: their memberships resolved into permission sets.

Only memberships of active companies count: a suspended or archived company's roles give
nothing (superusers, who need no role, still see it). Built in a few queries (memberships,
the status of their companies, role permissions, covered teams) and kept on the user
object, so a page can ask `has_perm` for every row without new queries. The process keeps
the profiles it built too, each under the user's access version (rbac.access_versions):
the database moves a user's version in the same transaction as any change to what they may
do, so a profile kept under the version a request reads is exactly the one it would build.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.contrib.auth.models import Permission
from django.db.models import Q

from .direct import direct_object_ids
from .models import AccessVersion, Company, Membership, Team

CACHE_ATTRIBUTE = "_rbac_access_profile"
# user id -> (access version, profile) for the profiles this process built.
_built: dict[int, tuple[int, AccessProfile]] = {}
BUILT_PROFILES_KEPT = 4096


class Grant(NamedTuple):
    """One membership, reduced to what permission checks read."""

    company_id: int
    team_id: int | None
    role_id: int
    rank: int


@dataclass
class AccessProfile:
    user_id: int
    grants: list[Grant]
    company_perms: dict[int, frozenset[str]]
    team_perms: dict[int, frozenset[str]]
    # (model label, object id) -> direct guardian permissions, filled lazily, per request.
    direct_cache: dict[tuple[str, int], frozenset[str]] = field(default_factory=dict)
    # (model label, codename) -> ids of the objects granted directly; kept with the profile,
    # as the direct grants move the access version too.
    direct_ids: dict[tuple[str, str], list] = field(default_factory=dict)
    _memberships: list[Membership] | None = None

    @property
    def memberships(self) -> list[Membership]:
        """The membership objects themselves, loaded only by the pages that show them."""
        if self._memberships is None:
            self._memberships = list(
                Membership.objects.filter(user_id=self.user_id).select_related(
                    "role", "team", "company"
                )
            )
        return self._memberships

    def directly_granted_ids(self, user, model, codename: str) -> list:
        """Return ids of the model's objects on which the user holds `codename` directly."""
        key = (model._meta.label_lower, codename)
        if key not in self.direct_ids:
            self.direct_ids[key] = direct_object_ids(user, model, codename)
        return self.direct_ids[key]

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
            grant.rank
            for grant in self.grants
            if grant.company_id == company_id
            and grant.team_id is None
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
    # Plain rows, not model objects: building 200 memberships with their roles and teams
    # as objects cost more than all of the profile's queries together. No company join:
    # only company_id is needed, and the join made the planner scan every company.
    rows = list(
        Membership.objects.filter(user_id=user.pk).values_list(
            "company_id", "team_id", "role_id", "role__rank", "team__ancestry"
        )
    )
    if rows:
        rows = _in_active_companies(rows)
    grants = [Grant(company, team, role, rank) for company, team, role, rank, _ in rows]
    role_perms = role_permission_names({grant.role_id for grant in grants}) if grants else {}

    company_perms: dict[int, set[str]] = defaultdict(set)
    team_roots: dict[int, set[str]] = defaultdict(set)
    root_prefixes: dict[int, str] = {}
    for company_id, team_id, role_id, _rank, ancestry in rows:
        perms = role_perms.get(role_id, frozenset())
        if team_id is None:
            company_perms[company_id] |= perms
        else:
            team_roots[team_id] |= perms
            root_prefixes[team_id] = f"{ancestry}{team_id}/"

    team_perms: dict[int, set[str]] = defaultdict(set)
    if team_roots:
        covering = reduce(
            or_, (Q(ancestry__startswith=prefix) for prefix in root_prefixes.values())
        )
        for team_id, ancestry in Team.objects.filter(
            Q(pk__in=team_roots) | covering
        ).values_list("pk", "ancestry"):
            lineage = {team_id, *(int(part) for part in ancestry.strip("/").split("/") if part)}
            for root_id in lineage & team_roots.keys():
                team_perms[team_id] |= team_roots[root_id]

    return AccessProfile(
        user_id=user.pk,
        grants=grants,
        company_perms={cid: frozenset(p) for cid, p in company_perms.items()},
        team_perms={tid: frozenset(p) for tid, p in team_perms.items()},
    )


def _in_active_companies(rows: list[tuple]) -> list[tuple]:
    """Drop the memberships of companies that are not active (first column: company id).

    A query on the primary keys of the user's companies, rather than a join in the
    membership query, which made the planner scan every company.
    """
    inactive = set(
        Company.objects.filter(pk__in={row[0] for row in rows})
        .exclude(status=Company.Status.ACTIVE)
        .values_list("pk", flat=True)
    )
    return [row for row in rows if row[0] not in inactive] if inactive else rows


def access_version(user) -> int:
    """Return the user's access version, 0 before anything ever changed their access."""
    try:
        return user.access_version.version  # joined by the bearer-token lookup
    except AccessVersion.DoesNotExist:
        return 0


def access_profile(user) -> AccessProfile:
    """Return the user's access profile, kept on the user object for the request."""
    profile = getattr(user, CACHE_ATTRIBUTE, None)
    if profile is None:
        profile = _current_profile(user)
        setattr(user, CACHE_ATTRIBUTE, profile)
    return profile


def _current_profile(user) -> AccessProfile:
    version = access_version(user)
    kept = _built.get(user.pk)
    if kept is None or kept[0] != version:
        kept = (version, build_access_profile(user))
        if len(_built) >= BUILT_PROFILES_KEPT:
            _built.clear()  # rebuilding costs milliseconds; bookkeeping an LRU costs every hit
        _built[user.pk] = kept
    # The request's own copy: object caches and loaded memberships stay with the request.
    return replace(kept[1], direct_cache={}, _memberships=None)


def forget_access_profile(user) -> None:
    """Drop the cached profile after the user's memberships changed."""
    _built.pop(user.pk, None)
    for name in (CACHE_ATTRIBUTE, "access_version"):
        user.__dict__.pop(name, None)
    if hasattr(user, "_state"):
        user._state.fields_cache.pop("access_version", None)
    # Django's and guardian's own per-object caches go stale too.
    for name in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_guardian_perms_cache"):
        if hasattr(user, name):
            delattr(user, name)


def forget_built_profiles() -> None:
    """Drop every profile this process keeps (tests whose rollbacks rewind versions)."""
    _built.clear()
