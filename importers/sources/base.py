"""Canonical values, the source protocol and the errors every kind of source shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

from importers.legacy_schema import (
    TABLES,
    Column,
    ColumnType,
    System,
    Table,
)

ERRORS_KEY = "_errors"
DEFAULT_BATCH_SIZE = 5000
CSV_DIALECTS: dict[System, dict[str, str]] = {
    "core": {"delimiter": ",", "description": "UTF-8 with ',' as delimiter"},
    "portal": {"delimiter": ";", "description": "UTF-8 with BOM and ';' as delimiter"},
}
_SYSTEM_NAMES: dict[System, str] = {"core": "Core", "portal": "Portal"}
_ZERO_DATE_PREFIX = "0000-00-00"
_TRUE = frozenset({"true", "t", "1"})
_FALSE = frozenset({"false", "f", "0"})

Row = dict[str, Any]


class SourceError(Exception):
    """A legacy source cannot be read; the message says what to fix."""


class LegacySource(Protocol):
    system: System

    def iter_batches(self, table: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[Row]]:
        """Yield the rows of `table` in lists of at most `batch_size`, streamed."""
        ...

    def count(self, table: str) -> int | None:
        """Return an estimate or the exact number of rows of `table`, for progress bars."""
        ...

    def digest(self, table: str) -> str:
        """Return a text that changes whenever any row of `table` changes."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> LegacySource: ...

    def __exit__(self, *exc_info: object) -> None: ...


# --- canonical values ---------------------------------------------------------------

class _BadValue(ValueError):
    pass


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise _BadValue(f"{value!r} is not an integer")
    if isinstance(value, int):
        return value
    try:
        return int(value.strip())
    except (ValueError, AttributeError):
        raise _BadValue(f"{value!r} is not an integer") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _BadValue(f"{value!r} is not a boolean")


def _to_aware(value: Any) -> datetime:
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(value.strip())
        except (ValueError, AttributeError):
            raise _BadValue(f"{value!r} is not a timestamp") from None
    if value.tzinfo is None:
        raise _BadValue(f"{value.isoformat()!r} has no UTC offset")
    return value.astimezone(UTC)


def _to_naive(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise _BadValue(f"{value.isoformat()!r} has a UTC offset, expected Berlin wall-clock")
        return value
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.startswith(_ZERO_DATE_PREFIX):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except (ValueError, TypeError):
        raise _BadValue(f"{value!r} is not a date and time") from None
    if parsed.tzinfo is not None:
        raise _BadValue(f"{value!r} has a UTC offset, expected Berlin wall-clock")
    return parsed


def _to_str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


_CONVERTERS: dict[ColumnType, Callable[[Any], Any]] = {
    ColumnType.INT: _to_int,
    ColumnType.BIGINT: _to_int,
    ColumnType.STR: _to_str,
    ColumnType.BOOL: _to_bool,
    ColumnType.TIMESTAMP_AWARE: _to_aware,
    ColumnType.TIMESTAMP_NAIVE_BERLIN: _to_naive,
}


def _empty_value(column: Column) -> Any:
    return "" if column.type is ColumnType.STR and not column.nullable else None


def _row_canonicaliser(table: Table) -> Callable[[Iterable[Any]], Row]:
    """Return a function turning one row's raw values (text or a driver's typed values)
    into the table's canonical values; a value that cannot be read as its column's type
    stays raw, and the row carries the problem under ERRORS_KEY.

    The choices are made once per table: the function runs for every row of a million.
    """
    plan = [(column.name, _CONVERTERS[column.type], _empty_value(column))
            for column in table.columns]

    def canonical_row(raw_values: Iterable[Any]) -> Row:
        row: Row = {}
        errors: dict[str, str] | None = None
        for (name, convert, empty), raw in zip(plan, raw_values, strict=True):
            if raw is None or raw == "":
                row[name] = empty
                continue
            try:
                row[name] = convert(raw)
            except ValueError as error:
                row[name] = raw
                errors = errors or {}
                errors[name] = str(error)
        if errors:
            row[ERRORS_KEY] = errors
        return row

    return canonical_row


def _batched(rows: Iterable[Row], batch_size: int) -> Iterator[list[Row]]:
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _table(system: System, name: str) -> Table:
    try:
        return TABLES[system][name]
    except KeyError:
        known = ", ".join(TABLES[system])
        raise SourceError(
            f"{_SYSTEM_NAMES[system]} has no table {name!r}; use one of: {known}."
        ) from None


def _missing_columns_error(where: str, table: Table, missing: list[str]) -> SourceError:
    plural = "s" if len(missing) > 1 else ""
    return SourceError(
        f"{where}: table {table.qualified_name} lacks the column{plural} "
        f"{', '.join(missing)}; load a complete legacy dump or fix the export."
    )


