"""Write the Postman v2.1 collection (and its environment) generated from the OpenAPI schema."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from drf_spectacular.generators import SchemaGenerator

from backoffice.api.postman import UPLOAD_FILE_NAME, build_collection, build_environment


class Command(BaseCommand):
    help = (
        "Write a Postman v2.1 collection of the REST API, generated from its OpenAPI schema, "
        "plus an environment file (base_url, token) and the small file the upload example sends."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="Collection file to write (JSON).")
        parser.add_argument("--environment", help="Environment file; default: beside --out.")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--name", default="Back-office API")
        parser.add_argument("--dry-run", action="store_true", help="Build, but write nothing.")

    def handle(self, *args, out, environment, base_url, name, dry_run, **options):
        schema = SchemaGenerator().get_schema(request=None, public=True)
        schema = json.loads(json.dumps(schema, default=str))
        collection = build_collection(schema, name=name)
        env = build_environment(name=name, base_url=base_url.rstrip("/"))
        out_path = Path(out)
        env_path = Path(environment) if environment else out_path.with_name(
            out_path.stem + ".environment.json"
        )
        count = sum(len(folder["item"]) for folder in collection["item"])
        if dry_run:
            self.stderr.write(f"{count} requests; nothing written (--dry-run).")
            return
        if not out_path.parent.is_dir():
            raise CommandError(
                f"{out_path.parent} does not exist: create it or choose another --out."
            )
        out_path.write_text(json.dumps(collection, indent=2))
        env_path.write_text(json.dumps(env, indent=2))
        (out_path.parent / UPLOAD_FILE_NAME).write_text(
            "An example document for the upload request.\n"
        )
        self.stderr.write(f"{count} requests written to {out_path}; environment in {env_path}.")
