"""Provenance of imported rows, the record of each import run, and the review queue."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class LegacySystem(models.TextChoices):
    CORE = "core", "Core"
    PORTAL = "portal", "Portal"
    COGNITO = "cognito", "Cognito"


class LegacyRecord(models.Model):
    """One imported legacy row and the unified object it became (or was merged into)."""

    source = models.CharField(max_length=16, choices=LegacySystem.choices)
    table = models.CharField(max_length=64)
    legacy_id = models.CharField(
        max_length=128, help_text='The row\'s key as text; composite keys as "team_id:member_id".'
    )
    # No index of its own: "importers_legacy_target" below starts with it.
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, db_index=False)
    object_id = models.BigIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    fingerprint = models.CharField(
        max_length=64,
        help_text="SHA-256 of the normalised legacy row: tells unchanged from updated.",
    )
    is_origin = models.BooleanField(
        default=True,
        help_text="This row created the object; rows merged into it later only fill gaps.",
    )
    imported_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "legacy record"
        verbose_name_plural = "legacy records"
        ordering = ["source", "table", "legacy_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "table", "legacy_id"], name="importers_legacyrecord_unique"
            )
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="importers_legacy_target"),
        ]

    def __str__(self) -> str:
        return f"{self.source}.{self.table} #{self.legacy_id}"


class ImportRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        DRY_RUN = "dry_run", "Dry run"
        FAILED = "failed", "Failed (rolled back)"

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", help_text="The person who uploaded the file in the admin; empty "
                                    "for the import_legacy command.",
    )
    started_by_name = models.CharField(
        max_length=150, blank=True,
        help_text="Who started it: the admin user for an upload, the operating-system user "
                  "for the import_legacy command.",
    )
    started_at = models.DateTimeField(default=timezone.now)
    duration_s = models.FloatField(
        null=True, blank=True, help_text="Seconds from start to end; empty while it runs."
    )
    options = models.JSONField(
        default=dict, blank=True,
        help_text="The command's options, or for an upload the file's name, its table and "
                  "SHA-256.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    report = models.JSONField(default=dict, blank=True)
    digest = models.JSONField(
        default=dict, blank=True,
        help_text="What the result depends on: each legacy table's checksum, the importer's "
                  "code, review decisions. An import_legacy run on the same inputs reads no "
                  "row. Empty for an upload, which always reads its file.",
    )

    class Meta:
        verbose_name = "import run"
        verbose_name_plural = "import runs"
        ordering = ["-started_at"]
        permissions = [("run_import", "Can import a legacy CSV export from the admin")]

    def __str__(self) -> str:
        return f"import of {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class ReviewPair(models.Model):
    """Two legacy company rows that look alike without enough evidence: a person decides."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SAME = "same", "Same company"
        DIFFERENT = "different", "Different companies"

    left_source = models.CharField(max_length=16, choices=LegacySystem.choices)
    left_table = models.CharField(max_length=64)
    left_legacy_id = models.CharField(max_length=128)
    left_evidence = models.JSONField(default=dict, blank=True)
    right_source = models.CharField(max_length=16, choices=LegacySystem.choices)
    right_table = models.CharField(max_length=64)
    right_legacy_id = models.CharField(max_length=128)
    right_evidence = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "review pair"
        verbose_name_plural = "review pairs"
        ordering = ["status", "-first_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "left_source", "left_table", "left_legacy_id",
                    "right_source", "right_table", "right_legacy_id",
                ],
                name="importers_reviewpair_unique",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.left_source}.{self.left_table} #{self.left_legacy_id} ↔ "
            f"{self.right_source}.{self.right_table} #{self.right_legacy_id}"
        )

    @property
    def left_key(self) -> tuple[str, str, str]:
        return (self.left_source, self.left_table, self.left_legacy_id)

    @property
    def right_key(self) -> tuple[str, str, str]:
        return (self.right_source, self.right_table, self.right_legacy_id)
