"""Write a synthetic legacy data set (Core, Portal, Cognito, truth) with production's dirt."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from legacy_fixtures.generator import generate_legacy


class Command(BaseCommand):
    help = (
        "Generate legacy Core (core.sql), Portal (portal.sql), their CSV exports, a "
        "Cognito user export and truth.json for N companies, the same bytes for the same seed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--companies", type=int, required=True,
                            help="How many companies (the sample has 300, production 20,000).")
        parser.add_argument("--out", type=Path, required=True,
                            help="Folder to write into; created if missing, files overwritten.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")

    def handle(self, *args, companies: int, out: Path, seed: int, **options) -> None:
        if companies < 1:
            raise CommandError("--companies must be at least 1.")
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} exists and is not a folder; choose another --out.")
        self.stderr.write(f"Generating {companies} companies into {out} (seed {seed})…")
        started = time.monotonic()
        try:
            result = generate_legacy(companies=companies, out=out, seed=seed)
        except OSError as error:
            raise CommandError(
                f"Cannot write to {out} ({error.strerror}); check the path."
            ) from error
        for name, rows in result.rows.items():
            self.stderr.write(f"  {name:<24} {rows:>9,} rows")
        self.stderr.write(
            f"{result.total_rows:,} rows in {time.monotonic() - started:.1f} s."
        )
