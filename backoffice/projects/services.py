"""Writes for projects and documents."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction

from rbac.models import Company, Team, User

from .models import Document, Project, document_upload_to
from .storage import s3_default_storage


@transaction.atomic
def project_create(**fields) -> Project:
    project = Project(**fields)
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def document_create(**fields) -> Document:
    document = Document(**fields)
    document.full_clean()
    document.save()
    return document


# --- used by the REST API -------------------------------------------------------------

MAX_DOCUMENT_BYTES = 512 * 1024 * 1024


def model_update(*, instance: models.Model, data: dict) -> models.Model:
    """Set fields, validate the whole object (constraints included) and save only those fields."""
    for name, value in data.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save(update_fields=[*data.keys()] or None)
    return instance


@transaction.atomic
def project_delete(*, project: Project) -> None:
    project.delete()


def _name_kept(original_name: str) -> str:
    """Return the person's own file name, cut to what `Document.original_name` holds."""
    return original_name[: Document._meta.get_field("original_name").max_length]


@transaction.atomic
def document_upload(
    *, company: Company, original_name: str, file: File, team: Team | None = None,
    project: Project | None = None, content_type: str = "", uploaded_by: User | None = None,
) -> Document:
    """Store an uploaded file on the default storage and register it as a document."""
    document = Document(
        company=company, team=team, project=project, original_name=_name_kept(original_name),
        content_type=content_type, size=file.size, uploaded_by=uploaded_by,
    )
    document.full_clean(exclude=["file"])
    document.file.save(original_name, file, save=False)
    document.save()
    return document


@transaction.atomic
def document_reserve_upload(
    *, company: Company, original_name: str, team: Team | None = None,
    project: Project | None = None, content_type: str = "", size: int | None = None,
    uploaded_by: User | None = None,
) -> tuple[Document, dict]:
    """Register a document and return a pre-signed S3 POST through which the client uploads it."""
    storage = s3_default_storage()
    if storage is None:
        raise ValidationError("Pre-signed uploads need S3 storage; send the file itself instead.")
    document = Document(
        company=company, team=team, project=project, original_name=_name_kept(original_name),
        content_type=content_type, size=size, uploaded_by=uploaded_by,
    )
    document.full_clean(exclude=["file"])
    # A fresh folder per upload: two uploads of "report.pdf" never overwrite each other.
    folder, _, name = document_upload_to(document, original_name).rpartition("/")
    document.file.name = storage.generate_filename(f"{folder}/{uuid.uuid4().hex}/{name}")
    document.save()
    fields = {"Content-Type": content_type} if content_type else {}
    conditions = [["content-length-range", 0, MAX_DOCUMENT_BYTES]]
    conditions += [{"Content-Type": content_type}] if content_type else []
    client = storage.connection.meta.client
    upload = client.generate_presigned_post(
        Bucket=storage.bucket_name,
        Key=storage._normalize_name(document.file.name),
        Fields=fields,
        Conditions=conditions,
        ExpiresIn=storage.querystring_expire,
    )
    return document, upload


@transaction.atomic
def document_delete(*, document: Document) -> None:
    """Delete a document and its stored file (legacy bucket copies are left alone)."""
    name = document.file.name if document.file else None
    document.delete()
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))
