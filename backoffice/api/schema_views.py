"""The view serving the OpenAPI document (kept apart from schema.py, which the schema
generator itself imports through DEFAULT_SCHEMA_CLASS)."""

from __future__ import annotations

from drf_spectacular.renderers import OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """The OpenAPI document: YAML by default (tools), JSON for `?format=json`, for
    `Accept: application/json`, and for a browser (whose Accept names text/html), which
    shows JSON but offers YAML as a download."""

    def perform_content_negotiation(self, request, force=False):
        asked_format = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if not asked_format and "text/html" in request.META.get("HTTP_ACCEPT", ""):
            renderer = OpenApiJsonRenderer2()
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)
