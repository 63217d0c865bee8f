"""Which storage holds the documents' files."""

from __future__ import annotations

from django.core.files.storage import Storage, storages


def s3_default_storage() -> Storage | None:
    """Return the default storage when it is S3 (django-storages), else None."""
    from storages.backends.s3 import S3Storage  # noqa: PLC0415 - boto3 only when S3 is used

    storage = storages["default"]
    return storage if isinstance(storage, S3Storage) else None
