"""Pagination that never counts: COUNT(*) over a large permission-filtered table costs more
than the page itself."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from rbac.pagination import slice_ids_first


class LimitOffsetNoCountPagination(LimitOffsetPagination):
    """`?limit=&offset=`; fetches one row more than asked to know whether a next page exists."""

    max_limit = 200
    # Past every row there can be, and still a number the databases' LIMIT/OFFSET accept.
    max_offset = 2**62

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), self.max_offset)

    def paginate_queryset(self, queryset, request, view=None):
        return self.paginate_rows(
            lambda start, stop: slice_ids_first(queryset, start, stop), request
        )

    def paginate_rows(self, rows_between: Callable[[int, int], list], request) -> list:
        """Return the page asked for, from a function giving the rows between two positions."""
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = rows_between(self.offset, self.offset + self.limit + 1)
        self.has_next = len(rows) > self.limit
        return rows[: self.limit]

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_previous_link(self) -> str | None:
        if self.offset <= 0:
            return None
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        if self.offset - self.limit <= 0:
            return remove_query_param(url, self.offset_query_param)
        return replace_query_param(url, self.offset_query_param, self.offset - self.limit)

    def get_paginated_response(self, data) -> Response:
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }
