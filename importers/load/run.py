"""One import: its steps in order, in one transaction.

The whole write phase runs in one transaction (`import_legacy`): a failure or an
interruption rolls everything back, and a dry run rolls back on purpose at the end.
Memory grows with id maps (legacy id → unified pk, e-mail → user pk, …), not with the
data: tables are streamed batch by batch, except the company rows (matching needs them
all) and the role rows (the highest role per scope needs them all), both small.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from django.db import connection, models, transaction
from django.utils import timezone

from backoffice.projects.models import Document, DocumentUserObjectPermission, Project
from importers import bulk
from importers.digest import source_digest, unchanged_report, unchanged_since, with_records
from importers.load.access import load_grants, load_memberships
from importers.load.companies import load_companies, load_teams
from importers.load.content import load_api_keys, load_files, load_projects_and_documents
from importers.load.engine import CHANGE_REASON, NativeRights, Provenance, Writer
from importers.load.people import load_users, scan_people
from importers.load.state import IdMaps, LoadContext, People, Scope
from importers.models import LegacyRecord, ReviewPair
from importers.report import ImportReport
from importers.sources import LegacySource
from rbac.access_versions import VERSION_TABLE, holders_bumped_once
from rbac.models import (
    APIKey,
    Company,
    CompanyUserObjectPermission,
    Membership,
    Role,
    Team,
    TeamUserObjectPermission,
    User,
)

DEFAULT_BATCH_SIZE = 2000

# The steps, in the order their id maps need: each reads the maps of the ones before.
STEPS: tuple[Callable[[LoadContext], None], ...] = (
    scan_people, load_companies, load_teams, load_users, load_projects_and_documents,
    load_files, load_api_keys, load_memberships, load_grants,
)


@dataclass
class Loader:
    """Load the given sources into the unified model (in the caller's transaction).

    `maps`, `people` and `held_roles` start empty for a whole export; a load of one table
    starts them from what earlier imports wrote (see `admin_csv`).
    """

    core: LegacySource | None
    portal: LegacySource | None
    cognito_path: str | None
    report: ImportReport
    batch_size: int = DEFAULT_BATCH_SIZE
    progress: TextIO | None = None
    history_user: User | None = None
    now: datetime = field(default_factory=timezone.now)
    maps: IdMaps | None = None
    people: People | None = None
    held_roles: dict[Scope, tuple[int, int]] = field(default_factory=dict)
    writer_class: type[Writer] = Writer  # an upload of one table guards its unique keys

    def __post_init__(self) -> None:
        self.prov = Provenance(self.now)
        writer = self.writer_class(self.report, self.prov, NativeRights.load(),
                        bulk.History(self.history_user, CHANGE_REASON, self.now))
        self.context = LoadContext(
            core=self.core, portal=self.portal, cognito_path=self.cognito_path,
            report=self.report, writer=writer,
            maps=self.maps if self.maps is not None else IdMaps.from_database(),
            people=self.people if self.people is not None else People(),
            now=self.now, batch_size=self.batch_size, progress=self.progress,
            held_roles=self.held_roles,
            roles={role.slug: role for role in Role.objects.all()},
        )

    def run(self) -> None:
        for step in STEPS:
            started = time.monotonic()
            step(self.context)
            bulk.wait_for_writes()  # the step's seconds include its last writes
            self.report.phases[step.__name__] = time.monotonic() - started


# Every model an import writes: a first import checks their foreign keys in one go.
WRITTEN_MODELS: tuple[type[models.Model], ...] = (
    Company, Team, User, Project, Document, APIKey, Membership, CompanyUserObjectPermission,
    TeamUserObjectPermission, DocumentUserObjectPermission, LegacyRecord, ReviewPair,
)


# The tables of grants an import writes (their triggers move access versions).
GRANT_TABLES = tuple(model._meta.db_table for model in (
    Membership, CompanyUserObjectPermission, TeamUserObjectPermission,
    DocumentUserObjectPermission,
))


def written_tables() -> tuple[list[str], list[str]]:
    """The tables an import writes, and those of them it never reads (see bulk.bulk_load)."""
    written = [model._meta.db_table for model in WRITTEN_MODELS]
    history = [model.history.model._meta.db_table for model in WRITTEN_MODELS
               if hasattr(model, "history")]
    # VERSION_TABLE is written by the triggers of memberships and grants; LegacyRecord is
    # read through its unique key only.
    return [*written, *history, VERSION_TABLE], [*history, LegacyRecord._meta.db_table]


def import_legacy(
    *, core: LegacySource | None = None, portal: LegacySource | None = None,
    cognito: str | None = None, dry_run: bool = False, force: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE, progress: TextIO | None = None,
    history_user: User | None = None,
) -> ImportReport:
    """Import the given legacy sources in one transaction; roll it back for a dry run.

    When every input is as it was for the last successful import (`importers.digest`), no
    row is read and the report says so; `force` reads and compares every row regardless.
    """
    started = time.monotonic()
    inputs = source_digest(core, portal, cognito)
    previous = None if force else unchanged_since(inputs)
    if previous is not None:
        report = unchanged_report(previous, dry_run=dry_run)
    else:
        report = ImportReport(dry_run=dry_run)
        with transaction.atomic():
            bulk.analyze(LegacyRecord)  # the lookups of every batch rely on its statistics
            loader = Loader(core=core, portal=portal, cognito_path=cognito, report=report,
                            batch_size=batch_size, progress=progress,
                            history_user=history_user)
            # The first import writes every row anew: check its keys once, at the end, and
            # bump the access versions of the people it gave roles and grants once, too.
            first = not LegacyRecord.objects.exists()
            load = bulk.bulk_load(*written_tables()) if first else nullcontext()
            grants = holders_bumped_once(connection, GRANT_TABLES) if first else nullcontext()
            with load:
                with grants:
                    with bulk.background_writes():
                        loader.run()
                    keys_started = time.monotonic()
            if first:
                report.phases["keys_and_indexes"] = time.monotonic() - keys_started
            report.digest = with_records(inputs)
            if dry_run:
                transaction.set_rollback(True)
            commit_started = time.monotonic()
        # Deferred foreign-key checks run here, for every row written.
        report.phases["commit"] = time.monotonic() - commit_started
    report.duration_s = time.monotonic() - started
    return report
