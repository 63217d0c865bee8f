"""What every legacy endpoint shares: authentication, error bodies, deprecation headers,
usage counting. The endpoints themselves (core.py, portal.py) only translate."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from email.utils import format_datetime

from django.conf import settings
from django.http import Http404
from rest_framework import exceptions
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.views import APIView

from backoffice.api import list_cache
from backoffice.api.authentication import APIKeyAuthentication, BearerTokenAuthentication
from backoffice.api.exceptions import api_exception_handler
from backoffice.api.views import HistorySafeMixin

from . import ids
from .schema import LegacySchema
from .usage import caller_of, usage_count

PROVENANCE_TABLE = "importers_legacyrecord"
CORE_ERROR_CODES = {
    400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "invalid_request", 415: "invalid_request",
    429: "too_many_requests",
}

COGNITO_RETIRED = (
    "Portal's Cognito sign-in has been retired, so Cognito ID tokens are no longer accepted. "
    "Get a token with POST /api/v1/auth/token (grant_type=password, username = your e-mail, "
    "password) and send it as 'Authorization: Bearer <token>'; your Portal password works "
    "there, or set a new one at /accounts/password_reset/. Integrations: keep sending "
    "X-Api-Key."
)


def _message(data) -> str:
    """Return one sentence from the API's error body {"error": {code, message, details}}."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "The request failed."
    details = error.get("details")
    if error.get("code") == "invalid" and isinstance(details, dict):
        parts = []
        for field, messages in details.items():
            messages = messages if isinstance(messages, list) else [messages]
            text = " ".join(str(m) for m in messages)
            parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        if parts:
            return " ".join(parts)
    return str(error.get("message") or "The request failed.")


def core_exception_handler(exc, context):
    """Core's errors: {"error": "<code>", "message": "<text>"}."""
    response = api_exception_handler(exc, context)
    if response is not None:
        code = CORE_ERROR_CODES.get(response.status_code, "invalid_request")
        response.data = {"error": code, "message": _message(response.data)}
    return response


def portal_exception_handler(exc, context):
    """Portal's errors: {"message": "<text>"}, the status alone tells the kind."""
    response = api_exception_handler(exc, context)
    if response is not None:
        response.data = {"message": _message(response.data)}
    return response


class CognitoTokenRetired(BearerTokenAuthentication):
    """Recognise a Cognito ID token (a JWT, three dot-separated parts) and refuse it clearly.

    Tokens of ours start with "at_" and have no dots; anything else is left to the others.
    """

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credential = header.strip().partition(" ")
        credential = credential.strip()
        looks_like_jwt = credential.startswith("eyJ") and credential.count(".") == 2
        if scheme.lower() == "bearer" and looks_like_jwt:
            raise exceptions.AuthenticationFailed(COGNITO_RETIRED)
        return None


def sunset_headers(successor: str) -> dict[str, str]:
    """Deprecation (RFC 9745: "@" and a Unix time), Sunset (RFC 8594) and Link headers."""
    return _sunset_headers(successor, settings.LEGACY_API_DEPRECATED_ON,
                           settings.LEGACY_API_SUNSET_ON, settings.LEGACY_API_DOCS_URL)


@functools.lru_cache(maxsize=128)
def _sunset_headers(successor: str, deprecated_on, sunset_on, docs: str) -> dict[str, str]:
    deprecated = datetime.combine(deprecated_on, datetime.min.time(), UTC)
    sunset = datetime.combine(sunset_on, datetime.min.time(), UTC)
    return {
        "Deprecation": f"@{int(deprecated.timestamp())}",
        "Sunset": format_datetime(sunset, usegmt=True),
        "Link": (
            f'<{docs}>; rel="deprecation"; type="text/html", '
            f'<{successor}>; rel="successor-version"'
        ),
    }


def route_of(request) -> str:
    """Return the endpoint as "METHOD /path/{param}" from the URL pattern that matched."""
    match = getattr(request, "resolver_match", None)
    route = match.route if match is not None else request.path
    for converter in ("int:", "str:", "path:"):
        route = route.replace(f"<{converter}", "<")
    route = route.replace("<", "{").replace(">", "}")
    return f"{request.method} /{route.lstrip('/')}"


class LegacyView(HistorySafeMixin, APIView):
    """One legacy endpoint: legacy errors, deprecation headers, counted calls."""

    api = "core"
    successor = "/api/v1/"  # the new endpoint, for the Link header
    schema = LegacySchema()

    def get_exception_handler(self):
        return core_exception_handler if self.api == "core" else portal_exception_handler

    def get_authenticators(self):
        if self.api == "core":
            return [BearerTokenAuthentication()]
        return [CognitoTokenRetired(), BearerTokenAuthentication(), APIKeyAuthentication()]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in sunset_headers(self.successor).items():
            response[name] = value
        if response.status_code != 401:  # a failed credential is nobody's call
            usage_count(caller=caller_of(request), endpoint=route_of(request._request))
        return response

    # --- helpers shared by the endpoints ---

    def kept_list(self, request, tables: tuple[str, ...], build):
        """Serve a list page kept by /api/v1's page cache (backoffice.api.list_cache), or
        build it with `build()` and keep it: the same key (caller, versions of the tables
        read, URL), so a page is exactly what the request would build. Legacy ids come from
        provenance, whose writes move its version too (this app's migration)."""
        tables = tuple(sorted({*tables, PROVENANCE_TABLE}))
        key = list_cache.page_key(request, tables)
        if key is not None and (kept := list_cache.kept_page(key)) is not None:
            return kept
        response = build()
        if key is not None:
            list_cache.keep_page(key, response)
        return response

    def resolve(self, kind: str, legacy_id, queryset):
        """Return the object a legacy id names among those the caller may see, else 404."""
        pk = ids.object_pk(kind, legacy_id)
        obj = queryset.filter(pk=pk).first() if pk is not None else None
        if obj is None:
            raise NotFound(f"No such {kind}.")
        return obj

    def resolve_in_body(self, kind: str, value, queryset, field: str):
        """Like resolve, for an id in a request body: an unknown id is a 400."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError({field: f"Give a {kind} id."})
        try:
            return self.resolve(kind, value, queryset)
        except (NotFound, Http404):
            raise ValidationError({field: f"No such {kind}."}) from None
