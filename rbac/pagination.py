"""Pages of permission-filtered lists that pick their ids before joining anything.

Filtered by a user's companies and teams, a list can match thousands of rows. Sorting
them with their companies and teams already joined makes the database join every match
before it sorts; sorting the bare ids, cutting the page, and only then loading those
rows with their joins keeps the work proportional to the page.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import F, OrderBy, QuerySet
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property

# Python orders these as the database does; text follows the database's collation instead.
SORTED_ALIKE = (
    models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField,
    models.DateTimeField, models.DateField, models.DecimalField, models.ForeignKey,
)


# Keys cheap to read and sort here by the thousand; dates are too costly to parse.
SORTED_HERE = (
    models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField,
    models.ForeignKey,
)


def slice_ids_first(queryset: QuerySet, start: int, stop: int) -> list:
    """Return `list(queryset[start:stop])`, choosing the page's ids in a query of their own."""
    if not isinstance(queryset, QuerySet):
        return list(queryset[start:stop])  # any other sliceable sequence
    fields = queryset._fields
    if fields and "id" not in fields and "pk" not in fields:
        return list(queryset[start:stop])  # a values() list without its key: nothing to join by
    ids = list(queryset.values_list("pk", flat=True)[start:stop])
    return rows_in_order(queryset, ids)


def rows_in_order(queryset: QuerySet, ids: list) -> list:
    """Return the rows of a queryset (objects or values() dicts) with these ids, in their order."""
    if not ids:
        return []
    fields = queryset._fields
    rows = queryset.order_by().filter(pk__any_of=ids)
    if fields:
        key = "pk" if "pk" in fields else "id"
        by_id = {row[key]: row for row in rows}
    else:
        by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


class CappedCount(int):
    """A count that stopped at its cap: one more than the cap, shown as "10,000+"."""

    def __str__(self) -> str:
        return f"{int(self) - 1:,}+"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec if spec.endswith("s") or not spec else "")


class IdsFirstPaginator(Paginator):
    """Django's paginator for lists of up to millions of rows: it reads the matching ids
    once, up to `count_limit` of them, and loads each page through `slice_ids_first`.

    - The count is the number of ids read: one query, not a COUNT over every match and
      then another for the page. Past the cap the count is `CappedCount(count_limit + 1)`,
      which reads "10,000+", and the pages up to it are offered.
    - Below the cap (a search, a filter: few matches) the page is chosen among those ids,
      sorted without the indexes of the sort columns (`sorted_without_index`): walking an
      index in order and testing every row against the search is what PostgreSQL would
      otherwise choose for `ORDER BY … LIMIT 50`, and it reads most of the table when the
      matches are few.

    `count_limit = None` counts everything, as Django does.
    """

    count_limit: int | None = 10_000

    @cached_property
    def _few(self) -> tuple[list, bool] | None:
        """Return (the ids of every row, whether they are in the list's order) when there are
        at most `count_limit` rows, else None.

        When every sort key is a number or a key, the ids are read with their sort keys
        and sorted here, so no page needs the database to sort again.
        """
        limit = self.count_limit
        rows = self.object_list
        if limit is None or not isinstance(rows, QuerySet):
            return None
        ordering = _ordering(rows)
        fields = [_own_column(rows.model, item) for item in ordering]
        in_order = bool(ordering) and all(isinstance(f, SORTED_HERE) for f in fields)
        if not in_order:
            ids = list(rows.order_by().values_list("pk", flat=True)[: limit + 1])
            return (ids, False) if len(ids) <= limit else None
        names = [item.lstrip("-") for item in ordering]
        keyed = list(rows.order_by().values_list("pk", *names)[: limit + 1])
        if len(keyed) > limit:
            return None
        # NULLs sort as the largest value on PostgreSQL, as the smallest on SQLite and MySQL.
        nulls_large = connections[rows.db].vendor in {"postgresql", "oracle"}
        for position in reversed(range(len(names))):  # stable sorts, last key first
            keyed.sort(key=lambda row, i=position + 1: ((row[i] is None) == nulls_large, row[i]),
                       reverse=ordering[position].startswith("-"))
        return [row[0] for row in keyed], True

    @property
    def few_ids(self) -> list | None:
        return self._few[0] if self._few is not None else None

    @cached_property
    def count(self) -> int:
        if self.count_limit is None or not isinstance(self.object_list, QuerySet):
            return super().count
        ids = self.few_ids
        return len(ids) if ids is not None else CappedCount(self.count_limit + 1)

    def bounds(self, number) -> tuple[int, int, int]:
        """Return the valid page number and the slice [bottom, top) of its rows."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return number, bottom, top

    def page(self, number):
        number, bottom, top = self.bounds(number)
        rows = self.object_list
        if self._few is not None:
            ids, in_order = self._few
            if in_order:
                return self._get_page(rows_in_order(rows, ids[bottom:top]), number, self)
            rows = sorted_without_index(rows.filter(pk__any_of=ids))
        return self._get_page(slice_ids_first(rows, bottom, top), number, self)


def _ordering(queryset: QuerySet) -> list:
    query = queryset.query
    return list(query.order_by or (query.default_ordering and query.get_meta().ordering) or ())


def sorted_without_index(queryset: QuerySet) -> QuerySet:
    """Return the queryset in the same order, by expressions that no index provides.

    `COALESCE(col, col)` sorts as the column does (NULLs and collation included), but
    PostgreSQL cannot read it from the column's index, so it sorts the few matching rows
    instead of walking the whole index in order. Columns of the model itself only (a
    related model's ordering is left as it is); PostgreSQL only.
    """
    if connections[queryset.db].vendor != "postgresql":
        return queryset
    ordering = _ordering(queryset)
    rewritten = []
    for item in ordering:
        field = _own_column(queryset.model, item)
        if field is None:
            rewritten.append(item)
        else:
            name = item.lstrip("-")
            output = field.target_field if field.is_relation else field
            rewritten.append(OrderBy(Coalesce(F(name), F(name), output_field=output),
                                     descending=item.startswith("-")))
    return queryset.order_by(*rewritten)


def _own_column(model, item):
    """Return the field behind an ordering like "-email" or "company_id", if a column of
    the model's own table; None for anything else (related orderings, expressions, "?")."""
    if not isinstance(item, str):
        return None
    name = item.lstrip("-")
    if name == "pk":
        return model._meta.pk
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not field.concrete or (field.is_relation and name != field.attname):
        return None  # a foreign key by name sorts by the related model's ordering
    return field


class IdsFirstQuerySetPaginator(IdsFirstPaginator):
    """The same, with each page a queryset of the page's ids: a changelist whose rows are
    edited in place (list_editable) builds its formset from a queryset, not a list."""

    def page(self, number):
        number, bottom, top = self.bounds(number)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(self.object_list.filter(pk__any_of=ids), number, self)
