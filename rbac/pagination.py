"""Pages of permission-filtered lists that pick their ids before joining anything.

Filtered by a user's companies and teams, a list can match thousands of rows. Sorting
them with their companies and teams already joined makes the database join every match
before it sorts; sorting the bare ids, cutting the page, and only then loading those
rows with their joins keeps the work proportional to the page.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
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
    """A count that stopped at its cap: one more than the cap, shown as "1,000+"."""

    def __str__(self) -> str:
        return f"{int(self) - 1:,}+"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec if spec.endswith("s") or not spec else "")


class IdsFirstPaginator(Paginator):
    """Django's paginator, loading each page through `slice_ids_first`, counting at most
    `count_limit` rows.

    Counting every match of a search in a million rows costs more than the page itself;
    past the cap the count is `CappedCount(count_limit + 1)`, which reads "1,000+", and
    the pages up to it are offered. `count_limit = None` counts everything.
    """

    count_limit: int | None = 1_000

    @cached_property
    def count(self) -> int:
        limit = self.count_limit
        if limit is None or not isinstance(self.object_list, QuerySet):
            return super().count
        counted = self.object_list.order_by()[: limit + 1].count()
        return CappedCount(counted) if counted > limit else counted

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(slice_ids_first(self.object_list, bottom, top), number, self)
