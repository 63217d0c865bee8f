"""Company content: projects and their documents."""

from __future__ import annotations

import os
import unicodedata

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import get_valid_filename
from guardian.models import UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from rbac.models import Company, Team


def _check_same_company(obj: models.Model, *related: str) -> None:
    for name in related:
        other = getattr(obj, name, None)
        if other is not None and obj.company_id and other.company_id != obj.company_id:
            raise ValidationError({name: f"The {name} belongs to another company."})


class Project(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        DONE = "done", "Done"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="projects")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="projects"
    )
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "project"
        verbose_name_plural = "projects"
        ordering = ["company_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="projects_project_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        super().clean()
        _check_same_company(self, "team")


# Most file systems (ext4, XFS, APFS, NTFS in UTF-16 units) allow 255 bytes per name; the
# storage may add "_" and 7 characters when the name is taken.
MAX_FILE_NAME_BYTES = 255 - 8
# A longer "extension" is part of the name (a dot in a sentence, not a file type).
MAX_EXTENSION_BYTES = 16
FALLBACK_FILE_NAME = "document"


def document_file_name(name: str) -> str:
    """Return the name a document's file is stored under: safe characters, short enough.

    Only the last path segment is kept, characters a file system or a URL would trip on
    are replaced (`get_valid_filename`), and the name is cut to MAX_FILE_NAME_BYTES in
    UTF-8, on a character boundary, keeping its extension. The person's own name stays in
    `Document.original_name`.
    """
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    try:
        base = get_valid_filename(base)
    except SuspiciousFileOperation:  # "", "." or "..": nothing of the name is usable
        base = FALLBACK_FILE_NAME
    stem, extension = os.path.splitext(base)
    if len(extension.encode()) > MAX_EXTENSION_BYTES:
        stem, extension = base, ""
    budget = MAX_FILE_NAME_BYTES - len(extension.encode())
    stem = stem.encode()[:budget].decode(errors="ignore").rstrip(". ") or FALLBACK_FILE_NAME
    return f"{stem}{extension}"


def document_upload_to(document: Document, filename: str) -> str:
    return f"documents/{document.company_id}/{timezone.now():%Y/%m}/{document_file_name(filename)}"


class Document(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="documents")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    file = models.FileField(upload_to=document_upload_to, max_length=512, blank=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(null=True, blank=True, help_text="Bytes.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="uploaded_documents",
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    legacy_bucket = models.CharField(max_length=255, blank=True)
    legacy_key = models.CharField(max_length=1024, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "document"
        verbose_name_plural = "documents"
        ordering = ["-uploaded_at", "-id"]
        permissions = [("share_document", "Can share document")]
        indexes = [
            # Covering the default order: a page of one company's or team's documents is a
            # scan of the index alone (rbac.selectors.visible_page).
            models.Index(
                fields=["company", "-uploaded_at", "-id"], name="projects_doc_company_recent"
            ),
            models.Index(fields=["team", "-uploaded_at", "-id"], name="projects_doc_team_recent"),
        ]

    def __str__(self) -> str:
        return self.original_name

    def clean(self) -> None:
        super().clean()
        _check_same_company(self, "team", "project")


class ProjectUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Project, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "direct project permission"


class DocumentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "direct document permission"
