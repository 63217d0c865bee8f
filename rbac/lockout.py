"""The one gate every log-in and credential check passes: who tried, from where, whether
they may try now, and what a failure costs.

Every entry point (the admin log-in form, the token endpoint's password and client
grants, API keys) names the account it is about (an e-mail, a client id, a key's prefix),
asks `login_gate` before it checks anything, and reports a failure with `login_failed` (or
through Django's `authenticate()`, which sends the same signal). Two things then count:

- django-axes: failures per account **and** address; AXES_FAILURE_LIMIT of them lock that
  pair for AXES_COOLOFF_TIME (one attacker cannot lock a person out everywhere);
- the failure rate limits, counters in the default cache: LOGIN_FAILURE_RATE_PER_IP
  failures from one address whatever the account, LOGIN_FAILURE_RATE_PER_ACCOUNT failures
  on one account whatever the address.

While refused, nothing is checked: a right password gets the answer a wrong one gets.
"""

from __future__ import annotations

import hashlib

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendRequestParameterRequired
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .rate_limits import Rate, WindowCount, window_increment, windows_read

API_PATH_PREFIX = "/api/"
# Where an entry point may carry the account: people's forms, OAuth2 clients.
ACCOUNT_FIELDS = ("username", "email", "client_id")
# Set on the request by the gate: the refusal, so the answer can say why.
REFUSAL_ATTRIBUTE = "login_refusal"
_KEY_PREFIX = "login-failures"


class LoginRefused(Exception):
    """An attempt refused before any secret was checked; `description` says why."""

    def __init__(self, reason: str, description: str, wait: int | None = None) -> None:
        super().__init__(description)
        self.reason = reason  # "locked" or "throttled"
        self.description, self.wait = description, wait


def normalised_account(value) -> str | None:
    """Return an e-mail or client id as log-in compares it: stripped, lower-cased."""
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def attempted_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """Return the attempted e-mail or client id, whichever field carried it, normalised.

    Without this, "Anna@x" and "anna@x " would each get their own failure count, and a
    password grant sent as `email=` would be checked under no account at all.
    """
    for source in (credentials or {}, _request_data(request)):
        for name in ACCOUNT_FIELDS:
            account = normalised_account(source.get(name))
            if account is not None:
                return account
    return None


def _request_data(request: HttpRequest):
    data = getattr(request, "data", None) or getattr(request, "POST", None) or {}
    return data if hasattr(data, "get") else {}


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


# --- the gate ---------------------------------------------------------------------------


def _django_request(request) -> HttpRequest:
    # DRF's Request proxies reads only: axes notes its attributes on the Django request.
    return getattr(request, "_request", request)


def _rates() -> dict[str, Rate | None]:
    return {
        "ip": Rate.parse(settings.LOGIN_FAILURE_RATE_PER_IP),
        "account": Rate.parse(settings.LOGIN_FAILURE_RATE_PER_ACCOUNT),
    }


def _counter_keys(request: HttpRequest, account: str | None) -> dict[str, str]:
    keys = {"ip": f"{_KEY_PREFIX}:ip:{client_ip(request)}"}
    if account:
        # Hashed: a key name the cache accepts whatever the client sent.
        digest = hashlib.sha256(account.encode()).hexdigest()[:32]
        keys["account"] = f"{_KEY_PREFIX}:account:{digest}"
    return keys


def _failure_counts(request: HttpRequest, account: str | None) -> dict[str, WindowCount]:
    rates = _rates()
    keys = _counter_keys(request, account)
    durations = {keys[name]: rate.seconds for name, rate in rates.items()
                 if rate is not None and name in keys}
    counts = windows_read(durations=durations) if durations else {}
    return {name: counts[key] for name, key in keys.items() if key in counts}


def login_gate(request, *, account: str | None, ask_axes: bool = True) -> None:
    """Raise LoginRefused while this address or account may not try a secret now.

    `ask_axes=False` asks django-axes (a database query) only when the failure counters
    saw a failure of this account lately: for checks that run on every API request.
    """
    request = _django_request(request)
    account = normalised_account(account)
    rates = _rates()
    counts = _failure_counts(request, account)
    for name, counted in counts.items():
        rate = rates[name]
        if counted.estimate >= rate.limit:
            wait = int(counted.wait(rate.limit))
            _refuse(request, LoginRefused("throttled", _throttled_description(wait), wait))
    if account is None or not settings.AXES_ENABLED:
        return  # axes locks an account at an address; "no account" is nobody's to lock
    recent = counts.get("account")
    if ask_axes or recent is None or recent.count or recent.previous:
        if not AxesProxyHandler.is_allowed(request, {"username": account}):
            _refuse(request, LoginRefused("locked", lockout_description()))


def _refuse(request: HttpRequest, refused: LoginRefused):
    setattr(request, REFUSAL_ATTRIBUTE, refused)
    raise refused


def login_failed(request, *, account: str | None) -> None:
    """Count a failed attempt of this account from this address, as a wrong password counts.

    Through Django's own signal, so django-axes and the failure counters see it as they see
    a failure inside authenticate(). Without an account (a bearer token names none) only
    the address counts: axes would otherwise lock "no account" for everyone behind it.
    """
    request = _django_request(request)
    account = normalised_account(account)
    if account is None:
        _count(request, None)
        return
    user_login_failed.send(sender=__name__, credentials={"username": account}, request=request)


def login_locked_now(request) -> bool:
    """Return whether the failure just counted locked this attempt's account and address."""
    return bool(getattr(_django_request(request), "axes_locked_out", False))


def lock_answered_here(request) -> None:
    """Keep AxesMiddleware from replacing a view's own answer to a lock with the page or
    OAuth2 body of lockout_response: the token endpoint and the API answer in their shape."""
    _django_request(request).axes_locked_out = False


@receiver(user_login_failed, dispatch_uid="rbac.lockout.count_failure")
def count_failure(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    """Count every failed log-in against its address and its account, whichever path."""
    if request is None or getattr(request, REFUSAL_ATTRIBUTE, None) is not None:
        return  # no address to count against; or refused unchecked, which is no attempt
    _count(request, attempted_username(request, credentials))


def _count(request: HttpRequest, account: str | None) -> None:
    rates = _rates()
    for name, key in _counter_keys(request, account).items():
        rate = rates[name]
        if rate is not None:
            window_increment(key=key, duration=rate.seconds)


class LoginGateBackend(AxesStandaloneBackend):
    """First of AUTHENTICATION_BACKENDS: refuse, before any password is checked, an attempt
    the gate refuses (locked out, or too many failures from the address or on the account).
    """

    def authenticate(self, request, username: str | None = None, password: str | None = None,
                     **kwargs) -> None:
        if request is None:
            if settings.AXES_ENABLED:
                raise AxesBackendRequestParameterRequired(
                    "The log-in gate needs the request: it counts per address."
                )
            return None  # Client.login() in tests, with axes switched off
        account = attempted_username(request, {"username": username, **kwargs})
        try:
            login_gate(request, account=account)
        except LoginRefused:
            # AxesMiddleware turns the flag into lockout_response's answer.
            request.axes_locked_out = True
            raise PermissionDenied from None
        return None  # the gate lets it through; the next backends check the password


# --- the answers ------------------------------------------------------------------------


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """Tell a refused client so: OAuth2's error shape on the API, a page elsewhere."""
    refused = getattr(request, REFUSAL_ATTRIBUTE, None)
    description = refused.description if refused else lockout_description()
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith(API_PATH_PREFIX):
        client = (credentials or {}).get("grant_type") == "client_credentials"
        body = {
            "error": "invalid_client" if client else "invalid_grant",
            "error_description": description,
        }
        response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
    else:
        response = render(
            request, "registration/lockout.html", {"description": description}, status=status
        )
    if refused and refused.wait:
        response["Retry-After"] = str(refused.wait)
    return response


def lockout_description() -> str:
    cool_off = settings.AXES_COOLOFF_TIME
    if cool_off:
        wait = f"try again in {int(cool_off.total_seconds() // 60)} minutes"
    else:
        wait = "ask an administrator to unlock it"
    return f"Too many failed attempts: this log-in is locked; {wait}."


def _throttled_description(wait: int) -> str:
    return (
        "Too many failed attempts from this address or on this account: "
        f"try again in {wait} seconds."
    )
