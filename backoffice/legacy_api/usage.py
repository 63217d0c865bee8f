"""Counting legacy calls per credential and endpoint, with no database write per request.

A call increments a counter in the default cache (Redis in production, so every worker
counts in one place): one round trip. The time of the last call is stamped at most every
`STAMP_SECONDS` per process, and whether a flush is due is asked as rarely. A counter
that did not exist yet (a new pair of credential and endpoint, or a cache that lost its
keys) puts its pair in the index, sharded in 16 keys by the pair's digest so that two
processes rarely write the same shard at once; the writer reads its shard back and writes
once more if its pair is missing.

`usage_flush` (from the first request after `LEGACY_USAGE_FLUSH_SECONDS`, from the
migration board, and from `manage.py legacy_usage_flush`) moves the counts into
`LegacyUsage` and subtracts what it moved, so calls counted meanwhile wait for the next
flush.
"""

from __future__ import annotations

import functools
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
INDEX_SHARDS = "0123456789abcdef"
LAST_FLUSH_KEY = f"{PREFIX}:last-flush"
STAMP_SECONDS = 10
# Counters outlive several missed flushes; a week without any flush loses counts.
COUNTER_TIMEOUT = 7 * 24 * 3600

_stamped: dict[str, float] = {}  # pair -> when this process last stamped its last call
_flush_checked = [0.0]  # when this process last asked whether a flush is due


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


@functools.lru_cache(maxsize=4096)
def _digest(pair: str) -> str:
    # Spaces and braces in an endpoint are not safe in every cache's keys (memcached).
    return hashlib.sha1(pair.encode(), usedforsecurity=False).hexdigest()


def _counter_key(pair: str) -> str:
    return f"{PREFIX}:n:{_digest(pair)}"


def _last_key(pair: str) -> str:
    return f"{PREFIX}:t:{_digest(pair)}"


def _index_key(shard: str) -> str:
    return f"{PREFIX}:index:{shard}"


def _register(pair: str, label: str) -> None:
    key = _index_key(_digest(pair)[0])
    for _ in range(2):  # once more if another process overwrote the shard meanwhile
        index = cache.get(key) or {}
        if pair in index:
            return
        index[pair] = label
        cache.set(key, index, None)


def usage_count(*, caller: Caller, endpoint: str) -> None:
    """Count one call: a cache increment (and now and then a time stamp), no database."""
    pair = _pair(caller, endpoint)
    key = _counter_key(pair)
    try:
        cache.incr(key)
    except ValueError:  # a pair this cache has not seen
        if cache.add(key, 1, COUNTER_TIMEOUT):
            _register(pair, caller.label)
        else:
            cache.incr(key)
    now = time.time()
    if now - _stamped.get(pair, 0) >= STAMP_SECONDS:
        _stamped[pair] = now
        cache.set(_last_key(pair), now, COUNTER_TIMEOUT)
    if now - _flush_checked[0] >= STAMP_SECONDS:
        _flush_checked[0] = now
        if cache.add(LAST_FLUSH_KEY, now, settings.LEGACY_USAGE_FLUSH_SECONDS):
            # The first check after the flush interval flushes; the others find the key.
            transaction.on_commit(usage_flush)


def usage_flush() -> int:
    """Move the counted calls into LegacyUsage; return how many calls were moved."""
    index: dict[str, str] = {}
    for shard in cache.get_many([_index_key(s) for s in INDEX_SHARDS]).values():
        index |= shard
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
