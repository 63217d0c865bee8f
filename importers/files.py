"""Move imported documents' bytes from the legacy buckets into the unified bucket.

The importer leaves every legacy document where Core or Portal stored it and records the
place in ``Document.legacy_bucket`` and ``legacy_key``. ``migrate_legacy_files`` copies
each object server-side into the bucket of the default storage and then points the
document's ``file`` at the copy. A set ``file`` is the progress marker: a re-run only looks
at documents whose ``file`` is still empty, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn, TextIO

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from django.db import transaction
from django.utils.text import get_valid_filename
from simple_history.utils import bulk_update_with_history
from tqdm import tqdm

from backoffice.projects.models import Document

DEFAULT_BATCH_SIZE = 500
# CopyObject copies at most 5 GiB in one request; larger objects need a multipart copy
# (UploadPartCopy), which boto3's managed ``copy`` does for us.
SINGLE_COPY_LIMIT = 5 * 1024**3
MULTIPART_CHUNK = 512 * 1024**2
CHANGE_REASON = "legacy file copied into the unified bucket"
# Document.file is a FileField(max_length=512).
MAX_NAME_LENGTH = 512

Say = Callable[[str], None]


@dataclass(frozen=True)
class FileProblem:
    """One document the run could not (or would not) point at a copy, and why."""

    document_id: int
    source: str
    detail: str

    def __str__(self) -> str:
        return f"document {self.document_id} ({self.source}): {self.detail}"


@dataclass
class FileMigrationReport:
    dry_run: bool = False
    copied: int = 0
    bytes_copied: int = 0
    already_done: int = 0
    # Copied by an earlier run that stopped before it could point the document at it.
    reused: int = 0
    # Objects over SINGLE_COPY_LIMIT or with a multipart ETag: only their size is compared.
    size_checked_only: int = 0
    would_copy: int = 0
    missing: list[FileProblem] = field(default_factory=list)
    size_mismatches: list[FileProblem] = field(default_factory=list)
    checksum_mismatches: list[FileProblem] = field(default_factory=list)
    errors: list[FileProblem] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return (len(self.missing) + len(self.size_mismatches) + len(self.checksum_mismatches)
                + len(self.errors))

    def summary(self) -> str:
        lines = [
            "Dry run: nothing was copied or changed." if self.dry_run else "Legacy files moved.",
        ]
        if self.dry_run:
            lines.append(f"  would copy:          {self.would_copy}")
        else:
            lines.append(f"  copied:              {self.copied} ({self.bytes_copied} bytes)")
            lines.append(f"  copied earlier:      {self.reused}")
        lines += [
            f"  already done:        {self.already_done}",
            f"  size checked only:   {self.size_checked_only}",
            f"  missing:             {len(self.missing)}",
            f"  size mismatches:     {len(self.size_mismatches)}",
            f"  checksum mismatches: {len(self.checksum_mismatches)}",
            f"  errors:              {len(self.errors)}",
        ]
        for title, problems in (
            ("Missing objects", self.missing),
            ("Size mismatches", self.size_mismatches),
            ("Checksum mismatches", self.checksum_mismatches),
            ("Errors", self.errors),
        ):
            if problems:
                lines.append(f"{title}:")
                lines += [f"  {problem}" for problem in problems]
        return "\n".join(lines)


class _Skip(Exception):
    """This document is not pointed at a copy; the report already says why."""


def legacy_documents_to_move():
    """Return the documents that still live only in a legacy bucket, oldest id first."""
    return (
        Document.objects.filter(file="").exclude(legacy_bucket="").exclude(legacy_key="")
        .order_by("pk")
    )


def legacy_documents_moved():
    return Document.objects.exclude(file="").exclude(legacy_bucket="").exclude(legacy_key="")


def target_name(*, document: Document) -> str:
    """Return the deterministic storage name of a legacy document's copy."""
    original = document.original_name or posixpath.basename(document.legacy_key)
    prefix = f"documents/{document.company_id}/legacy/{document.pk}/"
    try:
        filename = get_valid_filename(original)
    except Exception:  # noqa: BLE001 - Django raises SuspiciousFileOperation for "..", ""
        filename = "file"
    stem, dot, extension = filename.rpartition(".")
    room = MAX_NAME_LENGTH - len(prefix)
    if len(filename) > room:
        filename = (stem[: room - len(extension) - 1] + dot + extension) if dot else filename[:room]
    return prefix + filename


def copy_legacy_object(
    *, s3_client: Any, source_bucket: str, source_key: str, target_bucket: str,
    target_key: str, size: int, etag: str,
) -> None:
    """Copy one object server-side; the managed multipart copy above the 5 GiB limit."""
    source = {"Bucket": source_bucket, "Key": source_key}
    if size <= SINGLE_COPY_LIMIT:
        # If-Match: the object must still be the one we looked at (and will compare with).
        s3_client.copy_object(
            CopySource=source, Bucket=target_bucket, Key=target_key, CopySourceIfMatch=etag,
            MetadataDirective="COPY",
        )
    else:
        s3_client.copy(
            source, target_bucket, target_key,
            Config=TransferConfig(multipart_threshold=SINGLE_COPY_LIMIT,
                                  multipart_chunksize=MULTIPART_CHUNK),
        )


def _is_missing(error: ClientError) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"} or status == 404


def _head(s3_client: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """Return HeadObject's answer, or None when there is no such object."""
    try:
        return s3_client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if _is_missing(error):
            return None
        raise


def _single_part_etag(head: dict[str, Any]) -> str | None:
    """Return the ETag when it is the MD5 of the bytes (not a multipart "…-N" ETag)."""
    etag = head.get("ETag", "")
    return None if not etag or "-" in etag else etag


class _Mover:
    def __init__(self, *, s3_client: Any, target_bucket: str, key_prefix: str, dry_run: bool,
                 say: Say, report: FileMigrationReport) -> None:
        self.s3 = s3_client
        self.target_bucket = target_bucket
        self.key_prefix = key_prefix.strip("/")
        self.dry_run = dry_run
        self.say = say
        self.report = report

    def target_key(self, name: str) -> str:
        return f"{self.key_prefix}/{name}" if self.key_prefix else name

    def move(self, document: Document) -> str:
        """Copy one document's object and verify the copy; return the new storage name."""
        label = f"s3://{document.legacy_bucket}/{document.legacy_key}"
        source = _head(self.s3, document.legacy_bucket, document.legacy_key)
        if source is None:
            self._problem(self.report.missing, document, label, "no such object")
        size = source["ContentLength"]
        if document.size is not None and document.size != size:
            self._problem(self.report.size_mismatches, document, label,
                          f"the document says {document.size} bytes, the object has {size}")
        name = target_name(document=document)
        key = self.target_key(name)
        if self.dry_run:
            self.report.would_copy += 1
            self.say(f"would copy {label} ({size} bytes) to s3://{self.target_bucket}/{key} "
                     f"for document {document.pk}")
            return name
        etag = _single_part_etag(source) if size <= SINGLE_COPY_LIMIT else None
        earlier = _head(self.s3, self.target_bucket, key)
        if earlier is not None and etag and earlier.get("ETag") == etag \
                and earlier["ContentLength"] == size:
            # An interrupted run copied it but stopped before it pointed the document at it.
            self.report.reused += 1
            self._count_check(etag)
            return name
        copy_legacy_object(
            s3_client=self.s3, source_bucket=document.legacy_bucket,
            source_key=document.legacy_key, target_bucket=self.target_bucket, target_key=key,
            size=size, etag=source["ETag"],
        )
        copy = _head(self.s3, self.target_bucket, key)
        if copy is None or copy["ContentLength"] != size:
            found = "no object" if copy is None else f"{copy['ContentLength']} bytes"
            self._problem(self.report.size_mismatches, document, label,
                          f"the copy s3://{self.target_bucket}/{key} has {found}, "
                          f"the source {size}")
        if etag and copy.get("ETag") != etag:
            self._problem(self.report.checksum_mismatches, document, label,
                          f"ETag {copy.get('ETag')} of the copy differs from the source's {etag}")
        self.report.copied += 1
        self.report.bytes_copied += size
        self._count_check(etag)
        return name

    def _count_check(self, etag: str | None) -> None:
        if etag is None:
            self.report.size_checked_only += 1

    def _problem(self, problems: list[FileProblem], document: Document, source: str,
                 detail: str) -> NoReturn:
        problems.append(FileProblem(document.pk, source, detail))
        raise _Skip


def _batches(batch_size: int) -> Iterator[list[Document]]:
    """Yield the documents to move in primary-key order, one batch at a time.

    Keyset pagination: documents that stay unmoved (missing objects) are not read twice.
    """
    last = 0
    while True:
        batch = list(
            legacy_documents_to_move().filter(pk__gt=last)
            .only("pk", "company_id", "original_name", "size", "legacy_bucket", "legacy_key",
                  "file")[:batch_size]
        )
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _point_at_copies(moved: dict[int, str]) -> None:
    """Set ``file`` of the moved documents in one UPDATE per batch, with their history rows.

    A document that got a file meanwhile (an upload through the API) keeps it.
    """
    if not moved:
        return
    with transaction.atomic():
        documents = list(
            Document.objects.select_for_update().filter(pk__in=moved, file="").order_by("pk")
        )
        for document in documents:
            document.file.name = moved[document.pk]
        bulk_update_with_history(
            documents, Document, ["file"], default_change_reason=CHANGE_REASON,
        )


def migrate_legacy_files(
    *, s3_client: Any, target_bucket: str, key_prefix: str = "", dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE, progress: TextIO | None = None,
    say: Say | None = None,
) -> FileMigrationReport:
    """Copy every legacy document's object into the target bucket and point the document at it.

    ``key_prefix`` is the storage's location (AWS_LOCATION), so the names saved in
    ``Document.file`` resolve through the default storage. Missing objects, mismatches and
    S3 errors are reported per document and the run goes on. Documents are pointed at
    their copies one batch at a time, and also when the run is interrupted, so that the
    next run starts after the last document copied.
    """
    report = FileMigrationReport(dry_run=dry_run)
    mover = _Mover(s3_client=s3_client, target_bucket=target_bucket, key_prefix=key_prefix,
                   dry_run=dry_run, say=say or (lambda _line: None), report=report)
    report.already_done = legacy_documents_moved().count()
    total = legacy_documents_to_move().count()
    with tqdm(total=total, desc="legacy files", unit=" files", file=progress,
              disable=progress is None, mininterval=0.5) as bar:
        for batch in _batches(batch_size):
            moved: dict[int, str] = {}
            try:
                for document in batch:
                    label = f"s3://{document.legacy_bucket}/{document.legacy_key}"
                    try:
                        moved[document.pk] = mover.move(document)
                    except _Skip:
                        pass
                    except (ClientError, BotoCoreError) as error:
                        report.errors.append(FileProblem(document.pk, label, str(error)))
                    bar.update(1)
            finally:
                # Even when interrupted: what was copied and checked is not copied again.
                if not dry_run:
                    _point_at_copies(moved)
    return report
