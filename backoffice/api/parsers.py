"""Request body parsers with limits: a body too large or too deep is a 400, never a 500."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any body the API accepts (a grant, a document's metadata), far below the
# interpreter's recursion limit that json and the serializers would otherwise hit.
DEFAULT_JSON_MAX_DEPTH = 32


def json_depth_exceeds(data: object, limit: int) -> bool:
    """Tell whether parsed JSON nests lists and objects deeper than `limit`."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies over DATA_UPLOAD_MAX_MEMORY_SIZE or API_JSON_MAX_DEPTH.

    DRF reads a JSON body straight from the request stream, so Django's own
    DATA_UPLOAD_MAX_MEMORY_SIZE (which guards `request.body` and form fields) never
    applies to it; and Python's json raises RecursionError, not ValueError, on deep
    nesting, which DRF does not turn into a 400.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise ParseError(f"The JSON body is larger than {limit} bytes.")
        max_depth = getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_JSON_MAX_DEPTH)
        too_deep = ParseError(f"The JSON body nests deeper than {max_depth} levels.")
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth_exceeds(data, max_depth):
            raise too_deep
        return data
