"""Read the legacy tables as rows of canonical Python values, whatever the source.

A source is a live database (Core on PostgreSQL, Portal on MySQL/MariaDB) or a directory
of CSV exports. Every kind yields the same dicts for the same data:

* keys are the table's columns in `legacy_schema` order;
* ints are `int`, bools `bool`, Core timestamps aware `datetime` in UTC, Portal
  `DATETIME`s naive `datetime` (Europe/Berlin wall-clock; the zero date becomes None);
* text is the `str` as stored, spaces and mojibake included. A CSV export cannot tell an
  empty string from NULL, so every source reads both as None in a nullable column and
  as "" in a NOT NULL text column;
* a row with a value that cannot be read as its column's type is still yielded, with
  the key `_errors`: {column: problem}; those columns hold the raw text as read. Clean
  rows have no `_errors` key. The loader rejects such rows with the problem as reason.

Everything that stops a whole table from being read raises `SourceError`, whose message
is one sentence a person can act on.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from importers.legacy_schema import (
    COGNITO_ATTRIBUTES,
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


# --- databases ----------------------------------------------------------------------

def mask_password(url: str) -> str:
    """Return `url` with its password, if any, replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0].rstrip(".") if text else type(error).__name__


class _DatabaseSource:
    system: System

    def __init__(self, url: str) -> None:
        self.url = url
        self.masked_url = mask_password(url)
        self._checked: dict[str, Collection[str]] = {}  # table → its columns, once checked

    def __enter__(self) -> _DatabaseSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _where(self) -> str:
        return f"{_SYSTEM_NAMES[self.system]} database {self.masked_url}"

    def _unreachable(self, error: BaseException) -> SourceError:
        return SourceError(
            f"Cannot connect to the {self._where()} ({_first_line(error)}); "
            "check that the server runs and the URL, user and password are right."
        )

    def _read_failed(self, name: str, error: BaseException) -> SourceError:
        return SourceError(
            f"Reading {name} from the {self._where()} failed ({_first_line(error)}); "
            "run the import again."
        )

    def _existing_columns(self, table: Table) -> Collection[str] | None:
        raise NotImplementedError

    def _check_table(self, table: Table) -> None:
        if table.name in self._checked:
            return
        existing = self._existing_columns(table)
        if not existing:
            raise SourceError(
                f"{self._where()} has no table {table.qualified_name}; "
                f"load the {_SYSTEM_NAMES[self.system]} dump into it or fix the URL."
            )
        missing = [name for name in table.column_names if name not in existing]
        if missing:
            raise _missing_columns_error(self._where(), table, missing)
        self._checked[table.name] = existing


class PostgresSource(_DatabaseSource):
    """Core in PostgreSQL (schema `core`), streamed through a server-side cursor."""

    system: System = "core"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        import psycopg

        self._psycopg = psycopg
        try:
            self._conn = psycopg.connect(url, connect_timeout=10)
            self._conn.execute("SET TIME ZONE 'UTC'")
        except psycopg.Error as error:
            raise self._unreachable(error) from error
        self._cursor_serial = 0

    def _existing_columns(self, table: Table) -> dict[str, str]:
        """Return the table's columns, each with its PostgreSQL type."""
        rows = self._conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'core' AND table_name = %s",
            (table.name,),
        ).fetchall()
        return dict(rows)

    def count(self, table: str) -> int | None:
        spec = _table(self.system, table)
        self._check_table(spec)
        (estimate,) = self._conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            (spec.qualified_name,),
        ).fetchone()
        if estimate is None or estimate < 0:
            # Never analysed since loading: count exactly, still quick at our sizes.
            (estimate,) = self._conn.execute(
                f"SELECT count(*) FROM {spec.qualified_name}"
            ).fetchone()
        return int(estimate)

    def digest(self, table: str) -> str:
        spec = _table(self.system, table)
        self._check_table(spec)
        # The sum of each row's hash: order-free, computed by the server in one pass.
        try:
            count, total = self._conn.execute(
                "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint"
                f"::numeric), 0) FROM {spec.qualified_name} AS t"
            ).fetchone()
        except self._psycopg.Error as error:
            raise self._read_failed(spec.qualified_name, error) from error
        return f"{count}:{total}"

    def iter_batches(self, table: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[Row]]:
        spec = _table(self.system, table)
        self._check_table(spec)
        return self._stream(spec, batch_size)

    def _reading(self, table: Table) -> tuple[str, Callable[[Iterable[Any]], Row]]:
        """Return the select list and the row function for `table`.

        When every column's PostgreSQL type already holds its canonical type (the dump's
        own types), the server empties the text columns as `canonical_row` would and a row
        is its values as they arrive: half the time per row. A column of another type
        (a `character(n)` keeps its padding; a text column meant as a number) sends the
        whole table through `canonical_row`.
        """
        types = self._checked[table.name]  # column → type, from _existing_columns
        if all(types.get(c.name) in _CANONICAL_PG_TYPES[c.type] for c in table.columns):
            names = table.column_names
            return ", ".join(map(_canonical_select, table.columns)), (
                lambda record: dict(zip(names, record, strict=True))
            )
        return ", ".join(table.column_names), _row_canonicaliser(table)

    def _stream(self, table: Table, batch_size: int) -> Iterator[list[Row]]:
        columns, canonical_row = self._reading(table)
        self._cursor_serial += 1
        order = ", ".join(table.primary_key)
        try:
            with self._conn.cursor(name=f"legacy_{table.name}_{self._cursor_serial}") as cursor:
                cursor.itersize = batch_size
                cursor.execute(f"SELECT {columns} FROM {table.qualified_name} ORDER BY {order}")
                while records := cursor.fetchmany(batch_size):
                    yield [canonical_row(record) for record in records]
        except self._psycopg.OperationalError as error:
            raise SourceError(
                f"Lost the connection to the {self._where()} while reading "
                f"{table.qualified_name} ({_first_line(error)}); run the import again."
            ) from error

    def close(self) -> None:
        self._conn.close()


# The PostgreSQL types whose values psycopg reads as a column's canonical type (timestamps
# with time zone arrive in UTC, the session's time zone, as datetime.UTC).
_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})
_CANONICAL_PG_TYPES: dict[ColumnType, frozenset[str]] = {
    ColumnType.INT: _INTEGER_TYPES,
    ColumnType.BIGINT: _INTEGER_TYPES,
    ColumnType.STR: frozenset({"text", "character varying"}),
    ColumnType.BOOL: frozenset({"boolean"}),
    ColumnType.TIMESTAMP_AWARE: frozenset({"timestamp with time zone"}),
    ColumnType.TIMESTAMP_NAIVE_BERLIN: frozenset(),
}


def _canonical_select(column: Column) -> str:
    """The select expression of a column of canonical type: empty text as `_empty_value`."""
    if column.type is not ColumnType.STR:
        return column.name
    if column.nullable:
        return f"NULLIF({column.name}, '')"
    return f"COALESCE({column.name}, '')"


class MySQLSource(_DatabaseSource):
    """Portal in MySQL/MariaDB, streamed through PyMySQL's unbuffered SSCursor."""

    system: System = "portal"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        import pymysql

        self._pymysql = pymysql
        parts = urlsplit(url)
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise SourceError(
                f"The Portal database URL {self.masked_url} names no database; "
                "append it, as in mysql://user@host/portal."
            )
        self._connect_args = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 3306,
            "user": unquote(parts.username) if parts.username else "root",
            "password": unquote(parts.password) if parts.password else "",
            "database": database,
            "charset": "utf8mb4",
            # Encoders only, no decoders: every value arrives as text, so a zero date
            # stays readable and one conversion (shared with CSV) makes the canonical value.
            "conv": {
                key: encoder
                for key, encoder in pymysql.converters.conversions.items()
                if not isinstance(key, int)
            },
            "connect_timeout": 10,
        }
        self._conn = self._connect()

    def _connect(self, **extra: Any):
        try:
            return self._pymysql.connect(**self._connect_args, **extra)
        except self._pymysql.MySQLError as error:
            raise self._unreachable(error) from error

    def _existing_columns(self, table: Table) -> list[str]:
        with self._conn.cursor() as cursor:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = DATABASE() AND table_name = %s",
                (table.name,),
            )
            return [name for (name,) in cursor.fetchall()]

    def count(self, table: str) -> int | None:
        spec = _table(self.system, table)
        self._check_table(spec)
        with self._conn.cursor() as cursor:
            # MyISAM keeps an exact row count, so this is instant.
            cursor.execute(f"SELECT COUNT(*) FROM `{spec.name}`")
            (total,) = cursor.fetchone()
        return int(total)

    def digest(self, table: str) -> str:
        spec = _table(self.system, table)
        self._check_table(spec)
        try:
            with self._conn.cursor() as cursor:
                # A checksum over every row's values, computed by the server.
                cursor.execute(f"CHECKSUM TABLE `{spec.name}` EXTENDED")
                (_, checksum) = cursor.fetchone()
        except self._pymysql.MySQLError as error:
            raise self._read_failed(spec.name, error) from error
        return f"{self.count(table)}:{checksum}"

    def iter_batches(self, table: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[Row]]:
        spec = _table(self.system, table)
        self._check_table(spec)
        return self._stream(spec, batch_size)

    def _stream(self, table: Table, batch_size: int) -> Iterator[list[Row]]:
        canonical_row = _row_canonicaliser(table)
        columns = ", ".join(f"`{name}`" for name in table.column_names)
        order = ", ".join(f"`{name}`" for name in table.primary_key)
        # An unbuffered result blocks its connection until read to the end, so each
        # stream gets its own connection and count() stays usable meanwhile.
        conn = self._connect(cursorclass=self._pymysql.cursors.SSCursor)
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"SELECT {columns} FROM `{table.name}` ORDER BY {order}")
                while records := cursor.fetchmany(batch_size):
                    yield [canonical_row(record) for record in records]
        except self._pymysql.MySQLError as error:
            raise self._read_failed(table.name, error) from error
        finally:
            conn.close()

    def close(self) -> None:
        if self._conn.open:
            self._conn.close()


# --- CSV exports --------------------------------------------------------------------

class CSVSource:
    """A directory of `<table>.csv` files as exported from Core or Portal."""

    def __init__(self, system: System, directory: Path) -> None:
        self.system = system
        # Accept the export's root as well as its per-system folder.
        nested = directory / "csv" / system
        self.directory = nested if nested.is_dir() else directory
        self.delimiter = CSV_DIALECTS[system]["delimiter"]

    def __enter__(self) -> CSVSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: each stream closes its own file."""

    def path(self, table: str) -> Path:
        return self.directory / f"{_table(self.system, table).name}.csv"

    def count(self, table: str) -> int | None:
        path = self._existing(table)
        lines = 0
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                lines += chunk.count(b"\n")
        # An estimate: a quoted field may span lines.
        return max(lines - 1, 0)

    def digest(self, table: str) -> str:
        return file_digest(self._existing(table))

    def _existing(self, table: str) -> Path:
        path = self.path(table)
        if not path.is_file():
            raise SourceError(
                f"{_SYSTEM_NAMES[self.system]} CSV export {self.directory} has no "
                f"{path.name}; export the table {table} there or point to the right folder."
            )
        return path

    def iter_batches(self, table: str, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[Row]]:
        spec = _table(self.system, table)
        path = self._existing(table)
        try:
            file = path.open("rb")
        except OSError as error:
            raise SourceError(
                f"Cannot open {path} ({error.strerror}); check its permissions."
            ) from error
        try:
            reader, lines = self._reader(file, path)
            positions, width = self._read_header(reader, lines, path, spec)
        except BaseException:
            file.close()
            raise
        rows = self._rows(file, reader, lines, path, spec, positions, width)
        return _batched(rows, batch_size)

    def _reader(self, file, path: Path) -> tuple[Iterator[list[str]], _DecodedLines]:
        lines = _DecodedLines(file, path, CSV_DIALECTS[self.system]["description"])
        return csv.reader(lines, delimiter=self.delimiter, strict=True), lines

    def _read_header(
        self, reader: Iterator[list[str]], lines: _DecodedLines, path: Path, table: Table
    ) -> tuple[list[int], int]:
        """Return where each of the table's columns is in the file, and the row width."""
        try:
            header = next(reader)
        except StopIteration:
            raise SourceError(
                f"{path}: line 1: the file is empty, expected a header row; export it again."
            ) from None
        except csv.Error as error:
            raise _csv_error(path, lines.line_number, error) from None
        header = [name.strip() for name in header]
        if len(header) == 1:
            for other in (",", ";", "\t", "|"):
                if other != self.delimiter and other in header[0]:
                    raise SourceError(
                        f"{path}: line 1: the header is separated by {other!r} but "
                        f"{_SYSTEM_NAMES[self.system]} CSV exports use {self.delimiter!r}; "
                        f"export it as {CSV_DIALECTS[self.system]['description']}."
                    )
        missing = [name for name in table.column_names if name not in header]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise SourceError(
                f"{path}: line 1: the header lacks the column{plural} {', '.join(missing)} "
                f"of {table.qualified_name}; export all of its columns."
            )
        return [header.index(name) for name in table.column_names], len(header)

    def _rows(
        self,
        file,
        reader: Iterator[list[str]],
        lines: _DecodedLines,
        path: Path,
        table: Table,
        positions: list[int],
        width: int,
    ) -> Iterator[Row]:
        canonical_row = _row_canonicaliser(table)
        with file:
            while True:
                first_line = lines.line_number + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise _csv_error(path, first_line, error) from None
                if not fields:
                    continue  # a blank line
                if len(fields) != width:
                    raise SourceError(
                        f"{path}: line {first_line}: expected {width} fields, found "
                        f"{len(fields)}; look for an unquoted {self.delimiter!r} or a "
                        "broken line there."
                    )
                yield canonical_row([fields[i] for i in positions])


def file_digest(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 of a file's bytes, read in chunks."""
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as error:
        raise SourceError(f"Cannot read {path} ({error.strerror}); check the path.") from error


def _csv_error(path: Path, line: int, error: csv.Error) -> SourceError:
    return SourceError(f"{path}: line {line}: malformed CSV ({error}); fix the quoting there.")


class _DecodedLines:
    """Iterate over a binary file's lines as text, knowing which line is being read.

    Decoding line by line (instead of through a text wrapper's 8 KiB chunks) lets a
    bad byte be reported with its exact line number.
    """

    def __init__(self, file, path: Path, description: str) -> None:
        self._file = file
        self._path = path
        self._description = description
        self.line_number = 0

    def __iter__(self) -> _DecodedLines:
        return self

    def __next__(self) -> str:
        raw = self._file.readline()
        if not raw:
            raise StopIteration
        self.line_number += 1
        if self.line_number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError(
                f"{self._path}: line {self.line_number}: byte {raw[error.start]:#04x} at "
                f"column {error.start + 1} is not valid UTF-8; export the file as "
                f"{self._description}."
            ) from None


# --- opening ------------------------------------------------------------------------

_URL_SCHEMES: dict[System, tuple[str, ...]] = {
    "core": ("postgresql", "postgres"),
    "portal": ("mysql", "mariadb"),
}


def open_source(system: System, spec: str | os.PathLike[str]) -> LegacySource:
    """Open Core or Portal from a database URL or a directory of CSV exports."""
    if system not in _URL_SCHEMES:
        raise SourceError(f"Unknown legacy system {system!r}; use 'core' or 'portal'.")
    text = os.fspath(spec)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme:
        if scheme not in _URL_SCHEMES[system]:
            expected = " or ".join(f"{s}://" for s in _URL_SCHEMES[system])
            raise SourceError(
                f"{_SYSTEM_NAMES[system]} cannot be read from {mask_password(text)}; "
                f"give a {expected} URL or a folder of CSV exports."
            )
        return PostgresSource(text) if system == "core" else MySQLSource(text)
    directory = Path(text)
    if not directory.is_dir():
        raise SourceError(
            f"{directory} is neither a database URL nor an existing folder of "
            f"{_SYSTEM_NAMES[system]} CSV exports; check the path."
        )
    return CSVSource(system, directory)


# --- Cognito ------------------------------------------------------------------------

def read_cognito(path: str | os.PathLike[str]) -> Iterator[Row]:
    """Yield the users of an `aws cognito-idp list-users` JSON export.

    Each row has sub, email, email_verified, given_name, family_name, enabled, status
    and created; a user whose fields cannot be read carries `_errors` like table rows.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            document = json.load(file)
    except OSError as error:
        raise SourceError(f"Cannot read {path} ({error.strerror}); check the path.") from error
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{path}: byte {error.start} is not valid UTF-8; export the user pool again."
        ) from error
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{path}: line {error.lineno}: not valid JSON ({error.msg}); "
            "export the user pool again with aws cognito-idp list-users."
        ) from error
    users = document.get("Users") if isinstance(document, dict) else None
    if not isinstance(users, list):
        raise SourceError(
            f"{path} has no \"Users\" list; give the output of aws cognito-idp list-users."
        )
    return (_cognito_row(user) for user in users)


def _cognito_row(user: Any) -> Row:
    if not isinstance(user, dict):
        return {ERRORS_KEY: {"user": f"{user!r} is not a user object"}}
    attributes = {
        attribute.get("Name"): attribute.get("Value")
        for attribute in user.get("Attributes") or []
        if isinstance(attribute, dict)
    }
    row: Row = {name: attributes.get(name) for name in COGNITO_ATTRIBUTES}
    row["sub"] = row["sub"] or user.get("Username")
    row["enabled"] = user.get("Enabled")
    row["status"] = user.get("UserStatus")
    row["created"] = user.get("UserCreateDate")
    errors: dict[str, str] = {}
    for name, convert in (
        ("email_verified", _to_bool),
        ("enabled", _to_bool),
        ("created", _to_aware),
    ):
        if row[name] is None:
            continue
        try:
            row[name] = convert(row[name])
        except ValueError as error:
            errors[name] = str(error)
    if not row["sub"]:
        errors["sub"] = "the user has neither a sub attribute nor a Username"
    if errors:
        row[ERRORS_KEY] = errors
    return row
