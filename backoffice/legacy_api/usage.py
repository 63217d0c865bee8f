"""Counting legacy calls per credential and endpoint, with no database write per request.

A call increments a counter in the default cache (Redis in production, so every worker
counts in one place) and stamps the time of the last call. The pairs (credential,
endpoint) seen are listed under one index key, added to once per pair per process and
again every `INDEX_REFRESH_SECONDS` (so an addition lost to two processes writing the
index at once comes back soon). `usage_flush` (every `LEGACY_USAGE_FLUSH_SECONDS` from
the request that finds the last flush old enough, from the migration board, and from
`manage.py legacy_usage_flush`) moves the counts into `LegacyUsage` and subtracts what
it moved, so calls counted meanwhile are kept for the next flush.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from rbac.models import AccessToken, APIKey, User
from rbac.principals import APIKeyPrincipal

from .models import CredentialKind, LegacyUsage

PREFIX = "legacy-usage"
INDEX_KEY = f"{PREFIX}:index"
LAST_FLUSH_KEY = f"{PREFIX}:last-flush"
INDEX_REFRESH_SECONDS = 300
# Counters outlive several missed flushes; a week without any flush loses counts.
COUNTER_TIMEOUT = 7 * 24 * 3600

_indexed: dict[str, float] = {}  # pairs this process put in the index, and when


@dataclass(frozen=True)
class Caller:
    kind: str
    id: int
    label: str
    company_id: int | None


def caller_of(request) -> Caller:
    """Return who made a request: a Portal key, a Core client, a person, or nobody."""
    user, auth = getattr(request, "user", None), getattr(request, "auth", None)
    if isinstance(user, APIKeyPrincipal):
        key: APIKey = user.api_key
        core_client = key.hash_scheme == APIKey.Scheme.BCRYPT
        kind = CredentialKind.CLIENT if core_client else CredentialKind.KEY
        return Caller(kind, key.pk, f"{key.name} ({key.prefix})", key.company_id)
    if isinstance(user, User):
        return Caller(CredentialKind.PERSON, user.pk, user.email, None)
    if isinstance(auth, AccessToken) and auth.user_id:
        return Caller(CredentialKind.PERSON, auth.user_id, "", None)
    return Caller(CredentialKind.ANONYMOUS, 0, "", None)


def _pair(caller: Caller, endpoint: str) -> str:
    # "|" cannot occur in a kind or an id; the endpoint is the last part.
    return f"{caller.kind}|{caller.id}|{caller.company_id or ''}|{endpoint}"


def _digest(pair: str) -> str:
    # Spaces and braces in an endpoint are not safe in every cache's keys (memcached).
    return hashlib.sha1(pair.encode(), usedforsecurity=False).hexdigest()


def _counter_key(pair: str) -> str:
    return f"{PREFIX}:n:{_digest(pair)}"


def _last_key(pair: str) -> str:
    return f"{PREFIX}:t:{_digest(pair)}"


def usage_count(*, caller: Caller, endpoint: str, label_hint: str = "") -> None:
    """Count one call: a cache increment and a time stamp, nothing in the database."""
    pair = _pair(caller, endpoint)
    key = _counter_key(pair)
    try:
        cache.incr(key)
    except ValueError:  # first call since the last flush took the counter away
        if not cache.add(key, 1, COUNTER_TIMEOUT):
            cache.incr(key)
    cache.set(_last_key(pair), time.time(), COUNTER_TIMEOUT)
    now = time.monotonic()
    if now - _indexed.get(pair, -INDEX_REFRESH_SECONDS) >= INDEX_REFRESH_SECONDS:
        _indexed[pair] = now
        index = cache.get(INDEX_KEY) or {}
        if pair not in index:
            index[pair] = caller.label or label_hint
            cache.set(INDEX_KEY, index, None)
    if cache.add(LAST_FLUSH_KEY, time.time(), settings.LEGACY_USAGE_FLUSH_SECONDS):
        # The first call after the flush interval flushes; the others find the key.
        transaction.on_commit(usage_flush)


def usage_flush() -> int:
    """Move the counted calls into LegacyUsage; return how many calls were moved."""
    index: dict[str, str] = cache.get(INDEX_KEY) or {}
    if not index:
        return 0
    counts = cache.get_many([_counter_key(pair) for pair in index])
    stamps = cache.get_many([_last_key(pair) for pair in index])
    moved = 0
    with transaction.atomic():
        for pair, label in index.items():
            calls = counts.get(_counter_key(pair)) or 0
            if not calls:
                continue
            kind, credential_id, company_id, endpoint = pair.split("|", 3)
            last = datetime.fromtimestamp(stamps.get(_last_key(pair), time.time()), tz=UTC)
            api = "portal" if " /api/" in endpoint else "core"
            row, created = LegacyUsage.objects.get_or_create(
                credential_kind=kind, credential_id=int(credential_id), endpoint=endpoint,
                defaults={"api": api, "credential_label": label, "calls": calls,
                          "company_id": int(company_id) if company_id else None,
                          "first_call_at": last, "last_call_at": last},
            )
            if not created:
                LegacyUsage.objects.filter(pk=row.pk).update(
                    calls=F("calls") + calls, last_call_at=max(row.last_call_at, last),
                    credential_label=label or row.credential_label,
                )
            moved += calls
    for pair in index:
        calls = counts.get(_counter_key(pair)) or 0
        if calls:
            try:
                cache.decr(_counter_key(pair), calls)
            except ValueError:
                pass
    return moved
