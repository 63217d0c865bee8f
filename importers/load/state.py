"""What one load knows as it goes: the id maps, the facts about people, and its reading.

The entity steps (`companies`, `people`, `content`, `access`) each fill some of the id
maps (legacy id → unified pk) that the later steps read. A load of one uploaded table
starts from the maps its earlier imports left in the provenance (`IdMaps.from_provenance`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, TextIO

from tqdm import tqdm

from backoffice.projects.models import Project
from importers.load.engine import Provenance, Row, Writer
from importers.report import ImportReport
from importers.sources import ERRORS_KEY, LegacySource
from rbac.models import Role, Team, User

# Where a membership is held: (user, company, team or None for the whole company).
Scope = tuple[int, int, int | None]


class Place(NamedTuple):
    """The company and team (department) an object belongs to."""

    company: int
    team: int | None


class ProjectPlace(NamedTuple):
    pk: int
    company: int
    team: int | None


@dataclass
class PersonFacts:
    """What every legacy row of one person says, gathered before any user is written."""

    core_active: bool = False
    portal_active: bool = False
    sub: str | None = None
    email_verified: bool = False
    superuser: bool = False

    @property
    def active(self) -> bool:
        return self.core_active or self.portal_active


@dataclass
class CognitoFacts:
    email_verified: bool
    enabled: bool


@dataclass
class People:
    """The facts about each person (by `person_key`), and who owns each Cognito sub."""

    facts: dict[str, PersonFacts] = field(default_factory=lambda: defaultdict(PersonFacts))
    cognito: dict[str, CognitoFacts] = field(default_factory=dict)
    sub_owner: dict[str, str] = field(default_factory=dict)
    company_emails: dict[tuple[str, int], set[str]] = field(
        default_factory=lambda: defaultdict(set))
    super_core_ids: set[int] = field(default_factory=set)

    def claim_sub(self, key: str, sub: str) -> None:
        """Give the person `key` the Cognito sub, unless it or another person has one."""
        facts = self.facts[key]
        if facts.sub is None and self.sub_owner.setdefault(sub, key) == key:
            facts.sub = sub


@dataclass
class IdMaps:
    """Legacy ids → unified pks, and natural keys → pks, as the load has written them."""

    company_of: dict[tuple[str, int], int] = field(default_factory=dict)
    team_of: dict[tuple[str, int], int] = field(default_factory=dict)
    team_ancestry: dict[int, str] = field(default_factory=dict)
    team_company: dict[int, int] = field(default_factory=dict)
    core_user: dict[int, int] = field(default_factory=dict)  # Core user id → user pk
    core_place: dict[int, Place] = field(default_factory=dict)  # Core user id → place
    member: dict[int, int] = field(default_factory=dict)  # Portal member id → user pk
    project_of: dict[int, ProjectPlace] = field(default_factory=dict)
    file_of: dict[int, int] = field(default_factory=dict)
    user_by_key: dict[Hashable, int] = field(default_factory=dict)
    user_by_sub: dict[str, int] = field(default_factory=dict)
    users_written: set[int] = field(default_factory=set)  # took a Core or Portal row's values

    @classmethod
    def from_database(cls) -> IdMaps:
        """Return the maps of what exists before any row is read: teams and users."""
        return cls(
            team_ancestry=dict(Team.objects.values_list("pk", "ancestry")),
            team_company=dict(Team.objects.values_list("pk", "company_id")),
            user_by_key={
                email.lower(): pk for email, pk in User.objects.values_list("email", "pk")},
            user_by_sub=dict(
                User.objects.filter(cognito_sub__isnull=False).values_list("cognito_sub", "pk")),
        )

    @classmethod
    def from_provenance(cls, provenance: Provenance) -> IdMaps:
        """Return the maps as every import so far has left them in the provenance.

        For a load of one table, which reads none of the tables that fill the maps. The
        places of Core users are not kept, so the roles that need them are not loaded so.
        """
        maps = cls.from_database()
        for system, table, target in (
            ("core", "organizations", maps.company_of), ("portal", "company", maps.company_of),
            ("core", "departments", maps.team_of), ("portal", "team", maps.team_of),
        ):
            for legacy_id, pk in provenance.id_map(system, table).items():
                target[(system, legacy_id)] = pk
        maps.member = provenance.id_map("portal", "member")
        maps.file_of = provenance.id_map("portal", "file")
        maps.core_user = provenance.id_map("core", "users")
        places = {
            pk: ProjectPlace(pk, company, team) for pk, company, team in
            Project.objects.values_list("pk", "company_id", "team_id")
        }
        maps.project_of = {
            legacy_id: places[pk]
            for legacy_id, pk in provenance.id_map("core", "projects").items() if pk in places
        }
        return maps


def unreadable(row: Row) -> str:
    problems = "; ".join(f"{column}: {problem}" for column, problem in row[ERRORS_KEY].items())
    return f"unreadable value ({problems})"


def legacy_id_of(source: str, table: str, row: Row) -> str:
    """Return the id a legacy row is known by in reports and provenance."""
    if table == "team_member":
        return f"{row.get('team_id')}:{row.get('member_id')}"
    if table == "user_roles":
        return f"{row.get('user_id')}:{row.get('role')}"
    if source == "cognito":
        return str(row.get("sub"))
    first = next(iter(row))
    return str(row[first])


@dataclass
class LoadContext:
    """Everything a step of the load reads and writes through."""

    core: LegacySource | None
    portal: LegacySource | None
    cognito_path: str | None
    report: ImportReport
    writer: Writer
    maps: IdMaps
    people: People
    now: datetime
    batch_size: int
    progress: TextIO | None = None
    # Roles held through rows of tables not loaded now: (role pk, rank) per scope.
    held_roles: dict[Scope, tuple[int, int]] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)

    def batches(self, source: LegacySource, table: str, verb: str = "") -> Iterator[list[Row]]:
        """Yield the rows of a legacy table batch by batch, with a progress bar."""
        label = f"{verb}{source.system}.{table}"
        with tqdm(
            total=source.count(table), desc=label, unit=" rows", file=self.progress,
            disable=self.progress is None, leave=True, mininterval=0.5,
        ) as bar:
            for batch in source.iter_batches(table, self.batch_size):
                yield batch
                bar.update(len(batch))

    def read(self, source: str, table: str, batch: list[Row]) -> list[Row]:
        """Count the batch as read and reject its unreadable rows; return the readable ones."""
        self.report.table(source, table).read += len(batch)
        readable = []
        for row in batch:
            if ERRORS_KEY in row:
                self.report.reject(source, table, legacy_id_of(source, table, row),
                                   unreadable(row))
            else:
                readable.append(row)
        return readable

    def readable_rows(self, source: LegacySource | None, table: str) -> Iterator[list[Row]]:
        """Yield the readable rows of a legacy table, batch by batch; none without a source."""
        if source is None:
            return
        for batch in self.batches(source, table):
            yield self.read(source.system, table, batch)
