"""Core and Portal read from their live databases (PostgreSQL, MySQL/MariaDB)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from importers.legacy_schema import (
    Column,
    ColumnType,
    System,
    Table,
)
from importers.sources.base import (
    _SYSTEM_NAMES,
    DEFAULT_BATCH_SIZE,
    Row,
    SourceError,
    _missing_columns_error,
    _row_canonicaliser,
    _table,
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


