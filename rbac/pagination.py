"""Pages of permission-filtered lists that pick their ids before joining anything.

Filtered by a user's companies and teams, a list can match thousands of rows. Sorting
them with their companies and teams already joined makes the database join every match
before it sorts; sorting the bare ids, cutting the page, and only then loading those
rows with their joins keeps the work proportional to the page.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import F, OrderBy, QuerySet
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property


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
    def few_ids(self) -> list | None:
        """Return the ids of every row when there are at most `count_limit`, else None."""
        limit = self.count_limit
        if limit is None or not isinstance(self.object_list, QuerySet):
            return None
        ids = list(self.object_list.order_by().values_list("pk", flat=True)[: limit + 1])
        return ids if len(ids) <= limit else None

    @cached_property
    def count(self) -> int:
        if self.count_limit is None or not isinstance(self.object_list, QuerySet):
            return super().count
        ids = self.few_ids
        return len(ids) if ids is not None else CappedCount(self.count_limit + 1)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        if self.few_ids is not None:
            rows = sorted_without_index(rows.filter(pk__any_of=self.few_ids))
        return self._get_page(slice_ids_first(rows, bottom, top), number, self)


def sorted_without_index(queryset: QuerySet) -> QuerySet:
    """Return the queryset in the same order, by expressions that no index provides.

    `COALESCE(col, col)` sorts as the column does (NULLs and collation included), but
    PostgreSQL cannot read it from the column's index, so it sorts the few matching rows
    instead of walking the whole index in order. Columns of the model itself only (a
    related model's ordering is left as it is); PostgreSQL only.
    """
    if connections[queryset.db].vendor != "postgresql":
        return queryset
    query = queryset.query
    ordering = list(query.order_by or (query.default_ordering and query.get_meta().ordering)
                    or ())
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
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not field.concrete or (field.is_relation and name != field.attname):
        return None  # a foreign key by name sorts by the related model's ordering
    return field
