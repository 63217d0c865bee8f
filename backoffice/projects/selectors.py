"""Reads for projects and documents, always through rbac's permission filter."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils.http import content_disposition_header

from rbac.selectors import objects_for_user

from .models import Document, Project
from .storage import s3_default_storage


def projects_for_user(*, user, action: str = "view") -> QuerySet[Project]:
    return objects_for_user(user=user, queryset=Project.objects.all(), action=action)


def documents_for_user(*, user, action: str = "view") -> QuerySet[Document]:
    return objects_for_user(user=user, queryset=Document.objects.all(), action=action)


@dataclass(frozen=True)
class DocumentContent:
    """Where a document's bytes are: a pre-signed URL to redirect to, or a file to stream."""

    url: str | None = None
    file: File | None = None


def document_content(*, document: Document) -> DocumentContent | None:
    """Return how to serve a document's bytes; None when it has none."""
    disposition = content_disposition_header(True, document.original_name)
    s3 = s3_default_storage()
    if s3 is not None:
        if document.file:
            return DocumentContent(
                url=s3.url(
                    document.file.name,
                    parameters={"ResponseContentDisposition": disposition},
                )
            )
        if document.legacy_bucket and document.legacy_key:
            # Imported documents stay in the legacy buckets until they are copied over.
            client = s3.connection.meta.client
            return DocumentContent(
                url=client.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": document.legacy_bucket, "Key": document.legacy_key,
                            "ResponseContentDisposition": disposition},
                    ExpiresIn=s3.querystring_expire,
                )
            )
        return None
    if document.file and default_storage.exists(document.file.name):
        return DocumentContent(file=document.file.open("rb"))
    return None
