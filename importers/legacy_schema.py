"""The legacy tables as data: Core (PostgreSQL), Portal (MySQL/MariaDB) and Cognito.

Column lists, order and SQL types are exactly those of the production dumps; the
generator builds its DDL from them and the sources read and canonicalise by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

System = Literal["core", "portal"]
SYSTEMS: tuple[System, ...] = ("core", "portal")


class ColumnType(StrEnum):
    """The canonical Python type a column's values are read as."""

    INT = "int"
    BIGINT = "bigint"
    STR = "str"
    BOOL = "bool"
    # Core `timestamptz`: read as an aware datetime in UTC.
    TIMESTAMP_AWARE = "timestamp-aware"
    # Portal `DATETIME`: naive Europe/Berlin wall-clock time, read as a naive datetime.
    TIMESTAMP_NAIVE_BERLIN = "timestamp-naive-Berlin"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    sql: str  # the column's definition in the dump, after its name

    @property
    def nullable(self) -> bool:
        definition = self.sql.upper()
        return "NOT NULL" not in definition and "PRIMARY KEY" not in definition

    @property
    def is_integer(self) -> bool:
        return self.type in (ColumnType.INT, ColumnType.BIGINT)


@dataclass(frozen=True)
class Table:
    system: System
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    # Lines of the CREATE TABLE after the columns (keys, composite primary keys).
    constraints: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def qualified_name(self) -> str:
        return f"core.{self.name}" if self.system == "core" else self.name

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.qualified_name} has no column {name!r}")


_I, _B, _S, _T = ColumnType.INT, ColumnType.BIGINT, ColumnType.STR, ColumnType.BOOL
_TZ, _DT = ColumnType.TIMESTAMP_AWARE, ColumnType.TIMESTAMP_NAIVE_BERLIN


def _core(name: str, columns: list[tuple[str, ColumnType, str]], **kwargs) -> Table:
    return Table("core", name, tuple(Column(*c) for c in columns), **kwargs)


def _portal(name: str, columns: list[tuple[str, ColumnType, str]], **kwargs) -> Table:
    return Table("portal", name, tuple(Column(*c) for c in columns), **kwargs)


CORE_TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        _core(
            "organizations",
            [
                ("id", _B, "bigint PRIMARY KEY"),
                ("name", _S, "text NOT NULL"),
                ("legal_name", _S, "text"),
                ("vat_number", _S, "text"),
                ("country", _S, "character(2)"),
                ("domain", _S, "text"),
                ("status", _S, "text NOT NULL DEFAULT 'active'"),
                ("created_at", _TZ, "timestamp with time zone NOT NULL"),
                ("updated_at", _TZ, "timestamp with time zone NOT NULL"),
                ("deleted_at", _TZ, "timestamp with time zone"),
            ],
            primary_key=("id",),
        ),
        _core(
            "departments",
            [
                ("id", _B, "bigint PRIMARY KEY"),
                ("organization_id", _B, "bigint NOT NULL REFERENCES core.organizations(id)"),
                ("parent_id", _B, "bigint REFERENCES core.departments(id)"),
                ("name", _S, "text NOT NULL"),
                ("created_at", _TZ, "timestamp with time zone NOT NULL"),
            ],
            primary_key=("id",),
        ),
        _core(
            "users",
            [
                ("id", _B, "bigint PRIMARY KEY"),
                ("email", _S, "text NOT NULL"),
                ("full_name", _S, "text"),
                ("password_hash", _S, "text"),
                ("organization_id", _B, "bigint NOT NULL REFERENCES core.organizations(id)"),
                ("department_id", _B, "bigint REFERENCES core.departments(id)"),
                ("is_active", _T, "boolean NOT NULL"),
                ("last_login_at", _TZ, "timestamp with time zone"),
                ("created_at", _TZ, "timestamp with time zone NOT NULL"),
                ("updated_at", _TZ, "timestamp with time zone NOT NULL"),
            ],
            primary_key=("id",),
        ),
        _core(
            "user_roles",
            [
                ("user_id", _B, "bigint NOT NULL REFERENCES core.users(id)"),
                ("role", _S, "text NOT NULL"),
                ("granted_at", _TZ, "timestamp with time zone NOT NULL"),
            ],
            primary_key=("user_id", "role"),
            constraints=("PRIMARY KEY (user_id, role)",),
        ),
        _core(
            "projects",
            [
                ("id", _B, "bigint PRIMARY KEY"),
                ("organization_id", _B, "bigint NOT NULL REFERENCES core.organizations(id)"),
                ("department_id", _B, "bigint REFERENCES core.departments(id)"),
                ("code", _S, "text NOT NULL"),
                ("name", _S, "text NOT NULL"),
                ("status", _S, "text NOT NULL"),
                ("budget_cents", _B, "bigint"),
                ("archived", _T, "boolean NOT NULL DEFAULT false"),
                ("created_at", _TZ, "timestamp with time zone NOT NULL"),
            ],
            primary_key=("id",),
        ),
        _core(
            "documents",
            [
                ("id", _B, "bigint PRIMARY KEY"),
                ("project_id", _B, "bigint NOT NULL REFERENCES core.projects(id)"),
                ("s3_key", _S, "text NOT NULL"),
                ("filename", _S, "text NOT NULL"),
                ("content_type", _S, "text"),
                ("size_bytes", _B, "bigint"),
                # No foreign key: some point to users that no longer exist.
                ("uploaded_by", _B, "bigint"),
                ("uploaded_at", _TZ, "timestamp with time zone NOT NULL"),
            ],
            primary_key=("id",),
        ),
        _core(
            "api_clients",
            [
                ("id", _B, "bigint PRIMARY KEY"),
                ("organization_id", _B, "bigint NOT NULL REFERENCES core.organizations(id)"),
                ("name", _S, "text NOT NULL"),
                ("client_id", _S, "text NOT NULL UNIQUE"),
                ("client_secret_hash", _S, "text NOT NULL"),
                ("scopes", _S, "text NOT NULL"),
                ("created_at", _TZ, "timestamp with time zone NOT NULL"),
                ("revoked_at", _TZ, "timestamp with time zone"),
            ],
            primary_key=("id",),
        ),
    )
}

PORTAL_TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        _portal(
            "company",
            [
                ("company_id", _I, "int(11) NOT NULL AUTO_INCREMENT"),
                ("company_name", _S, "varchar(255) NOT NULL"),
                ("vat", _S, "varchar(32) DEFAULT NULL"),
                ("website", _S, "varchar(255) DEFAULT NULL"),
                ("country", _S, "varchar(64) DEFAULT NULL"),
                ("is_deleted", _T, "tinyint(1) NOT NULL DEFAULT 0"),
                ("created", _DT, "datetime NOT NULL"),
                ("updated", _DT, "datetime NOT NULL"),
            ],
            primary_key=("company_id",),
            constraints=("PRIMARY KEY (`company_id`)",),
        ),
        _portal(
            "team",
            [
                ("team_id", _I, "int(11) NOT NULL AUTO_INCREMENT"),
                ("company_id", _I, "int(11) NOT NULL"),
                ("team_name", _S, "varchar(128) NOT NULL"),
                ("description", _S, "text"),
                ("created", _DT, "datetime NOT NULL"),
            ],
            primary_key=("team_id",),
            constraints=("PRIMARY KEY (`team_id`)", "KEY `company_id` (`company_id`)"),
        ),
        _portal(
            "member",
            [
                ("member_id", _I, "int(11) NOT NULL AUTO_INCREMENT"),
                ("cognito_sub", _S, "char(36) DEFAULT NULL"),
                ("email", _S, "varchar(255) NOT NULL"),
                ("first_name", _S, "varchar(128) DEFAULT NULL"),
                ("last_name", _S, "varchar(128) DEFAULT NULL"),
                ("phone", _S, "varchar(40) DEFAULT NULL"),
                ("company_id", _I, "int(11) NOT NULL"),
                ("status", _S, "enum('invited','active','disabled') NOT NULL DEFAULT 'invited'"),
                ("created", _DT, "datetime NOT NULL"),
                # May hold the zero date 0000-00-00 00:00:00, read as None.
                ("last_seen", _DT, "datetime DEFAULT NULL"),
            ],
            primary_key=("member_id",),
            constraints=("PRIMARY KEY (`member_id`)", "KEY `company_id` (`company_id`)"),
        ),
        _portal(
            "team_member",
            [
                ("team_id", _I, "int(11) NOT NULL"),
                ("member_id", _I, "int(11) NOT NULL"),
                ("team_role", _S, "enum('owner','admin','editor','viewer') NOT NULL"),
                ("added", _DT, "datetime NOT NULL"),
            ],
            primary_key=("team_id", "member_id"),
            constraints=("PRIMARY KEY (`team_id`,`member_id`)",),
        ),
        _portal(
            "permission_grant",
            [
                ("grant_id", _I, "int(11) NOT NULL AUTO_INCREMENT"),
                ("member_id", _I, "int(11) NOT NULL"),
                ("resource_type", _S, "enum('company','team','file') NOT NULL"),
                ("resource_id", _I, "int(11) NOT NULL"),
                (
                    "perms",
                    _I,
                    "int(10) unsigned NOT NULL COMMENT '1=read 2=write 4=delete 8=share'",
                ),
                ("created", _DT, "datetime NOT NULL"),
            ],
            primary_key=("grant_id",),
            constraints=("PRIMARY KEY (`grant_id`)",),
        ),
        _portal(
            "file",
            [
                ("file_id", _I, "int(11) NOT NULL AUTO_INCREMENT"),
                ("team_id", _I, "int(11) NOT NULL"),
                ("bucket", _S, "varchar(63) NOT NULL"),
                ("object_key", _S, "varchar(1024) NOT NULL"),
                ("original_name", _S, "varchar(255) NOT NULL"),
                ("mime", _S, "varchar(255) DEFAULT NULL"),
                ("bytes", _B, "bigint(20) DEFAULT NULL"),
                ("uploader_member_id", _I, "int(11) DEFAULT NULL"),
                ("uploaded", _DT, "datetime NOT NULL"),
            ],
            primary_key=("file_id",),
            constraints=("PRIMARY KEY (`file_id`)",),
        ),
        _portal(
            "api_key",
            [
                ("key_id", _I, "int(11) NOT NULL AUTO_INCREMENT"),
                ("company_id", _I, "int(11) NOT NULL"),
                ("label", _S, "varchar(128) NOT NULL"),
                ("key_prefix", _S, "char(8) NOT NULL"),
                ("key_sha256", _S, "char(64) NOT NULL"),
                ("created", _DT, "datetime NOT NULL"),
                ("expires", _DT, "datetime DEFAULT NULL"),
            ],
            primary_key=("key_id",),
            constraints=("PRIMARY KEY (`key_id`)",),
        ),
    )
}

TABLES: dict[System, dict[str, Table]] = {"core": CORE_TABLES, "portal": PORTAL_TABLES}

# Attributes of a user in `aws cognito-idp list-users` output ("Attributes": [{Name, Value}]).
COGNITO_ATTRIBUTES: tuple[str, ...] = (
    "sub",
    "email",
    "email_verified",
    "given_name",
    "family_name",
)
COGNITO_USER_STATUSES: tuple[str, ...] = (
    "CONFIRMED",
    "FORCE_CHANGE_PASSWORD",
    "RESET_REQUIRED",
    "UNCONFIRMED",
)
# The keys of a row yielded by `sources.read_cognito`, with their canonical types.
COGNITO_FIELDS: dict[str, str] = {
    "sub": "str",
    "email": "str",
    "email_verified": "bool",
    "given_name": "str",
    "family_name": "str",
    "enabled": "bool",
    "status": "str",
    "created": "timestamp-aware",
}


def create_table_sql(table: Table) -> str:
    """Return the CREATE TABLE statement of `table` exactly as the legacy dump writes it."""
    if table.system == "core":
        lines = [f"    {c.name} {c.sql}" for c in table.columns]
        lines += [f"    {constraint}" for constraint in table.constraints]
        return f"CREATE TABLE core.{table.name} (\n" + ",\n".join(lines) + "\n);"
    lines = [f"  `{c.name}` {c.sql}" for c in table.columns]
    lines += [f"  {constraint}" for constraint in table.constraints]
    return (
        f"CREATE TABLE `{table.name}` (\n"
        + ",\n".join(lines)
        + "\n) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4;"
    )
