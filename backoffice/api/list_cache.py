"""Kept list pages: a page is kept under everything its bytes depend on, so a kept page is
exactly the page the request would build.

A list page depends on
- who asks: a person and their access version (rbac.access_versions: the database moves it
  with every change to what they may see), or an API key with its company and scopes;
- the rows of the tables it reads: their ListVersion, moved by the triggers below in the
  transaction of every write, bulk paths, raw SQL and the importer included;
- the URL: filters, ordering, page, and the host its next/previous links name.

The versions are read before the page is built. A page built while a write commits may
already show the write; it is kept under the versions from before, which no request asks
for once the write is visible. Pages expire after API_LIST_CACHE_SECONDS regardless.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import caches
from django.db import connection, migrations, models
from django.http import HttpResponse

from rbac.access import access_version
from rbac.access_versions import statements_operation
from rbac.principals import APIKeyPrincipal

from .models import ListVersion

VERSION_TABLE = ListVersion._meta.db_table
# One connection always counts in the same shard, so a transaction never waits for itself;
# two transactions writing one table wait for each other only when they share a shard.
SHARDS = 16

# --- triggers -----------------------------------------------------------------------------

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION api_list_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {VERSION_TABLE} (table_name, shard, version)
    VALUES (TG_TABLE_NAME, pg_backend_pid() % {SHARDS}, 1)
    ON CONFLICT (table_name, shard) DO UPDATE SET version = {VERSION_TABLE}.version + 1;
    RETURN NULL;
END $$;
"""
SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")


def trigger_statements(vendor: str, table: str) -> list[str]:
    """Return the statements that make every write to `table` move its list version."""
    if vendor == "postgresql":
        # One bump per statement, however many rows it wrote (COPY included).
        return [
            f"CREATE TRIGGER {table}_list_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION api_list_changed();"
        ]
    if vendor == "sqlite":  # row triggers only; SQLite has one writer at a time anyway
        return [
            f"CREATE TRIGGER {table}_list_{event.lower()} AFTER {event} ON {table} BEGIN "
            f"INSERT INTO {VERSION_TABLE} (table_name, shard, version) VALUES ('{table}', 0, 1) "
            f"ON CONFLICT (table_name, shard) DO UPDATE SET version = version + 1; END;"
            for event in SQLITE_EVENTS
        ]
    raise NotImplementedError(f"No list-version triggers for {vendor}.")


def drop_statements(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_list_changed ON {table};"]
    return [f"DROP TRIGGER IF EXISTS {table}_list_{event.lower()};" for event in SQLITE_EVENTS]


def install_operation(tables: tuple[str, ...]) -> migrations.RunPython:
    """Return a migration operation creating (and, reversed, dropping) the triggers."""

    def create(vendor: str) -> list[str]:
        found = [PG_FUNCTION] if vendor == "postgresql" else []
        for table in tables:
            found += trigger_statements(vendor, table)
        return found

    def drop(vendor: str) -> list[str]:
        return [statement for table in tables for statement in drop_statements(vendor, table)]

    return statements_operation(create, drop)


# --- pages --------------------------------------------------------------------------------


def tables_read(model: type[models.Model], paths: list[str]) -> tuple[str, ...]:
    """Return the tables a `.values(*paths)` page of `model` reads: its own and the related."""
    tables = {model._meta.db_table}
    for path in paths:
        current = model
        for name in path.split("__")[:-1]:
            current = current._meta.get_field(name).related_model
            tables.add(current._meta.db_table)
    return tuple(sorted(tables))


def data_version(tables: tuple[str, ...]) -> int:
    """Return a number that grows with every committed write to any of these tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(version), 0) FROM {VERSION_TABLE} "
            f"WHERE table_name IN ({', '.join(['%s'] * len(tables))})",
            tables,
        )
        return cursor.fetchone()[0]


def _caller(user) -> str:
    if isinstance(user, APIKeyPrincipal):
        return f"key {user.api_key.pk} {user.company_id} {' '.join(sorted(user.scopes))}"
    return f"user {user.pk} {access_version(user)} {user.is_superuser} {user.is_active}"


def page_key(request, tables: tuple[str, ...]) -> str | None:
    """Return the key of the page this request asks for, or None when pages are not kept."""
    if not settings.API_LIST_CACHE_SECONDS or not request.user.is_authenticated:
        return None
    parts = (
        _caller(request.user), str(data_version(tables)), request.accepted_media_type,
        request.build_absolute_uri(),
    )
    return "api-list:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def kept_page(key: str) -> HttpResponse | None:
    kept = caches["pages"].get(key)
    if kept is None:
        return None
    content, content_type = kept
    return HttpResponse(content, content_type=content_type)


def keep_page(key: str, response) -> None:
    """Keep the response's bytes once rendered, if it is a page (not an error)."""

    def store(rendered) -> None:
        if rendered.status_code == 200:
            kept = (rendered.content, rendered["Content-Type"])
            caches["pages"].set(key, kept, settings.API_LIST_CACHE_SECONDS)

    response.add_post_render_callback(store)
