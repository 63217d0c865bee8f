"""Import one legacy CSV export from the admin: upload, preview (a dry run), confirm.

The preview and the import are the loader itself, run on a source that holds only the
uploaded table: the same reading, normalisation, merging, provenance and report as the
import_legacy command. What the other tables would have told the loader (which company
a Portal company id became, what Core says about a person) is taken from the rows
already imported, through their LegacyRecords.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, models, transaction
from django.db.models import Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from importers.legacy_schema import TABLES, System
from importers.load.engine import Provenance
from importers.load.run import Loader
from importers.load.state import IdMaps, People, Scope
from importers.models import ImportRun, LegacyRecord
from importers.report import OUTCOMES, ImportReport
from importers.runs import import_run_record
from importers.sources import CSV_DIALECTS, CSVSource, SourceError
from importers.unique_clashes import ClashGuardWriter
from rbac.models import Membership, Role, User

RUN_IMPORT_PERMISSION = "importers.run_import"
UPLOAD_FOLDER = "legacy-uploads"
SESSION_KEY = "legacy_csv_uploads"
# A previewed upload neither confirmed nor cancelled is deleted after this long.
UPLOAD_KEPT_FOR = timedelta(days=1)
# Uploads are copied this much at a time; the largest export the admin takes by default.
CHUNK_BYTES = 1024 * 1024
DEFAULT_UPLOAD_LIMIT = 200 * 1024 * 1024
SYSTEM_NAMES = {"core": "Core", "portal": "Portal"}
# Tables that cannot be imported alone, and why (the command imports them).
WHOLE_EXPORT_ONLY: dict[tuple[str, str], str] = {
    ("core", "organizations"): (
        "companies are matched against every company row of both systems and their "
        "people, so they are imported with the import_legacy command"
    ),
    ("portal", "company"): (
        "companies are matched against every company row of both systems and their "
        "people, so they are imported with the import_legacy command"
    ),
    ("core", "user_roles"): (
        "a Core role's scope is the user's organization and department from users.csv, "
        "so roles are imported with users by the import_legacy command"
    ),
}


def uploadable_tables() -> list[tuple[str, str]]:
    return [
        (system, table)
        for system, tables in TABLES.items() if system in SYSTEM_NAMES
        for table in tables if (system, table) not in WHOLE_EXPORT_ONLY
    ]


# --- the import of one table -------------------------------------------------------------

class OneTableSource:
    """A CSV source that shows the loader one table and every other table as empty."""

    def __init__(self, source: CSVSource, table: str) -> None:
        self.source = source
        self.system: System = source.system
        self.table = table

    def iter_batches(self, table: str, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        if table != self.table:
            return iter(())
        return self.source.iter_batches(table, batch_size)

    def count(self, table: str) -> int | None:
        return self.source.count(table) if table == self.table else 0

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> OneTableSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _made_elsewhere(model: type[models.Model], system: str, table: str) -> Subquery:
    """Return the pks of `model` objects that legacy rows of other tables also made."""
    return Subquery(
        LegacyRecord.objects.filter(content_type=ContentType.objects.get_for_model(model))
        .exclude(source=system, table=table)
        .values("object_id")
    )


def people_from_other_tables(system: str, table: str) -> People:
    """Return what the other tables said about each person, as their users hold it now.

    Without it, a Portal upload would switch off a Core superuser or an active Core user.
    """
    people = People()
    for email, active, verified, superuser, sub in User.objects.filter(
        pk__in=_made_elsewhere(User, system, table)
    ).values_list("email", "is_active", "email_verified", "is_superuser", "cognito_sub"):
        key = email.lower()
        facts = people.facts[key]
        facts.core_active |= active
        facts.email_verified |= verified
        facts.superuser |= superuser
        if sub:
            people.claim_sub(key, sub)
    return people


def roles_from_other_tables(system: str, table: str) -> dict[Scope, tuple[int, int]]:
    """Return the (role, rank) held in each scope through the rows of other tables.

    In a whole import the highest role in a scope wins over every system's rows; in an
    upload of one table, the other tables' role is the one already held.
    """
    ranks = dict(Role.objects.values_list("pk", "rank"))
    return {
        (user, company, team): (role, ranks[role]) for user, company, team, role in
        Membership.objects.filter(pk__in=_made_elsewhere(Membership, system, table))
        .values_list("user_id", "company_id", "team_id", "role_id")
    }


def one_table_loader(source: OneTableSource, report: ImportReport,
                     history_user: User | None) -> Loader:
    """Return the loader of one uploaded table, starting from what other tables imported."""
    system, table = source.system, source.table
    now = timezone.now()
    return Loader(
        core=source if system == "core" else None,
        portal=source if system == "portal" else None,
        cognito_path=None, report=report, history_user=history_user, now=now,
        maps=IdMaps.from_provenance(Provenance(now)),
        people=people_from_other_tables(system, table),
        held_roles=roles_from_other_tables(system, table),
        writer_class=ClashGuardWriter,
    )


def import_legacy_table(
    *, system: str, table: str, folder: Path, dry_run: bool, history_user: User | None = None,
) -> ImportReport:
    """Import one table's CSV export found in `folder`, in one transaction."""
    if (system, table) in WHOLE_EXPORT_ONLY:
        raise SourceError(f"{table}.csv cannot be imported alone: "
                          f"{WHOLE_EXPORT_ONLY[(system, table)]}.")
    started = time.monotonic()
    report = ImportReport(dry_run=dry_run)
    source = OneTableSource(CSVSource(system, folder), table)
    with transaction.atomic():
        one_table_loader(source, report, history_user).run()
        if dry_run:
            transaction.set_rollback(True)
    report.duration_s = time.monotonic() - started
    return report


def upload_limit() -> int:
    """Return the largest CSV export, in bytes, the admin accepts (LEGACY_CSV_UPLOAD_MAX_BYTES)."""
    return getattr(settings, "LEGACY_CSV_UPLOAD_MAX_BYTES", DEFAULT_UPLOAD_LIMIT)


def too_large(limit: int) -> str:
    return (f"The file is larger than {limit / (1024 * 1024):g} MB, the most the admin imports; "
            "import it with the import_legacy command instead.")


def copy_in_chunks(chunks: Iterable[bytes], target: BinaryIO, *, limit: int) -> str:
    """Copy `chunks` to `target` and return their SHA-256; SourceError past `limit` bytes.

    An upload is never held in memory whole: a chunk at a time goes to the file.
    """
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise SourceError(too_large(limit))
        digest.update(chunk)
        target.write(chunk)
    return digest.hexdigest()


def run_stored_upload(upload: dict[str, str], *, dry_run: bool, user: User) -> ImportReport:
    """Import an upload kept in the default storage; SourceError names the uploaded file."""
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / f"{upload['table']}.csv"
        with default_storage.open(upload["path"], "rb") as stored, csv_path.open("wb") as copy:
            sha256 = copy_in_chunks(iter(lambda: stored.read(CHUNK_BYTES), b""), copy,
                                    limit=upload_limit())
        if sha256 != upload["sha256"]:
            raise SourceError(f"{upload['name']} changed since its preview; upload it again.")
        try:
            return import_legacy_table(
                system=upload["system"], table=upload["table"], folder=Path(folder),
                dry_run=dry_run, history_user=user,
            )
        except SourceError as error:
            text = str(error).replace(str(csv_path), upload["name"]).replace(folder, "")
            raise SourceError(text) from error


def _failure_text(error: Exception) -> str:
    if isinstance(error, DatabaseError):
        # The rows that clash with a unique key are rejected before writing; this is the
        # database refusing something no check foresaw. Nothing was written.
        return f"The database refused the import, and nothing was written: {error}"
    return str(error)


def delete_upload(name: str) -> None:
    """Delete a stored upload, and its folder where the storage has folders."""
    default_storage.delete(name)
    try:
        Path(default_storage.path(name)).parent.rmdir()
    except (NotImplementedError, OSError):
        pass  # object storage has no folders; a folder not empty stays


def delete_stale_uploads(now: datetime | None = None) -> int:
    """Delete the uploads previewed but neither confirmed nor cancelled within a day."""
    cutoff = (now or timezone.now()) - UPLOAD_KEPT_FOR
    deleted = 0
    try:
        folders, _ = default_storage.listdir(UPLOAD_FOLDER)
    except (FileNotFoundError, NotImplementedError):
        return 0
    for folder in folders:
        for name in default_storage.listdir(f"{UPLOAD_FOLDER}/{folder}")[1]:
            path_name = f"{UPLOAD_FOLDER}/{folder}/{name}"
            if default_storage.get_modified_time(path_name) < cutoff:
                delete_upload(path_name)
                deleted += 1
    return deleted


# --- the admin pages ----------------------------------------------------------------

class LegacyCSVUploadForm(forms.Form):
    table = forms.ChoiceField(
        label="legacy table",
        choices=[
            (f"{system}.{table}", f"{SYSTEM_NAMES[system]} {table}.csv "
                                  f"({CSV_DIALECTS[system]['description']})")
            for system, table in uploadable_tables()
        ],
        help_text="The table the file holds. Companies and Core's user_roles are not "
                  "listed: they are imported with the import_legacy command.",
    )
    file = forms.FileField(
        label="CSV export",
        help_text="One table exported from Core or Portal, with its header row, as the "
                  "legacy system wrote it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = upload_limit() / (1024 * 1024)
        self.fields["file"].help_text += f" At most {limit:g} MB."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = upload_limit()
        if upload.size > limit:
            raise forms.ValidationError(too_large(limit))
        return upload


def _report_context(report: ImportReport) -> dict[str, Any]:
    return {
        "outcomes": ("read", *OUTCOMES),
        "table_rows": [
            (name, [getattr(counts, outcome) for outcome in ("read", *OUTCOMES)])
            for name, counts in report.tables.items() if counts.read
        ],
        "report": report,
    }


class LegacyCSVImportViews:
    """The upload, preview and confirm pages, under the import runs' admin URLs."""

    def __init__(self, model_admin: admin.ModelAdmin) -> None:
        self.model_admin = model_admin

    def urls(self) -> list:
        wrap = self.model_admin.admin_site.admin_view
        return [
            path("upload/", wrap(self.upload), name="importers_importrun_upload"),
            path("upload/<uuid:token>/confirm/", wrap(self.confirm),
                 name="importers_importrun_upload_confirm"),
            path("upload/<uuid:token>/cancel/", wrap(self.cancel),
                 name="importers_importrun_upload_cancel"),
        ]

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {
            **self.model_admin.admin_site.each_context(request),
            "opts": ImportRun._meta, "title": "Upload a legacy CSV export", **extra,
        }

    @staticmethod
    def _check(request: HttpRequest) -> None:
        if not request.user.has_perm(RUN_IMPORT_PERMISSION):
            raise PermissionDenied

    def upload(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        form = LegacyCSVUploadForm(request.POST or None, request.FILES or None)
        previewed = self._preview(request, form) if request.method == "POST" else None
        if previewed is not None:
            upload, report = previewed
            token = str(uuid.uuid4())
            request.session[SESSION_KEY] = {
                **request.session.get(SESSION_KEY, {}), token: upload}
            return TemplateResponse(
                request, "admin/importers/importrun/upload_preview.html",
                self._context(request, upload=upload, token=token,
                              **_report_context(report)),
            )
        return TemplateResponse(request, "admin/importers/importrun/upload.html",
                                self._context(request, form=form))

    def _preview(
        self, request: HttpRequest, form: LegacyCSVUploadForm,
    ) -> tuple[dict[str, str], ImportReport] | None:
        """Store a valid upload and dry-run it; None, with the reason on the form, if not."""
        if not form.is_valid():
            return None
        try:
            upload = self._store(form)
        except SourceError as error:
            form.add_error("file", str(error))
            return None
        try:
            return upload, run_stored_upload(upload, dry_run=True, user=request.user)
        except (SourceError, DatabaseError) as error:
            form.add_error("file", _failure_text(error))
            delete_upload(upload["path"])
            return None
        except BaseException:
            delete_upload(upload["path"])
            raise

    @staticmethod
    def _store(form: LegacyCSVUploadForm) -> dict[str, str]:
        """Keep the upload in the default storage, copied through a temporary file."""
        delete_stale_uploads()
        system, table = form.cleaned_data["table"].split(".")
        upload = form.cleaned_data["file"]
        with tempfile.TemporaryFile() as spool:
            sha256 = copy_in_chunks(upload.chunks(CHUNK_BYTES), spool, limit=upload_limit())
            spool.seek(0)
            name = default_storage.save(f"{UPLOAD_FOLDER}/{uuid.uuid4()}/{table}.csv",
                                        File(spool))
        return {"system": system, "table": table, "path": name, "name": upload.name,
                "sha256": sha256}

    def cancel(self, request: HttpRequest, token: uuid.UUID) -> HttpResponse:
        """Forget a previewed upload and delete its file."""
        self._check(request)
        uploads = request.session.get(SESSION_KEY, {})
        upload = uploads.get(str(token))
        if request.method == "POST" and upload is not None:
            request.session[SESSION_KEY] = {
                key: value for key, value in uploads.items() if key != str(token)}
            delete_upload(upload["path"])
            messages.info(request, f"{upload['name']} was not imported; its upload is deleted.")
        return HttpResponseRedirect(reverse("admin:importers_importrun_upload"))

    def confirm(self, request: HttpRequest, token: uuid.UUID) -> HttpResponse:
        self._check(request)
        uploads = request.session.get(SESSION_KEY, {})
        upload = uploads.get(str(token))
        if request.method != "POST" or upload is None:
            messages.error(request, "That upload is no longer waiting; upload the file again.")
            return HttpResponseRedirect(reverse("admin:importers_importrun_upload"))
        started = time.monotonic()
        options = {"upload": upload["name"], "table": f"{upload['system']}.{upload['table']}",
                   "sha256": upload["sha256"], "dry_run": False}
        try:
            report = run_stored_upload(upload, dry_run=False, user=request.user)
        except (SourceError, DatabaseError) as error:
            import_run_record(
                started_by=request.user, started_by_name=request.user.get_username(),
                options=options, error=_failure_text(error),
                duration_s=time.monotonic() - started,
            )
            messages.error(request, _failure_text(error))
            return HttpResponseRedirect(reverse("admin:importers_importrun_upload"))
        finally:
            request.session[SESSION_KEY] = {
                key: value for key, value in uploads.items() if key != str(token)}
            delete_upload(upload["path"])
        run = import_run_record(
            started_by=request.user, started_by_name=request.user.get_username(),
            options=options, duration_s=report.duration_s, report=report,
        )
        messages.success(request, f"{upload['name']} imported: {len(report.rejects)} rows "
                                  "rejected, see the run's report.")
        if self.model_admin.has_view_permission(request, run):
            return HttpResponseRedirect(
                reverse("admin:importers_importrun_change", args=[run.pk]))
        return HttpResponseRedirect(reverse("admin:importers_importrun_upload"))
