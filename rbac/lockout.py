"""How django-axes counts failed log-ins here: who tried, from where, and what they are told."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

API_PATH_PREFIX = "/api/"


def attempted_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """Return the attempted e-mail or client id, compared as log-in compares it.

    Without this, "Anna@x" and "anna@x " would each get their own failure count.
    """
    username = None
    if credentials:
        username = credentials.get("username")
    if username is None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        username = data.get("username") if hasattr(data, "get") else None
    return username.strip().lower() if isinstance(username, str) else username


def client_ip(request: HttpRequest) -> str | None:
    """Return the client's address, trusting X-Forwarded-For only as far as our own proxies.

    With AXES_TRUSTED_PROXY_COUNT = n, the n-th address from the right is the one our
    outermost proxy saw; anything left of it was written by the client and is ignored.
    """
    count = settings.AXES_TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """Tell a locked-out client so: OAuth2's error shape on the API, a page elsewhere."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith(API_PATH_PREFIX):
        client = (credentials or {}).get("grant_type") == "client_credentials"
        body = {
            "error": "invalid_client" if client else "invalid_grant",
            "error_description": lockout_description(),
        }
        response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
        return response
    context = {"description": lockout_description()}
    return render(request, "registration/lockout.html", context, status=status)


def lockout_description() -> str:
    cool_off = settings.AXES_COOLOFF_TIME
    if cool_off:
        wait = f"try again in {int(cool_off.total_seconds() // 60)} minutes"
    else:
        wait = "ask an administrator to unlock it"
    return f"Too many failed attempts: this log-in is locked; {wait}."
