"""Database triggers that count, per user, the changes to what the user may do.

A cached access profile is valid while its user's version has not moved. Signals would
miss the bulk paths (bulk_create, QuerySet.update, raw SQL, the importer), so the database
bumps the version itself, in the same transaction as the change, on every write to:

- a table of grants with a `user_id` (memberships, direct object permissions);
- teams, when one is created or its ancestry changes: the people with a role on any of
  its ancestors now cover a different subtree;
- a role's permissions or rank: everybody holding the role;
- a company's status: its members (rbac.access counts memberships of active companies only).

Migrations create the triggers through these functions, for PostgreSQL (statement
triggers over transition tables: one statement per bulk write) and SQLite (row triggers).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import migrations

VERSION_TABLE = "rbac_accessversion"

# --- PostgreSQL ---------------------------------------------------------------------------

_PG_BUMP = f"""
    INSERT INTO {VERSION_TABLE} (user_id, version)
    SELECT DISTINCT user_id, 1 FROM ({{users}}) AS changed WHERE user_id IS NOT NULL
    ON CONFLICT (user_id) DO UPDATE SET version = {VERSION_TABLE}.version + 1;
"""
_PG_HOLDERS_OF_TEAMS = """
    SELECT user_id FROM rbac_membership WHERE team_id IN (
        SELECT id FROM {rows}
        UNION ALL
        SELECT unnest(string_to_array(trim(both '/' from ancestry), '/'))::bigint FROM {rows}
    )
"""

# Teams whose ancestry an UPDATE changed, with their ancestry before and after.
_PG_MOVED_TEAMS = """(
        SELECT n.id, a.ancestry FROM new_rows n JOIN old_rows o ON o.id = n.id,
        LATERAL (VALUES (n.ancestry), (o.ancestry)) AS a (ancestry)
        WHERE o.ancestry IS DISTINCT FROM n.ancestry
    ) AS moved"""

PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION rbac_access_grants_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_PG_BUMP.format(users="SELECT user_id FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_PG_BUMP.format(users="SELECT user_id FROM old_rows")}
    ELSE
        {_PG_BUMP.format(users="SELECT user_id FROM new_rows UNION SELECT user_id FROM old_rows")}
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rbac_access_teams_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_PG_BUMP.format(users=_PG_HOLDERS_OF_TEAMS.format(rows="new_rows"))}
    ELSE
        {_PG_BUMP.format(users=_PG_HOLDERS_OF_TEAMS.format(rows=_PG_MOVED_TEAMS))}
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION rbac_access_roles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'rbac_role' THEN
        {_PG_BUMP.format(users='''
            SELECT m.user_id FROM rbac_membership m
            JOIN new_rows n ON n.id = m.role_id JOIN old_rows o ON o.id = n.id
            WHERE o.rank IS DISTINCT FROM n.rank''')}
    ELSIF TG_OP = 'INSERT' THEN
        {_PG_BUMP.format(users='''SELECT user_id FROM rbac_membership
                                   WHERE role_id IN (SELECT role_id FROM new_rows)''')}
    ELSE
        {_PG_BUMP.format(users='''SELECT user_id FROM rbac_membership
                                   WHERE role_id IN (SELECT role_id FROM old_rows)''')}
    END IF;
    RETURN NULL;
END $$;
"""

PG_DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS rbac_access_grants_changed() CASCADE;
DROP FUNCTION IF EXISTS rbac_access_teams_changed() CASCADE;
DROP FUNCTION IF EXISTS rbac_access_roles_changed() CASCADE;
"""

_PG_TRANSITIONS = {
    "INSERT": "NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _pg_triggers(table: str, function: str, events: tuple[str, ...]) -> str:
    return "\n".join(
        f"CREATE TRIGGER {table}_access_{event.lower()} AFTER {event} ON {table} "
        f"REFERENCING {_PG_TRANSITIONS[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
        for event in events
    )


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_bump(users: str) -> str:
    # "WHERE true": SQLite cannot otherwise tell the upsert's ON from a join's.
    return (
        f"INSERT INTO {VERSION_TABLE} (user_id, version) "
        f"SELECT DISTINCT user_id, 1 FROM ({users}) WHERE user_id IS NOT NULL "
        f"ON CONFLICT (user_id) DO UPDATE SET version = version + 1;"
    )


def _sqlite_holders_of_team(row: str) -> str:
    return (
        f"SELECT user_id FROM rbac_membership WHERE team_id = {row}.id "
        f"OR instr({row}.ancestry, '/' || team_id || '/') > 0"
    )


def _sqlite_trigger(table: str, event: str, body: str, when: str = "") -> str:
    when = f" WHEN {when}" if when else ""
    return (
        f"CREATE TRIGGER {table}_access_{event.lower()} AFTER {event} ON {table}{when} "
        f"BEGIN {body} END;"
    )


# --- per table ----------------------------------------------------------------------------


def grant_table_triggers(vendor: str, table: str) -> list[str]:
    """Return the statements that make writes to a table of grants bump their users."""
    if vendor == "postgresql":
        return [_pg_triggers(table, "rbac_access_grants_changed", ("INSERT", "UPDATE", "DELETE"))]
    if vendor == "sqlite":
        return [
            _sqlite_trigger(table, "INSERT", _sqlite_bump("SELECT NEW.user_id AS user_id")),
            _sqlite_trigger(table, "DELETE", _sqlite_bump("SELECT OLD.user_id AS user_id")),
            _sqlite_trigger(table, "UPDATE", _sqlite_bump(
                "SELECT NEW.user_id AS user_id UNION SELECT OLD.user_id"
            )),
        ]
    raise NotImplementedError(f"No access-version triggers for {vendor}.")


def drop_triggers(vendor: str, table: str, events=("INSERT", "UPDATE", "DELETE")) -> list[str]:
    on = f" ON {table}" if vendor == "postgresql" else ""
    return [f"DROP TRIGGER IF EXISTS {table}_access_{event.lower()}{on};" for event in events]


def team_triggers(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [_pg_triggers("rbac_team", "rbac_access_teams_changed", ("INSERT", "UPDATE"))]
    return [
        _sqlite_trigger("rbac_team", "INSERT", _sqlite_bump(_sqlite_holders_of_team("NEW"))),
        _sqlite_trigger(
            "rbac_team", "UPDATE",
            _sqlite_bump(
                f"{_sqlite_holders_of_team('NEW')} UNION {_sqlite_holders_of_team('OLD')}"
            ),
            when="OLD.ancestry IS NOT NEW.ancestry",
        ),
    ]


def role_triggers(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            _pg_triggers("rbac_role_permissions", "rbac_access_roles_changed",
                         ("INSERT", "DELETE")),
            _pg_triggers("rbac_role", "rbac_access_roles_changed", ("UPDATE",)),
        ]
    holders = "SELECT user_id FROM rbac_membership WHERE role_id = {}"
    return [
        _sqlite_trigger("rbac_role_permissions", "INSERT",
                        _sqlite_bump(holders.format("NEW.role_id"))),
        _sqlite_trigger("rbac_role_permissions", "DELETE",
                        _sqlite_bump(holders.format("OLD.role_id"))),
        _sqlite_trigger("rbac_role", "UPDATE", _sqlite_bump(holders.format("NEW.id")),
                        when="OLD.rank IS NOT NEW.rank"),
    ]


PG_COMPANY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION rbac_access_companies_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_PG_BUMP.format(users='''
        SELECT m.user_id FROM rbac_membership m
        JOIN new_rows n ON n.id = m.company_id JOIN old_rows o ON o.id = n.id
        WHERE o.status IS DISTINCT FROM n.status''')}
    RETURN NULL;
END $$;
"""


def company_triggers(vendor: str) -> list[str]:
    """Return the statements that make a company's status change bump its members."""
    if vendor == "postgresql":
        return [PG_COMPANY_FUNCTION,
                _pg_triggers("rbac_company", "rbac_access_companies_changed", ("UPDATE",))]
    # IF NOT EXISTS: around_sqlite_membership_rebuild may have created it already.
    return [
        _sqlite_trigger(
            "rbac_company", "UPDATE",
            _sqlite_bump("SELECT user_id FROM rbac_membership WHERE company_id = NEW.id"),
            when="OLD.status IS NOT NEW.status",
        ).replace("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1)
    ]


def drop_company_triggers(vendor: str) -> list[str]:
    found = drop_triggers(vendor, "rbac_company", ("UPDATE",))
    if vendor == "postgresql":
        found.append("DROP FUNCTION IF EXISTS rbac_access_companies_changed() CASCADE;")
    return found


# --- bulk loads ---------------------------------------------------------------------------


@contextmanager
def holders_bumped_once(connection, tables: Sequence[str]) -> Iterator[None]:
    """Insert into tables of grants with their insert triggers off, then bump, in one
    statement at the end, the version of every user holding a row in any of them.

    For a bulk load: the statement triggers upsert one version per user and batch, about
    290,000 upserts for a first import, where one upsert per holder at the end does. It
    bumps holders whose rows were there before as well, which only drops a kept profile.
    Inside the caller's transaction, and only there: disabling a trigger locks other
    writers of the table out until the commit, so none of their rows goes unbumped, and an
    error rolls the change back. Elsewhere than on PostgreSQL the triggers just run.
    """
    if connection.vendor != "postgresql" or not tables:
        yield
        return

    def switch(cursor, state: str) -> None:
        # Rows written earlier in the transaction have foreign-key checks pending, which
        # would forbid the ALTER: run them now (Django declares its keys deferred).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} {state} TRIGGER {table}_access_insert")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    with connection.cursor() as cursor:
        switch(cursor, "DISABLE")
    yield
    holders = " UNION ".join(f"SELECT user_id FROM {table}" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(_PG_BUMP.format(users=holders))
        switch(cursor, "ENABLE")


# --- migrations ---------------------------------------------------------------------------


def statements_operation(create, drop) -> migrations.RunPython:
    """Return a migration operation running `create(vendor)`'s statements forwards and
    `drop(vendor)`'s backwards, for the vendor of the database being migrated."""

    def running(statements_of):
        def run(apps, schema_editor) -> None:
            for statement in statements_of(schema_editor.connection.vendor):
                schema_editor.execute(statement, params=None)

        return run

    return migrations.RunPython(running(create), running(drop))


def _creates(vendor: str, grant_tables: tuple[str, ...], functions: bool,
             teams_and_roles: bool) -> list[str]:
    found = [PG_FUNCTIONS] if functions and vendor == "postgresql" else []
    for table in grant_tables:
        found += grant_table_triggers(vendor, table)
    if teams_and_roles:
        found += team_triggers(vendor) + role_triggers(vendor)
        if vendor == "sqlite":  # on PostgreSQL, migration 0006 installs it with its function
            found += company_triggers(vendor)
    return found


def _drops(vendor: str, grant_tables: tuple[str, ...], functions: bool,
           teams_and_roles: bool) -> list[str]:
    found = []
    for table in grant_tables:
        found += drop_triggers(vendor, table)
    if teams_and_roles:
        found += drop_triggers(vendor, "rbac_team", ("INSERT", "UPDATE"))
        found += drop_triggers(vendor, "rbac_role_permissions", ("INSERT", "DELETE"))
        found += drop_triggers(vendor, "rbac_role", ("UPDATE",))
        if vendor == "sqlite":
            found += drop_company_triggers(vendor)
    if functions and vendor == "postgresql":
        found.append(PG_DROP_FUNCTIONS)
    return found


def install_operation(*, grant_tables: tuple[str, ...] = (), functions: bool = False,
                      teams_and_roles: bool = False) -> migrations.RunPython:
    """Return a migration operation creating (and, reversed, dropping) these triggers."""
    return statements_operation(
        lambda vendor: _creates(vendor, grant_tables, functions, teams_and_roles),
        lambda vendor: _drops(vendor, grant_tables, functions, teams_and_roles),
    )


def around_sqlite_membership_rebuild(*operations) -> list:
    """Wrap operations that make SQLite rebuild rbac_membership (create a copy, drop the
    table, rename the copy): the drop takes the table's own triggers with it, and the
    triggers of teams, roles and companies, which name the table, make the rename fail. So drop them
    all first and create them again after. Nothing to do on PostgreSQL."""
    triggers = (("rbac_membership",), False, True)  # grant tables, functions, teams and roles

    def create(vendor: str) -> list[str]:
        return _creates(vendor, *triggers) if vendor == "sqlite" else []

    def drop(vendor: str) -> list[str]:
        return _drops(vendor, *triggers) if vendor == "sqlite" else []

    return [statements_operation(drop, create), *operations, statements_operation(create, drop)]
