"""Apply a staff decision that two imported companies are the same: merge them now.

`merge_companies` moves everything of the dropped company onto the kept one: its teams
(a team whose name the kept company already has becomes that team), memberships (one
role per scope, the higher rank wins), projects, documents, API keys, direct object
permissions and the legacy provenance, fills the kept company's empty fields from the
dropped one, and deletes the dropped company. Every moved row gets a history entry with
the reason. The next import then finds both legacy rows pointing at the kept company and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from simple_history.utils import bulk_update_with_history

from backoffice.projects.models import Document, Project
from importers.models import LegacyRecord, ReviewPair
from importers.normalize import team_key
from importers.roles import highest_ranked
from rbac.models import (
    APIKey,
    Company,
    CompanyUserObjectPermission,
    Membership,
    Team,
    TeamUserObjectPermission,
    User,
)

_FILLED_FIELDS = ("legal_name", "vat_number", "country", "domain")


@dataclass
class MergeResult:
    kept: Company
    dropped_pk: int
    dropped_name: str


def _save_with_history(model: type[models.Model], objects: list[models.Model],
                       fields: list[str], user: User | None, reason: str) -> None:
    if objects:
        bulk_update_with_history(objects, model, fields, default_user=user,
                                 default_change_reason=reason)


def _reassign(model: type[models.Model], field: str, old: models.Model, new: models.Model,
              user: User | None, reason: str) -> None:
    """Point every `model` row whose `field` is `old` at `new`, with history."""
    objects = list(model.objects.filter(**{field: old}))
    for obj in objects:
        setattr(obj, field, new)
    _save_with_history(model, objects, [field], user, reason)


def _repoint_records(model: type[models.Model], old: int, new: int) -> None:
    LegacyRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id=old
    ).update(object_id=new, is_origin=False)


def _move_direct_grants(model: type[models.Model], old: int, new: int) -> None:
    existing = set(model.objects.filter(content_object_id=new)
                   .values_list("user_id", "permission_id"))
    for grant in model.objects.filter(content_object_id=old):
        if (grant.user_id, grant.permission_id) in existing:
            grant.delete()
        else:
            grant.content_object_id = new
            grant.save(update_fields=["content_object"])


def _move_memberships(memberships: Iterable[Membership], company: Company, team: Team | None,
                      user: User | None, reason: str) -> None:
    """Move memberships into a scope; where the person already has one, keep the higher."""
    held = {(m.user_id, m.team_id): m
            for m in Membership.objects.select_related("role").filter(company=company)}
    moved = []
    for membership in memberships:
        team_id = team.pk if team is not None else membership.team_id
        other = held.get((membership.user_id, team_id))
        if other is not None and other.pk != membership.pk:
            winner = highest_ranked([other, membership], lambda m: m.role.rank)
            loser = membership if winner is other else other
            _repoint_records(Membership, loser.pk, winner.pk)
            loser.delete()
            if winner is other:
                continue
        membership.company, membership.team_id = company, team_id
        held[(membership.user_id, team_id)] = membership
        moved.append(membership)
    _save_with_history(Membership, moved, ["company", "team"], user, reason)


def _merge_team(drop: Team, keep: Team, user: User | None, reason: str) -> None:
    _move_memberships(Membership.objects.select_related("role").filter(team=drop),
                      keep.company, keep, user, reason)
    for model, field in ((Project, "team"), (Document, "team"), (Team, "parent")):
        _reassign(model, field, drop, keep, user, reason)
    _move_direct_grants(TeamUserObjectPermission, drop.pk, keep.pk)
    _repoint_records(Team, drop.pk, keep.pk)
    drop._change_reason = reason
    drop.delete()


def _rebuild_ancestry(company: Company, user: User | None, reason: str) -> None:
    teams = {team.pk: team for team in Team.objects.filter(company=company)}
    ancestry: dict[int, str] = {}

    def path(team: Team) -> str:
        if team.pk not in ancestry:
            parent = teams.get(team.parent_id)
            ancestry[team.pk] = f"{path(parent)}{parent.pk}/" if parent else "/"
        return ancestry[team.pk]

    changed = []
    for team in teams.values():
        if team.ancestry != path(team):
            team.ancestry = path(team)
            changed.append(team)
    _save_with_history(Team, changed, ["ancestry"], user, reason)


@transaction.atomic
def merge_companies(*, keep: Company, drop: Company, user: User | None = None) -> MergeResult:
    """Merge `drop` into `keep` (see the module's text); return what happened."""
    if keep.pk == drop.pk:
        raise ValueError("A company cannot be merged into itself.")
    keep = Company.objects.select_for_update().get(pk=keep.pk)
    drop = Company.objects.select_for_update().get(pk=drop.pk)
    reason = f"merged company #{drop.pk} ({drop.name}) into #{keep.pk}"

    kept_teams = {team_key(team.name): team for team in Team.objects.filter(company=keep)}
    for team in sorted(Team.objects.filter(company=drop), key=lambda t: t.ancestry.count("/")):
        same = kept_teams.get(team_key(team.name))
        if same is not None:
            _merge_team(team, same, user, reason)
    # The others move as they are now, with the parents the merges gave them.
    _reassign(Team, "company", drop, keep, user, reason)
    _move_memberships(Membership.objects.select_related("role").filter(company=drop), keep,
                      None, user, reason)

    codes = set(Project.objects.filter(company=keep).values_list("code", flat=True))
    projects = list(Project.objects.filter(company=drop))
    for project in projects:
        project.company = keep
        if project.code in codes:
            project.code = f"{project.code}-{drop.pk}"
    _save_with_history(Project, projects, ["company", "code"], user, reason)
    for model in (Document, APIKey):
        _reassign(model, "company", drop, keep, user, reason)
    _move_direct_grants(CompanyUserObjectPermission, drop.pk, keep.pk)
    _repoint_records(Company, drop.pk, keep.pk)

    dropped_name, dropped_pk = drop.name, drop.pk
    fills = {name: getattr(drop, name) for name in _FILLED_FIELDS
             if not getattr(keep, name) and getattr(drop, name)}
    if drop.status == Company.Status.ACTIVE:
        fills["status"] = Company.Status.ACTIVE
    drop._change_reason = reason
    drop.delete()  # before the kept company may take its VAT number
    for name, value in fills.items():
        setattr(keep, name, value)
    keep._change_reason = reason
    keep.save()
    _rebuild_ancestry(keep, user, reason)
    return MergeResult(keep, dropped_pk, dropped_name)


def companies_of(pair: ReviewPair) -> tuple[Company | None, Company | None]:
    """Return the unified companies the pair's two legacy rows were imported into."""
    content_type = ContentType.objects.get_for_model(Company)
    found = []
    for source, table, legacy_id in (pair.left_key, pair.right_key):
        object_id = (LegacyRecord.objects
                     .filter(source=source, table=table, legacy_id=legacy_id,
                             content_type=content_type)
                     .values_list("object_id", flat=True).first())
        found.append(Company.objects.filter(pk=object_id).first() if object_id else None)
    return found[0], found[1]


def apply_same_decision(pair: ReviewPair, user: User | None = None) -> MergeResult | None:
    """Merge the pair's companies now (the older one is kept); None if already one or absent."""
    left, right = companies_of(pair)
    if left is None or right is None or left.pk == right.pk:
        return None
    keep, drop = sorted((left, right), key=lambda company: company.pk)
    return merge_companies(keep=keep, drop=drop, user=user)
