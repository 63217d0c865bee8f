"""`field__any_of=[…]`: membership in a list of values, as one array parameter on PostgreSQL.

A person's visible rows are filtered by a few hundred company and team ids. `IN (%s, %s,
…)` sends a parameter per id and makes a statement too long for psycopg's cache of parsed
statements, so both are redone on every request; `= ANY(%s)` is one parameter and the
same short statement whatever the number of ids, and PostgreSQL serves it with the same
index scans. Elsewhere it is a plain `IN`.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        prepare = self.lhs.output_field.get_prep_value
        return [prepare(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*params, *self.rhs]

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        # psycopg sends a list of small numbers as int2[] or int4[]: compared with a bigint
        # column, PostgreSQL can neither hash the list nor estimate it well, and tests each
        # row against every element (seconds for a few thousand ids). Typed as the column.
        db_type = self.lhs.output_field.db_type(connection)
        cast = f"::{db_type}[]" if db_type else ""
        return f"{lhs} = ANY(%s{cast})", [*params, list(self.rhs)]


def register() -> None:
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)  # foreign keys look up only their own lookups
