"""POST /api/v1/auth/token: OAuth2 token endpoint for Core's API clients and for people.

- grant_type=client_credentials: client_id + client_secret (in the body, or HTTP Basic as
  RFC 6749 prefers), checked against the Core client's bcrypt hash;
- grant_type=password: username (or email) + password, through Django's authenticate(),
  so the log-in gate (rbac.lockout), Core's bcrypt, Cognito migration and two-factor all
  apply.

Both pass the log-in gate first, and every failure counts there, a right password without
its two-factor code included. The endpoint has a rate limit of its own per address.
Form-encoded or JSON. Answers are RFC 6749 §5.1 / §5.2 shaped.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from rest_framework import exceptions
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from backoffice.api.throttling import SlidingWindowRateThrottle
from rbac.lockout import (
    REFUSAL_ATTRIBUTE,
    LoginRefused,
    client_ip,
    lock_answered_here,
    lockout_description,
    login_failed,
    login_gate,
    login_locked_now,
)
from rbac.models import User
from rbac.tokens import (
    SCOPES,
    CredentialRejected,
    IssuedToken,
    access_token_issue,
    api_client_authenticate,
    scopes_parse,
)
from rbac.two_factor import two_factor_code_valid, two_factor_required

# One answer for a wrong e-mail, a wrong password and a right password without its code:
# none of them tells which part was right.
WRONG_PERSON_CREDENTIALS = "Wrong e-mail, password or two-factor code (otp_token)."


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400,
                 wait: int | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status
        self.wait = wait


class TokenEndpointRateThrottle(SlidingWindowRateThrottle):
    """The token endpoint per client address, successes and failures alike."""

    scope = "auth_token"

    def get_cache_key(self, request, view) -> str | None:
        ident = client_ip(getattr(request, "_request", request))
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _no_store(response: Response) -> Response:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Form first (OAuth2's own encoding), then the API's parsers with their size and depth
    # limits (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES).
    parser_classes = [FormParser, *api_settings.DEFAULT_PARSER_CLASSES]
    throttle_classes = [TokenEndpointRateThrottle]

    def handle_exception(self, exc: Exception) -> Response:
        # A body that does not parse is a client error in OAuth2's shape too, not the API's.
        if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
            body = {"error": "invalid_request", "error_description": str(exc.detail)}
            return _no_store(Response(body, status=400))
        if isinstance(exc, exceptions.Throttled):
            wait = int(exc.wait or 1)
            body = {"error": "invalid_request",
                    "error_description": f"Too many requests: try again in {wait} seconds."}
            response = Response(body, status=429)
            response["Retry-After"] = str(wait)
            return _no_store(response)
        response = super().handle_exception(exc)
        if response.status_code >= 500:
            return response
        # Any other client error (a value the database refuses, too many fields…) keeps
        # its status but speaks OAuth2 like the rest of this endpoint.
        body = {"error": "invalid_request", "error_description": _description(response.data)}
        return _no_store(Response(body, status=response.status_code))

    def post(self, request: Request) -> Response:
        data = request.data if hasattr(request.data, "get") else {}
        try:
            grant_type = _field(data, "grant_type")
            if grant_type == "client_credentials":
                issued = self._client_credentials(request, data)
            elif grant_type == "password":
                issued = self._password(request, data)
            elif not grant_type:
                raise OAuthError("invalid_request", "grant_type is required.")
            else:
                raise OAuthError(
                    "unsupported_grant_type", "Use client_credentials or password."
                )
        except OAuthError as error:
            lock_answered_here(request)  # in OAuth2's shape, with the right error code
            response = Response(
                {"error": error.error, "error_description": error.description},
                status=error.status,
            )
            if error.status == 401:
                response["WWW-Authenticate"] = 'Basic realm="api"'
            if error.wait:
                response["Retry-After"] = str(error.wait)
            return _no_store(response)
        return _no_store(
            Response(
                {
                    "access_token": issued.raw,
                    "token_type": "Bearer",
                    "expires_in": issued.expires_in,
                    "scope": issued.token.scopes,
                }
            )
        )

    def _client_credentials(self, request: Request, data) -> IssuedToken:
        client_id, client_secret = _basic_credentials(request)
        client_id = client_id or _field(data, "client_id")
        client_secret = client_secret or _field(data, "client_secret")
        if not client_id or not client_secret:
            raise OAuthError("invalid_request", "client_id and client_secret are required.")
        try:
            login_gate(request, account=client_id)
        except LoginRefused as refused:
            raise _refused("invalid_client", refused) from None
        try:
            client = api_client_authenticate(client_id=client_id, client_secret=client_secret)
        except CredentialRejected as rejected:
            if not rejected.secret_was_right:
                login_failed(request, account=client_id)
                if login_locked_now(request):
                    raise _locked("invalid_client") from None
            raise OAuthError("invalid_client", str(rejected), status=401) from None
        scopes = _scopes(data, allowed=client.scope_set)
        return access_token_issue(api_key=client, scopes=scopes)

    def _password(self, request: Request, data) -> IssuedToken:
        username = _field(data, "username") or _field(data, "email")
        password = _field(data, "password")
        if not username or not password:
            raise OAuthError("invalid_request", "username and password are required.")
        django_request = request._request
        # The log-in gate is the first authentication backend: a refused attempt (locked
        # out, too many failures) never reaches the password, and answers the same either way.
        user: User | None = authenticate(django_request, username=username, password=password)
        if user is None:
            refused = getattr(django_request, REFUSAL_ATTRIBUTE, None)
            if refused is not None:
                raise _refused("invalid_grant", refused)
            if login_locked_now(request):
                raise _locked("invalid_grant")
            raise OAuthError("invalid_grant", WRONG_PERSON_CREDENTIALS)
        if two_factor_required(user) and not two_factor_code_valid(
            user=user, code=_field(data, "otp_token")
        ):
            # A right password without its code is a failed log-in like any other.
            login_failed(request, account=username)
            if login_locked_now(request):
                raise _locked("invalid_grant")
            raise OAuthError("invalid_grant", WRONG_PERSON_CREDENTIALS)
        scopes = _scopes(data, allowed=frozenset(SCOPES))
        issued = access_token_issue(user=user, scopes=scopes)
        # A log-in for django-axes (its access log; AXES_RESET_ON_SUCCESS clears the failures),
        # without the rest of user_logged_in: no last_login write and history row per token.
        AxesProxyHandler.user_logged_in(sender=type(self), request=django_request, user=user)
        return issued


def _refused(error: str, refused: LoginRefused) -> OAuthError:
    return OAuthError(
        error, refused.description, status=settings.AXES_HTTP_RESPONSE_CODE, wait=refused.wait
    )


def _locked(error: str) -> OAuthError:
    return OAuthError(error, lockout_description(), status=settings.AXES_HTTP_RESPONSE_CODE)


def _field(data, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        return ""
    if "\x00" in value:
        # No credential holds one, and PostgreSQL refuses to compare a string that does.
        raise OAuthError("invalid_request", f"{name} holds a NUL character.")
    return value.strip()


def _description(data) -> str:
    """Return the message of an error the API's exception handler shaped."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "The request is not valid."
    details = error.get("details")
    if isinstance(details, dict):
        messages = [str(message) for value in details.values()
                    for message in (value if isinstance(value, list) else [value])]
        if messages:
            return " ".join(messages)
    return str(error.get("message") or "The request is not valid.")


def _scopes(data, *, allowed: frozenset[str]) -> frozenset[str]:
    try:
        return scopes_parse(_field(data, "scope"), allowed=allowed)
    except ValidationError as error:
        raise OAuthError("invalid_scope", " ".join(error.messages)) from None


def _basic_credentials(request: Request) -> tuple[str, str]:
    """Return (client_id, client_secret) from HTTP Basic, or empty strings."""
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_request", "Malformed HTTP Basic credentials.") from None
    client_id, _, client_secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    client_id, client_secret = unquote_plus(client_id), unquote_plus(client_secret)
    if "\x00" in client_id or "\x00" in client_secret:
        raise OAuthError("invalid_request", "HTTP Basic credentials hold a NUL character.")
    return client_id, client_secret

