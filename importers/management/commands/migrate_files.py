"""python manage.py migrate_files [--dry-run] [--batch-size N]."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.projects.storage import s3_default_storage
from importers.files import DEFAULT_BATCH_SIZE, migrate_legacy_files


class Command(BaseCommand):
    help = (
        "Copy the objects of imported documents from the legacy buckets into the unified "
        "bucket (server-side) and point each document at its copy. Missing objects and "
        "mismatches are reported, not fatal; a re-run skips documents already moved."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="Check the sources and print what would be copied; "
                                 "copy and change nothing.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                            help="Documents read and updated per batch.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        storage = _unified_s3_storage()
        report = migrate_legacy_files(
            s3_client=storage.connection.meta.client, target_bucket=storage.bucket_name,
            key_prefix=storage.location, dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            progress=None if options["no_progress"] else self.stderr._out,
            say=self.stdout.write,
        )
        self.stdout.write(report.summary())


def _unified_s3_storage():
    """Return the default storage, which must be S3 on the unified bucket."""
    if not getattr(settings, "AWS_STORAGE_BUCKET_NAME", None):
        raise CommandError(
            "No unified bucket configured: set AWS_STORAGE_BUCKET_NAME (and "
            "AWS_S3_ENDPOINT_URL when not on AWS) in the environment."
        )
    storage = s3_default_storage()
    if storage is None:
        raise CommandError(
            "The default storage is not S3: set AWS_STORAGE_BUCKET_NAME in the environment so "
            "that documents are stored in the unified bucket."
        )
    return storage
