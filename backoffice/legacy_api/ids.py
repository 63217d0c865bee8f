"""Legacy ids: read from the importer's provenance, and made up for objects born after cut-over.

An imported object answers with the id its legacy row had in the system the client calls
(`importers.models.LegacyRecord`; when several rows of one table were merged into it, the
row that created it, else the lowest id). An object with no row in that table (created
after cut-over, or imported from the other system only) answers with `NEW_ID_OFFSET + pk`:
an integer as the clients expect, far above any legacy id (Core and Portal together hold
about 1.2 million rows), and stable for as long as the object lives. Both directions are
resolved here only; nothing here writes provenance.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from backoffice.projects.models import Document, Project
from importers.models import LegacyRecord
from rbac.models import Company, Team, User

NEW_ID_OFFSET = 1_000_000_000
MAX_PK = 2**63 - 1


class LegacyTable(NamedTuple):
    source: str
    table: str
    model: type[models.Model]


TABLES: dict[str, LegacyTable] = {
    "organization": LegacyTable("core", "organizations", Company),
    "department": LegacyTable("core", "departments", Team),
    "user": LegacyTable("core", "users", User),
    "project": LegacyTable("core", "projects", Project),
    "document": LegacyTable("core", "documents", Document),
    "company": LegacyTable("portal", "company", Company),
    "team": LegacyTable("portal", "team", Team),
    "member": LegacyTable("portal", "member", User),
    "file": LegacyTable("portal", "file", Document),
}
# The provenance tables a lookup by legacy id accepts, for /api/v1/legacy/{source}/{table}/.
BY_SOURCE_TABLE = {(t.source, t.table): kind for kind, t in TABLES.items()}


@cache
def _content_type_id(model: type[models.Model]) -> int:
    return ContentType.objects.get_for_model(model).pk


def _as_int(legacy_id: str) -> int | None:
    return int(legacy_id) if legacy_id.isascii() and legacy_id.isdigit() else None


def legacy_ids(wanted: dict[str, Iterable[int | None]]) -> dict[str, dict[int, int]]:
    """Return {kind: {pk: legacy id}} for every pk asked for, in one query.

    Objects without a row of the kind's table get `NEW_ID_OFFSET + pk`.
    """
    asked = {kind: {pk for pk in pks if pk is not None} for kind, pks in wanted.items()}
    condition = Q()
    for kind, pks in asked.items():
        if pks:
            table = TABLES[kind]
            condition |= Q(
                source=table.source, table=table.table,
                content_type_id=_content_type_id(table.model), object_id__in=sorted(pks),
            )
    found: dict[tuple[str, str, int], tuple[bool, int]] = {}
    if condition:
        rows = LegacyRecord.objects.filter(condition).values_list(
            "source", "table", "object_id", "legacy_id", "is_origin"
        )
        for source, table, object_id, legacy_id, is_origin in rows:
            number = _as_int(legacy_id)
            if number is None:
                continue
            key = (source, table, object_id)
            # The origin row first, then the lowest id: the same answer on every request.
            rank = (not is_origin, number)
            if key not in found or rank < found[key]:
                found[key] = rank
    result: dict[str, dict[int, int]] = {}
    for kind, pks in asked.items():
        table = TABLES[kind]
        result[kind] = {
            pk: found[(table.source, table.table, pk)][1]
            if (table.source, table.table, pk) in found else NEW_ID_OFFSET + pk
            for pk in pks
        }
    return result


def legacy_id(kind: str, pk: int | None) -> int | None:
    if pk is None:
        return None
    return legacy_ids({kind: [pk]})[kind][pk]


def object_pk(kind: str, legacy: int | str) -> int | None:
    """Return the pk of the object a legacy id names, or None when it names none."""
    number = legacy if isinstance(legacy, int) else _as_int(str(legacy))
    if number is None:
        return None
    if number >= NEW_ID_OFFSET:
        pk = number - NEW_ID_OFFSET
        return pk if 0 < pk <= MAX_PK else None
    table = TABLES[kind]
    return LegacyRecord.objects.filter(
        source=table.source, table=table.table, legacy_id=str(number),
        content_type_id=_content_type_id(table.model),
    ).values_list("object_id", flat=True).first()


def imported_object(
    source: str, table: str, legacy: int | str
) -> tuple[type[models.Model], int] | None:
    """Return (model, pk) of the object a legacy row of any table became, or None."""
    record = LegacyRecord.objects.filter(
        source=source, table=table, legacy_id=str(legacy)
    ).select_related("content_type").first()
    if record is None or record.content_type.model_class() is None:
        return None
    return record.content_type.model_class(), record.object_id
