"""python manage.py import_legacy --core SRC --portal SRC --cognito FILE [--dry-run]."""

from __future__ import annotations

import getpass
import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from importers.loader import DEFAULT_BATCH_SIZE, import_legacy
from importers.runs import import_run_record
from importers.sources import SourceError, mask_password, open_source


class Command(BaseCommand):
    help = (
        "Import Core, Portal and the Cognito export into the unified model: companies and "
        "people matched and merged, roles, grants, documents and API keys. Any source may "
        "be left out. Re-running on unchanged sources changes nothing; a failure leaves the "
        "database as it was."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--core", help="postgresql:// URL of Core or its CSV folder")
        parser.add_argument("--portal", help="mysql:// URL of Portal or its CSV folder")
        parser.add_argument("--cognito", help="JSON of `aws cognito-idp list-users`")
        parser.add_argument("--dry-run", action="store_true",
                            help="Do everything, report it, then roll back: nothing is written.")
        parser.add_argument("--report", help="Write the JSON report to this file.")
        parser.add_argument(
            "--force", action="store_true",
            help="Read and compare every row even when no source changed since the last "
                 "successful import (which otherwise reports all unchanged at once).",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not (options["core"] or options["portal"] or options["cognito"]):
            raise CommandError(
                "Nothing to import: give at least one of --core, --portal, --cognito."
            )
        recorded = {
            name: mask_password(options[name]) if options[name] else None
            for name in ("core", "portal", "cognito")
        } | {"dry_run": options["dry_run"], "batch_size": options["batch_size"]}
        started = time.monotonic()
        try:
            with ExitStack() as stack:
                core = portal = None
                if options["core"]:
                    core = stack.enter_context(open_source("core", options["core"]))
                if options["portal"]:
                    portal = stack.enter_context(open_source("portal", options["portal"]))
                report = import_legacy(
                    core=core, portal=portal, cognito=options["cognito"],
                    dry_run=options["dry_run"], force=options["force"],
                    batch_size=options["batch_size"],
                    progress=None if options["no_progress"] else self.stderr._out,
                )
        except SourceError as error:
            self._record_failure(recorded, started, str(error))
            raise CommandError(str(error)) from error
        except KeyboardInterrupt:
            self._record_failure(recorded, started, "interrupted")
            raise CommandError(
                "Interrupted: the import was rolled back, nothing changed."
            ) from None
        if not options["dry_run"]:
            import_run_record(
                started_by_name=_os_user(), options=recorded, duration_s=report.duration_s,
                report=report, digest=report.digest,
            )
        if options["report"]:
            Path(options["report"]).write_text(
                json.dumps(report.as_dict(), indent=2, ensure_ascii=False, default=str),
                encoding="utf-8",
            )
        self.stdout.write(report.summary())

    def _record_failure(self, options: dict[str, Any], started: float, error: str) -> None:
        if options["dry_run"]:
            return
        import_run_record(started_by_name=_os_user(), options=options,
                          duration_s=time.monotonic() - started, error=error)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return ""
