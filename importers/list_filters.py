"""Admin list filters that do not read the table to learn their choices."""

from __future__ import annotations

from django.contrib import admin

from .legacy_schema import TABLES

# Cognito's export is one list of users, recorded as the table "users".
COGNITO_TABLES = ("users",)


def legacy_table_choices() -> list[tuple[str, str]]:
    """Return the (source:table, label) of every legacy table an import can record."""
    choices = [(f"{system}:{name}", f"{system}.{name}")
               for system, tables in TABLES.items() for name in sorted(tables)]
    choices += [(f"cognito:{name}", f"cognito.{name}") for name in COGNITO_TABLES]
    return choices


class LegacyTableFilter(admin.SimpleListFilter):
    """Filter legacy records by source and table, from the known tables.

    Django's filter for a plain column lists its values with a DISTINCT over the whole
    table: over a million legacy records, on every list page. The tables are known from
    the legacy schema, so the choices are too.
    """

    title = "legacy table"
    parameter_name = "legacy_table"

    def lookups(self, request, model_admin):
        return legacy_table_choices()

    def queryset(self, request, queryset):
        value = self.value()
        if not value or ":" not in value:
            return queryset
        source, table = value.split(":", 1)
        return queryset.filter(source=source, table=table)
