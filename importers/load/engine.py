"""Plan, merge, write: the generic part of the load, the same for every legacy table.

A legacy row is first turned into a `Planned` (the values of the object it becomes, and
the key under which rows become one object), by the mappings of `load.core` and
`load.portal`. `Writer.write` then creates, merges or updates the objects of a batch of
planned rows, in bulk, and records each row's `LegacyRecord` (`Provenance`). Where a
further row meets an object that already exists, `field_precedence` decides, per field,
which value wins.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef

from importers import bulk
from importers.bulk import WRITE_BATCH_SIZE
from importers.models import LegacyRecord
from importers.report import ImportReport
from rbac.models import Membership, Role, User

Row = dict[str, Any]
# SQLite allows 32766 variables per statement in current builds, 999 in old ones.
LOOKUP_CHUNK = 900
CHANGE_REASON = "legacy import"

# How a value from a further legacy row is merged into an object that already exists:
#   fill  — set when the object's value is empty; two different values are a conflict
#   quiet — like fill, without reporting (values that follow another field)
#   keep  — never changed by a merge (identity and secrets)
#   set   — always set (values derived from every row of the object, the same for each)
#   min   — the earliest wins (creation dates)
# A changed row that created the object (`is_origin`) overwrites every field instead.
FieldRules = dict[str, str]
PLAIN_RULES: FieldRules = {}

# A person's rights held in their own fields: an import may switch them on, and switch
# them off only for people an import created (see NativeRights).
RIGHTS_FLAGS = frozenset({"is_active", "is_staff", "is_superuser"})


class Precedence(enum.Enum):
    TAKE = "take"  # the row's value replaces the object's
    KEEP = "keep"  # the object's value stays, silently
    CONFLICT = "conflict"  # the object's value stays, and the difference is reported


def field_precedence(rule: str, current: Any, value: Any, *, overwrite: bool) -> Precedence:
    """Decide whether a row's `value` replaces an object's `current` value under `rule`."""
    if current == value:
        return Precedence.KEEP
    if overwrite or rule == "set":
        return Precedence.TAKE
    if rule == "keep":
        return Precedence.KEEP
    if rule == "min":
        if value is None or (current is not None and current <= value):
            return Precedence.KEEP
        return Precedence.TAKE
    if empty(value):
        return Precedence.KEEP
    if empty(current):
        return Precedence.TAKE
    return Precedence.CONFLICT if rule == "fill" else Precedence.KEEP


def fingerprint(row: Row) -> str:
    """Return a stable hash of a canonical legacy row: equal rows, equal fingerprints.

    The values' repr, in the table's column order (`legacy_schema`): every canonical value
    (int, str, bool, None, datetime, Decimal) has a repr that is stable across runs.
    """
    return hashlib.sha256(repr(tuple(row.values())).encode()).hexdigest()


def unusable_password() -> str:
    """What make_password(None) returns, without its character-by-character random draw."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def empty(value: Any) -> bool:
    return value is None or value == ""


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Planned:
    """One legacy row, turned into the field values of the object it becomes."""

    legacy_id: str
    row: Row
    key: Hashable | None  # rows with the same key become one object; None: its own object
    values: dict[str, Any]
    fingerprint: str = ""


@dataclass
class Existing:
    """The LegacyRecord of a row imported before."""

    pk: int
    object_id: int
    fingerprint: str
    is_origin: bool


class Provenance:
    """LegacyRecord rows: looked up per batch, written in bulk (COPY on PostgreSQL)."""

    _COLUMNS = ("source", "table", "legacy_id", "content_type_id", "object_id", "fingerprint",
                "is_origin", "imported_at", "updated_at")

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._content_types: dict[type[models.Model], ContentType] = {}
        self._new: list[tuple[Any, ...]] = []
        self._changed: list[LegacyRecord] = []
        self._imported_before: dict[tuple[str, str], bool] = {}

    def content_type(self, model: type[models.Model]) -> ContentType:
        if model not in self._content_types:
            self._content_types[model] = ContentType.objects.get_for_model(model)
        return self._content_types[model]

    def lookup(self, source: str, table: str, legacy_ids: list[str]) -> dict[str, Existing]:
        found: dict[str, Existing] = {}
        if (source, table) not in self._imported_before:
            # Asked before this run writes the table's first batch.
            self._imported_before[(source, table)] = LegacyRecord.objects.filter(
                source=source, table=table
            ).exists()
        if not self._imported_before[(source, table)]:
            return found  # never imported before: nothing to look up
        for chunk in chunks(legacy_ids, LOOKUP_CHUNK):
            for pk, legacy_id, object_id, fp, origin in LegacyRecord.objects.filter(
                source=source, table=table, legacy_id__in=chunk
            ).values_list("pk", "legacy_id", "object_id", "fingerprint", "is_origin"):
                found[legacy_id] = Existing(pk, object_id, fp, origin)
        return found

    def object_ids(self, source: str, table: str) -> dict[str, int]:
        """Return {legacy id: object pk} of every row of the table imported so far."""
        return dict(
            LegacyRecord.objects.filter(source=source, table=table).values_list(
                "legacy_id", "object_id"
            )
        )

    def id_map(self, source: str, table: str) -> dict[int, int]:
        """Return {integer legacy id: object pk} of every row of the table imported so far."""
        return {int(legacy_id): pk for legacy_id, pk in self.object_ids(source, table).items()}

    def add(
        self, source: str, table: str, legacy_id: str, model: type[models.Model],
        object_id: int, fp: str, *, origin: bool,
    ) -> None:
        self._new.append((source, table, legacy_id, self.content_type(model).pk, object_id, fp,
                          origin, self.now, self.now))

    def refresh(self, existing: Existing, fp: str) -> None:
        self._changed.append(LegacyRecord(pk=existing.pk, fingerprint=fp, updated_at=self.now))

    def flush(self) -> None:
        if self._new:
            if bulk.uses_copy():
                stamp = self.now.isoformat()
                bulk.copy_lines(LegacyRecord._meta.db_table, self._COLUMNS, "".join(
                    f"{source}\t{table}\t{bulk.copy_escape(legacy_id)}\t{content_type}\t"
                    f"{object_id}\t{fp}\t{'t' if origin else 'f'}\t{stamp}\t{stamp}\n"
                    for source, table, legacy_id, content_type, object_id, fp, origin, _, _
                    in self._new
                ))
            else:
                LegacyRecord.objects.bulk_create(
                    [LegacyRecord(**dict(zip(self._COLUMNS, row, strict=True)))
                     for row in self._new],
                    batch_size=WRITE_BATCH_SIZE,
                )
            self._new = []
        if self._changed:
            LegacyRecord.objects.bulk_update(
                self._changed, ["fingerprint", "updated_at"], batch_size=WRITE_BATCH_SIZE
            )
            self._changed = []


@dataclass
class NativeRights:
    """The rights of people no import created: an import adds to them, never takes away.

    A person created in the back-office (a native administrator, a staff member) may also
    appear in a legacy export, and the legacy system's view of them is older and narrower
    than the back-office's. Every merge of a legacy row into an existing user or
    membership asks `takes_away` first, whichever path (the command or the admin's upload)
    runs the loader. Memberships and direct grants an import did not write are never
    deleted by it at all.
    """

    people: frozenset[int]
    role_rank: dict[int, int]

    @classmethod
    def load(cls) -> NativeRights:
        """Read the users without a LegacyRecord that created them, and each role's rank."""
        # NOT EXISTS, not NOT IN: PostgreSQL plans NOT IN (subquery) without an anti-join,
        # which takes minutes against the provenance of a production-size import.
        created = LegacyRecord.objects.filter(
            content_type=ContentType.objects.get_for_model(User), is_origin=True,
            object_id=OuterRef("pk"),
        )
        return cls(
            people=frozenset(
                User.objects.filter(~Exists(created)).values_list("pk", flat=True)),
            role_rank=dict(Role.objects.values_list("pk", "rank")),
        )

    def takes_away(self, obj: models.Model, name: str, value: Any) -> bool:
        """Tell whether setting `name` of a stored `obj` to `value` lowers a native right."""
        if obj.pk is None:  # written in this run: nothing held before it
            return False
        if isinstance(obj, User):
            return obj.pk in self.people and name in RIGHTS_FLAGS and bool(
                getattr(obj, name)) and not value
        if isinstance(obj, Membership) and name == "role_id":
            return obj.user_id in self.people and (
                self.role_rank.get(value, 0) < self.role_rank.get(obj.role_id, 0))
        return False


class Writer:
    """Write batches of planned rows: create, merge or update, with history and provenance."""

    def __init__(self, report: ImportReport, provenance: Provenance, native: NativeRights,
                 history: bulk.History) -> None:
        self.report = report
        self.prov = provenance
        self.native = native
        self.history = history

    def write(
        self, source: str, table: str, model: type[models.Model], planned: list[Planned],
        key_map: dict[Hashable, int], rules: FieldRules, written: set[int] | None = None,
    ) -> dict[str, int]:
        """Create, merge or update the objects of a batch of planned rows; return their pks.

        Each row counts as exactly one of created, merged, updated or unchanged. `written`
        collects the pks of the objects that took the values of one of the rows. A merged
        row without values is recorded without loading its object.
        """
        counts = self.report.table(source, table)
        existing = self.prov.lookup(source, table, [p.legacy_id for p in planned])
        result: dict[str, int] = {}
        new_objects: dict[Hashable, models.Model] = {}
        new_records: list[tuple[Planned, Hashable, bool]] = []
        touched: dict[int, list[tuple[Planned, bool]]] = defaultdict(list)
        for p in planned:
            fp = p.fingerprint = fingerprint(p.row)
            record = existing.get(p.legacy_id)
            if record is not None:
                result[p.legacy_id] = record.object_id
                if p.key is not None:
                    key_map.setdefault(p.key, record.object_id)
                if record.fingerprint == fp:
                    counts.count("unchanged")
                    continue
                counts.count("updated")
                touched[record.object_id].append((p, record.is_origin))
                self.prov.refresh(record, fp)
                continue
            target = key_map.get(p.key) if p.key is not None else None
            if target is not None:
                counts.count("merged")
                result[p.legacy_id] = target
                if p.values:
                    touched[target].append((p, False))
                self.prov.add(source, table, p.legacy_id, model, target, fp, origin=False)
                continue
            object_key = p.key if p.key is not None else ("row", p.legacy_id)
            if object_key in new_objects:
                counts.count("merged")
                self.apply(new_objects[object_key], p, rules, False, source, table)
                new_records.append((p, object_key, False))
            else:
                counts.count("created")
                new_objects[object_key] = bulk.new(model, p.values)
                new_records.append((p, object_key, True))
        if written is not None:
            written.update(touched)
        if new_objects:
            bulk.create(model, list(new_objects.values()), self.history)
            if written is not None:
                written.update(obj.pk for obj in new_objects.values())
            for p, object_key, origin in new_records:
                pk = new_objects[object_key].pk
                if p.key is not None:
                    key_map[p.key] = pk
                result[p.legacy_id] = pk
                self.prov.add(source, table, p.legacy_id, model, pk, p.fingerprint,
                              origin=origin)
        if touched:
            self._update(model, touched, rules, source, table)
        self.prov.flush()
        return result

    def _update(
        self, model: type[models.Model], touched: dict[int, list[tuple[Planned, bool]]],
        rules: FieldRules, source: str, table: str,
    ) -> None:
        objects = bulk.load(model, list(touched))
        changed: dict[int, models.Model] = {}
        fields: set[str] = set()
        for pk, items in touched.items():
            obj = objects.get(pk)
            if obj is None:  # deleted in the back-office since the last run: leave it so
                continue
            for p, origin in items:
                names = self.apply(obj, p, rules, origin, source, table)
                if names:
                    changed[pk] = obj
                    fields |= names
        bulk.update(model, list(changed.values()), sorted(fields), self.history)

    def apply(
        self, obj: models.Model, p: Planned, rules: FieldRules, overwrite: bool,
        source: str, table: str,
    ) -> set[str]:
        """Merge one row's values into an object by the field rules; return changed fields."""
        changed: set[str] = set()
        for name, value in p.values.items():
            current = getattr(obj, name)
            if current == value:
                continue
            if self.native.takes_away(obj, name, value):
                self.report.conflict(
                    "rights_kept", object=f"{obj._meta.model_name} {obj.pk}", field=name,
                    kept=str(current), dropped=str(value), row=f"{source}.{table} #{p.legacy_id}",
                    rule="an import never takes a right from a person it did not create",
                )
                continue
            outcome = field_precedence(rules.get(name, "fill"), current, value,
                                       overwrite=overwrite)
            if outcome is Precedence.CONFLICT:
                self.report.conflict(
                    "field", object=f"{obj._meta.model_name} {obj.pk or '(new)'}",
                    field=name, kept=str(current), dropped=str(value),
                    row=f"{source}.{table} #{p.legacy_id}",
                    rule="the first (Core before Portal) non-empty value wins",
                )
            if outcome is not Precedence.TAKE:
                continue
            setattr(obj, name, value)
            changed.add(name)
        return changed
