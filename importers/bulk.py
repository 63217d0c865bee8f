"""Write many rows at once: COPY and set-based SQL on PostgreSQL, Django's bulk paths elsewhere.

Django's `bulk_create` spends most of its time in Python (compiling the statement,
preparing each value, building arrays), and django-simple-history adds a model instance
and two signals per history row. On PostgreSQL the importer instead takes the new rows'
ids from their sequence, streams the rows with COPY, and writes their history rows with
one INSERT … SELECT from the rows just written: the history row holds exactly what the
row holds, as simple-history's own `bulk_history_create` would record it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any

from django.db import connection, models
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

# Types whose Python value psycopg writes as it is; other fields go through Django.
_PLAIN_TYPES = frozenset({
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField",
    "DateField", "DateTimeField", "DecimalField", "EmailField", "FloatField", "ForeignKey",
    "IntegerField", "OneToOneField", "PositiveIntegerField", "PositiveSmallIntegerField",
    "SlugField", "SmallIntegerField", "TextField", "URLField", "UUIDField",
})
_HISTORY_OWN = frozenset({
    "history_id", "history_date", "history_change_reason", "history_type", "history_user_id",
})
WRITE_BATCH_SIZE = 500


@dataclass(frozen=True)
class History:
    """Who, when and why, for the history rows of written objects."""

    user: models.Model | None
    reason: str
    date: datetime


def uses_copy() -> bool:
    return connection.vendor == "postgresql"


@cache
def _conversion(field: models.Field) -> str:
    """How a field's value is written: "now" (auto_now), "plain", "file" or "prep" (via Django)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return "now"
    if isinstance(field, models.FileField):
        return "file"
    return "plain" if field.get_internal_type() in _PLAIN_TYPES else "prep"


@cache
def _columns(model: type[models.Model]) -> tuple[list[models.Field], list[models.Field]]:
    """The model's fields written as they are (read in one go), and the others."""
    fields = model._meta.concrete_fields
    plain = [field for field in fields if _conversion(field) == "plain"]
    # Two at least (the pk and a foreign key or name): itemgetter then returns a tuple.
    # No multi-table inheritance: the pk and every column are the model's own fields.
    assert len(plain) > 1 and not model._meta.parents, model
    return plain, [field for field in fields if _conversion(field) != "plain"]


def _value(field: models.Field, obj: models.Model) -> Any:
    conversion = _conversion(field)  # decided once per field: this runs for every value
    if conversion == "plain":
        return getattr(obj, field.attname)
    if conversion == "now":
        return field.pre_save(obj, add=True)
    if conversion == "file":
        # What FileField.get_prep_value gives (the name as text), read from the instance's
        # own value: the field's descriptor would first wrap a plain name in a FieldFile.
        value = obj.__dict__[field.attname]
        return None if value is None else str(value)
    return field.get_db_prep_save(getattr(obj, field.attname), connection)


@cache
def _defaults(model: type[models.Model]) -> tuple[dict[str, Any], tuple[tuple[str, Any], ...]]:
    fixed: dict[str, Any] = {}
    factories = []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            factories.append((field.attname, field.default))
        else:
            fixed[field.attname] = field.get_default()
    return fixed, tuple(factories)


def new(model: type[models.Model], values: dict[str, Any]) -> models.Model:
    """Return an unsaved instance holding field defaults and `values` (keyed by attname).

    What `model(**values)` gives for plain column values, without its per-field argument
    handling and its two signals: a third of the first import's Python time.
    """
    fixed, factories = _defaults(model)
    obj = model.__new__(model)
    obj._state = models.base.ModelState()
    obj.__dict__.update(fixed)
    for attname, factory in factories:
        if attname not in values:
            obj.__dict__[attname] = factory()
    obj.__dict__.update(values)
    return obj


def load(model: type[models.Model], pks: list[int]) -> dict[int, models.Model]:
    """Return {pk: instance} like `in_bulk`, built from `.values()` rows without __init__."""
    loaded = {}
    alias = connection.alias  # a lookup in a context-local store: once, not per row
    for row in model._default_manager.filter(pk__in=pks).values():
        obj = new(model, row)
        obj._state.adding, obj._state.db = False, alias
        loaded[obj.pk] = obj
    return loaded


def update(model: type[models.Model], objects: list[models.Model], names: list[str],
           history: History) -> None:
    """Write `names` of changed objects and one '~' history row for each."""
    if not objects:
        return
    if not uses_copy():
        bulk_update_with_history(
            objects, model, names, batch_size=WRITE_BATCH_SIZE, default_user=history.user,
            default_change_reason=history.reason, default_date=history.date,
        )
        return
    quote = connection.ops.quote_name
    pk = model._meta.pk
    fields = [model._meta.get_field(name) for name in names]
    # One statement per batch: the new values arrive as one array per column.
    columns = ", ".join(
        f"unnest(%s::{field.db_type(connection)}[]) AS {quote(field.column)}"
        for field in [pk, *fields]
    )
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
    table = quote(model._meta.db_table)
    statement = (f"UPDATE {table} SET {assignments} FROM (SELECT {columns}) AS v "
                 f"WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}")
    for start in range(0, len(objects), WRITE_BATCH_SIZE):
        batch = objects[start:start + WRITE_BATCH_SIZE]
        arrays = [[_value(field, obj) for obj in batch] for field in [pk, *fields]]
        _write(lambda cursor, arrays=arrays: cursor.execute(statement, arrays))
        _history_of(model, [obj.pk for obj in batch], history, "~")


def insert_new(model: type[models.Model], attnames: Sequence[str],
               rows: list[Sequence[Any]]) -> None:
    """Insert rows of values (by attname), skipping those a unique constraint already has.

    On PostgreSQL one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` per batch,
    the values as one array per column; elsewhere `bulk_create(ignore_conflicts=True)`.
    """
    if not rows:
        return
    if not uses_copy():
        model._default_manager.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows],
            batch_size=WRITE_BATCH_SIZE, ignore_conflicts=True,
        )
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(attname) for attname in attnames]
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    statement = (f"INSERT INTO {quote(model._meta.db_table)} "
                 f"({', '.join(quote(field.column) for field in fields)}) "
                 f"SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING")
    for start in range(0, len(rows), WRITE_BATCH_SIZE * 10):
        arrays = [list(column) for column in zip(*rows[start:start + WRITE_BATCH_SIZE * 10],
                                                  strict=True)]
        _write(lambda cursor, arrays=arrays: cursor.execute(statement, arrays))


def analyze(model: type[models.Model]) -> None:
    """Refresh PostgreSQL's statistics of a table that bulk writes have just changed.

    Without them the planner takes a freshly filled LegacyRecord table for nearly empty and
    scans a whole (source, table) range for each `legacy_id IN (…)` lookup: 70 ms a
    lookup instead of 5 ms at 1.2 million rows.
    """
    if uses_copy():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@contextmanager
def bulk_load(tables: Iterable[str], write_only: Iterable[str] = ()) -> Iterator[None]:
    """Check the foreign keys of `tables` once, after the block, instead of per row; build
    the secondary indexes of `write_only` tables then too.

    Django's PostgreSQL foreign keys are deferred: each inserted row queues one check that
    runs at commit, a third of a first import's time at a million rows. Dropping the
    constraints and adding them back runs one validating join per constraint instead, and
    an index built in one go costs less than one grown row by row (PostgreSQL's
    "Populating a Database" advises both). Only the indexes of tables nobody reads during
    the block (history, provenance) go; unique ones always stay. Inside the caller's
    transaction, so an error anywhere rolls the drop back too; a row that breaks a key
    fails the adding with the constraint's name. Holds an exclusive lock on the tables
    until commit: for bulk loads, such as the first import into an empty back-office.
    Elsewhere than on PostgreSQL a no-op.
    """
    if not uses_copy():
        yield
        return
    quote = connection.ops.quote_name
    tables = sorted(set(tables))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) "
            "ORDER BY 1, 2",
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(%s) AND NOT indisunique AND NOT indisprimary "
            "ORDER BY 1",
            [sorted(set(write_only))],
        )
        indexes = cursor.fetchall()
        # Rows written earlier in the transaction have checks pending, which would forbid
        # the ALTER: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _ in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        # Nobody else writes these tables until the commit, so nobody else takes numbers
        # from their sequences: primary keys can be reserved as whole ranges.
        cursor.execute(f"LOCK TABLE {', '.join(map(quote, tables))} IN SHARE ROW EXCLUSIVE MODE")
    _local.locked_tables = frozenset(tables)
    try:
        yield
    finally:
        _local.locked_tables = frozenset()
    with connection.cursor() as cursor:
        # Memory for sorting an index in one go (the default 64 MB spills to disk).
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django declares foreign keys


def next_ids(model: type[models.Model], count: int) -> list[int]:
    """Reserve `count` primary keys from the table's sequence (through the background
    writer's pool while one runs: see `_BackgroundWriter.ids`)."""
    if (writer := _writer()) is not None:
        return writer.ids(model, count)
    with connection.cursor() as cursor:
        return _reserve_ids(cursor, model, count)


def _reserve_ids(cursor: Any, model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    if table in getattr(_local, "locked_tables", ()):
        # One statement for the whole range: safe only while no other session can insert
        # (bulk_load's lock), as another nextval could fall between the two calls.
        cursor.execute(
            "SELECT setval(seq, nextval(seq) + %s - 1) "
            "FROM pg_get_serial_sequence(%s, %s) AS seq",
            [count, table, model._meta.pk.column],
        )
        (last,) = cursor.fetchone()
        return list(range(last - count + 1, last + 1))
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [table, model._meta.pk.column, count],
    )
    return [pk for (pk,) in cursor.fetchall()]


def _copy_statement(table: str, columns: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    return f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"


def _copy(table: str, columns: Sequence[str], fill: Callable[[Any], None]) -> None:
    """Queue one COPY … FROM STDIN into `table`; `fill` feeds it its rows."""
    statement = _copy_statement(table, columns)

    def write(cursor) -> None:
        with cursor.copy(statement) as copy:
            fill(copy)

    _write(write)


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Stream rows into a PostgreSQL table with COPY … FROM STDIN."""
    rows = list(rows)  # the write may run later, in the background writer

    def fill(copy) -> None:
        for row in rows:
            copy.write_row(row)

    _copy(table, columns, fill)


# COPY's text format: a backslash, tab, newline or carriage return inside a value is escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escape(value: str) -> str:
    """Return a text value as it stands in a line of COPY's text format."""
    return value.translate(_COPY_ESCAPES)


def copy_lines(table: str, columns: Sequence[str], lines: str) -> None:
    """COPY rows already formatted as COPY text lines: for rows of a few known types, a
    third of the time of `copy_rows`, which looks up a converter for every value."""
    _copy(table, columns, lambda copy: copy.write(lines))


def create(model: type[models.Model], objects: list[models.Model], history: History) -> None:
    """Insert new objects (setting their pks) and one '+' history row for each."""
    if not objects:
        return
    if not uses_copy():
        bulk_create_with_history(
            objects, model, batch_size=WRITE_BATCH_SIZE, default_user=history.user,
            default_change_reason=history.reason, default_date=history.date,
        )
        return
    pks = next_ids(model, len(objects))
    pk_name = model._meta.pk.attname
    for obj, pk in zip(objects, pks, strict=True):
        obj.__dict__[pk_name] = pk
        obj._state.adding = False
    plain, other = _columns(model)
    # From each instance's own values: the fields' descriptors cost a call per value.
    read_plain = itemgetter(*(field.attname for field in plain))
    copy_rows(model._meta.db_table, [field.column for field in (*plain, *other)],
              ((*read_plain(obj.__dict__), *(_value(field, obj) for field in other))
               for obj in objects))
    _history_of(model, pks, history, "+")


def _history_of(model: type[models.Model], pks: list[int], history: History,
                kind: str) -> None:
    history_model = model.history.model
    columns = [field.column for field in history_model._meta.concrete_fields
               if field.attname not in _HISTORY_OWN]
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    statement = (
        f"INSERT INTO {quote(history_model._meta.db_table)} ({names}, history_date, "
        "history_change_reason, history_type, history_user_id) "
        f"SELECT {names}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(model._meta.pk.column)} = ANY(%s)"
    )
    params = [history.date, history.reason, kind, history.user.pk if history.user else None,
              pks]
    _write(lambda cursor: cursor.execute(statement, params))


# --- writing in the background ---------------------------------------------------------

Write = Callable[[Any], Any]  # a write, given a psycopg cursor of the import's connection


class _BackgroundWriter:
    """Runs the importer's bulk writes on the importer's connection, in a second thread.

    While PostgreSQL takes one batch (COPY, indexes, history), the loader plans the next
    one in Python: psycopg lets go of the GIL while it waits for the server. Writes run
    in the order they were queued, on the same connection, so in the same transaction.
    Every other query of the importer's thread first waits until the queue is empty (an
    execute wrapper), so nothing reads or changes rows that are still on their way.
    """

    def __init__(self, raw_connection: Any) -> None:
        self._connection = raw_connection
        self._queue: queue.Queue[Write | None] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._ids: dict[type[models.Model], list[int]] = {}  # reserved, not yet taken
        self._taken: dict[type[models.Model], int] = {}
        self._thread = threading.Thread(target=self._work, name="bulk-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                if self._error is None:  # after a failure the transaction is lost anyway
                    with self._connection.cursor() as cursor:
                        job(cursor)
            except BaseException as error:  # handed to the importer's thread
                self._error = error
            finally:
                self._queue.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            with connection.wrap_database_errors:  # as Django's IntegrityError, …
                raise self._error

    def submit(self, job: Write) -> None:
        self._raise()
        self._queue.put(job)

    def drain(self) -> None:
        self._queue.join()
        self._raise()

    def ids(self, model: type[models.Model], count: int) -> list[int]:
        pool = self._ids.setdefault(model, [])
        if len(pool) < count:
            # Ahead by as many as were taken so far (at most ID_BLOCK): a small import
            # leaves no gap in the sequence, a large one rarely asks. Straight on the
            # connection: a sequence owes nothing to the queued writes, so this waits for
            # the statement running now, not for the whole queue.
            taken_so_far = self._taken.get(model, 0)
            ahead = min(ID_BLOCK, taken_so_far)
            with self._connection.cursor() as cursor:
                pool.extend(_reserve_ids(cursor, model, count - len(pool) + ahead))
        self._taken[model] = self._taken.get(model, 0) + count
        taken, self._ids[model] = pool[:count], pool[count:]
        return taken

    def stop(self) -> None:
        """Skip the writes still queued (the block ended early) and end the thread."""
        if self._error is None:
            self._error = RuntimeError("stopped")
        self._queue.put(None)
        self._thread.join()


_local = threading.local()  # the writer of this thread's import: two imports, two writers
ID_BLOCK = 20_000  # primary keys reserved ahead at most; those left at the end stay unused


def _writer() -> _BackgroundWriter | None:
    return getattr(_local, "writer", None)


def _write(job: Write) -> None:
    if (writer := _writer()) is not None:
        writer.submit(job)
    else:
        with connection.cursor() as cursor:
            job(cursor.cursor)


@contextmanager
def background_writes() -> Iterator[None]:
    """Run COPY and history writes in a background writer for the block (PostgreSQL).

    Leaves the block only when every queued write has run; a write that failed raises
    here or at the importer's next query, and the transaction rolls back as for any error.
    """
    if not uses_copy() or _writer() is not None:
        yield
        return
    connection.ensure_connection()
    writer = _BackgroundWriter(connection.connection)

    def after_queued_writes(execute, sql, params, many, context):
        writer.drain()
        return execute(sql, params, many, context)

    _local.writer = writer
    try:
        with connection.execute_wrapper(after_queued_writes):
            yield
            writer.drain()
    finally:
        _local.writer = None
        writer.stop()


def wait_for_writes() -> None:
    """Return when every queued background write has run; raise the error of one that failed."""
    if (writer := _writer()) is not None:
        writer.drain()
