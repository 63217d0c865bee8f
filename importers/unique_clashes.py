"""Rows of one uploaded table that would take a unique value another object holds.

A whole import writes every table, and its matching keeps such values apart; one table
alone meets values made elsewhere (a person holding a Cognito sub in the back-office, a
team renamed in Portal to a name its company already uses). Without this check the
database refuses the whole batch: the preview's 500 of issue 14. Such rows are rejected
with the holder named, the rest of the file goes ahead.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models.functions import Lower

from importers.load.engine import (
    FieldRules,
    Planned,
    Precedence,
    Writer,
    field_precedence,
    fingerprint,
)
from rbac.models import Team, User


class ClashGuardWriter(Writer):
    """The writer of a one-table upload: a row that would break a unique key is rejected."""

    def write(
        self, source: str, table: str, model: type[models.Model], planned: list[Planned],
        key_map: dict[Hashable, int], rules: FieldRules, written: set[int] | None = None,
    ) -> dict[str, int]:
        if model in UNIQUE_KEYS:
            planned = self._without_clashes(source, table, model, planned, key_map, rules)
        return super().write(source, table, model, planned, key_map, rules, written)

    def _without_clashes(
        self, source: str, table: str, model: type[models.Model], planned: list[Planned],
        key_map: dict[Hashable, int], rules: FieldRules,
    ) -> list[Planned]:
        """Reject the rows that would give an object a unique value another object holds."""
        keys = UNIQUE_KEYS[model]
        names = sorted({name for key in keys for name in key.fields})
        existing = self.prov.lookup(source, table, [p.legacy_id for p in planned])
        writes: list[tuple[Planned, Hashable, dict[str, Any]]] = []
        targets: dict[str, int | None] = {}
        for p in planned:
            record = existing.get(p.legacy_id)
            if record is not None and record.fingerprint == fingerprint(p.row):
                continue  # unchanged: nothing is written
            target = record.object_id if record is not None else key_map.get(p.key)
            targets[p.legacy_id] = target
        held = {
            row["pk"]: row for row in model._default_manager.filter(
                pk__in=[t for t in targets.values() if t is not None]).values("pk", *names)
        }
        for p in planned:
            if p.legacy_id not in targets:
                continue
            target = targets[p.legacy_id]
            record = existing.get(p.legacy_id)
            overwrite = target is None or (record is not None and record.is_origin)
            values = _values_after(p.values, held.get(target, {}), names, rules, overwrite)
            identity = target if target is not None else ("new", p.key or p.legacy_id)
            writes.append((p, identity, values))
        clashes = self._clashes(model, keys, writes)
        if not clashes:
            return planned
        for legacy_id, reason in clashes.items():
            self.report.reject(source, table, legacy_id, reason)
        return [p for p in planned if p.legacy_id not in clashes]

    @staticmethod
    def _clashes(
        model: type[models.Model], keys: tuple[UniqueKey, ...],
        writes: list[tuple[Planned, Hashable, dict[str, Any]]],
    ) -> dict[str, str]:
        """Return, for each row that would break a unique key, why; first come, first kept."""
        clashes: dict[str, str] = {}
        held_by: dict[str, tuple[UniqueKey, Any, int]] = {}  # described once loaded
        for key in keys:
            wanted = {v for _, _, values in writes if (v := key.value(values)) is not None}
            holders = key.holders(model, wanted)
            claimed: dict[tuple, tuple[Hashable, str]] = {}
            for p, identity, values in writes:
                value = key.value(values)
                if value is None or p.legacy_id in clashes or p.legacy_id in held_by:
                    continue
                holder = holders.get(value)
                shown = values[key.fields[-1]]
                if holder is not None and holder != identity:
                    held_by[p.legacy_id] = (key, shown, holder)
                elif value in claimed and claimed[value][0] != identity:
                    clashes[p.legacy_id] = (
                        f"its {key.label} {shown} is also that of row #{claimed[value][1]} "
                        "of this file, which comes first")
                else:
                    claimed.setdefault(value, (identity, p.legacy_id))
        described = model._default_manager.in_bulk({holder for _, _, holder in held_by.values()})
        for legacy_id, (key, shown, holder) in held_by.items():
            clashes[legacy_id] = (
                f"its {key.label} {shown} already belongs to {key.owner_label} "
                f"{described.get(holder, holder)}, which this file does not change")
        return clashes


@dataclass(frozen=True)
class UniqueKey:
    """A unique constraint the loader's own matching of rows to objects does not cover."""

    label: str
    owner_label: str
    fields: tuple[str, ...]
    folded: frozenset[str] = frozenset()  # compared case-insensitively, as Lower() does

    def value(self, values: dict[str, Any]) -> tuple | None:
        """Return the key of an object holding `values`, None where NULL or empty."""
        parts = []
        for name in self.fields:
            part = values.get(name)
            if part is None or part == "":
                return None
            parts.append(part.lower() if name in self.folded else part)
        return tuple(parts)

    def holders(self, model: type[models.Model], wanted: set[tuple]) -> dict[tuple, int]:
        """Return the pk of the object that holds each of these key values now."""
        if not wanted:
            return {}
        first = self.fields[0]
        firsts = {value[0] for value in wanted}
        queryset = model._default_manager.all()
        if first in self.folded:
            queryset = queryset.annotate(key_start=Lower(first)).filter(key_start__in=firsts)
        else:
            queryset = queryset.filter(**{f"{first}__in": firsts})
        found = {}
        for row in queryset.values("pk", *self.fields):
            value = self.value(row)
            if value in wanted:
                found[value] = row["pk"]
        return found


UNIQUE_KEYS: dict[type[models.Model], tuple[UniqueKey, ...]] = {
    User: (UniqueKey("e-mail address", "user", ("email",), frozenset({"email"})),
           UniqueKey("Cognito sub", "user", ("cognito_sub",))),
    Team: (UniqueKey("name", "team", ("company_id", "name"), frozenset({"name"})),),
}


def _values_after(
    values: dict[str, Any], held: dict[str, Any], names: list[str], rules: FieldRules,
    overwrite: bool,
) -> dict[str, Any]:
    """Return the values of `names` an object holds after a row is merged into it, as the
    writer's field precedence decides."""
    after = {}
    for name in names:
        current = held.get(name)
        taken = name in values and field_precedence(
            rules.get(name, "fill"), current, values[name], overwrite=overwrite
        ) is Precedence.TAKE
        after[name] = values[name] if taken else current
    return after
