"""API credentials: API keys and bearer tokens, issued, checked and revoked here only.

A request is checked with one indexed lookup and a SHA-256, never with bcrypt: bcrypt
(Core client secrets) runs only when a client exchanges its secret for a bearer token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from .hashers import bcrypt_secret_matches, hex_digests_match, sha256_hex
from .models import AccessToken, AccessVersion, APIKey, Company, User

SCOPES = ("read", "write", "admin")
API_KEY_PREFIX = "pk_"
API_KEY_PREFIX_LENGTH = 8  # "pk_" + 5 hex: what Portal stored and looked keys up by
ACCESS_TOKEN_PREFIX = "at_"
# last_used_at is a hint for people, not an audit log: one write a minute per credential.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class CredentialRejected(Exception):
    """A credential was presented and is not good; the message says why, for the caller.

    `secret_was_right`: the secret matched, but the credential may not be used (revoked,
    expired, its company not active). No guess, so the log-in gate does not count it.
    """

    def __init__(self, message: str, *, secret_was_right: bool = False) -> None:
        super().__init__(message)
        self.secret_was_right = secret_was_right


@dataclass(frozen=True)
class IssuedToken:
    token: AccessToken
    raw: str

    @property
    def expires_in(self) -> int:
        return int(settings.API_TOKEN_LIFETIME.total_seconds())


# --- scopes -----------------------------------------------------------------------------


def scopes_parse(value: str | None, *, allowed: frozenset[str]) -> frozenset[str]:
    """Return the requested scopes, or all allowed ones when none are asked for.

    Raises ValidationError for a scope that does not exist or is not allowed.
    """
    requested = frozenset((value or "").split())
    if not requested:
        return allowed
    unknown = requested - set(SCOPES)
    if unknown:
        raise ValidationError(f"Unknown scope: {' '.join(sorted(unknown))}.")
    if not requested <= allowed:
        raise ValidationError(
            f"Scope not granted to this client: {' '.join(sorted(requested - allowed))}."
        )
    return requested


def scopes_str(scopes: frozenset[str]) -> str:
    return " ".join(scope for scope in SCOPES if scope in scopes)


# --- API keys ---------------------------------------------------------------------------


def api_key_set_new_secret(api_key: APIKey) -> str:
    """Give an unsaved key a new secret in Portal's format; return the raw key.

    Only the prefix and the SHA-256 are kept: the raw key is shown once and then lost.
    Portal prefixes are 20 bits, so a new key takes a free one and its lookup finds one row.
    """
    for _ in range(20):
        raw = API_KEY_PREFIX + secrets.token_hex(16)
        if not APIKey.objects.filter(prefix=raw[:API_KEY_PREFIX_LENGTH]).exists():
            break
    api_key.prefix = raw[:API_KEY_PREFIX_LENGTH]
    api_key.hashed_key = sha256_hex(raw)
    api_key.hash_scheme = APIKey.Scheme.SHA256
    return raw


@transaction.atomic
def api_key_create(
    *, company: Company, name: str, scopes: frozenset[str] | set[str] | list[str],
    expires_at: datetime | None = None,
) -> tuple[APIKey, str]:
    """Create an API key; return it with the raw key, which is never stored or shown again."""
    scope_set = scopes_parse(" ".join(scopes), allowed=frozenset(SCOPES))
    api_key = APIKey(
        company=company, name=name, scopes=scopes_str(scope_set), expires_at=expires_at
    )
    raw = api_key_set_new_secret(api_key)
    api_key.full_clean()
    api_key.save()
    return api_key, raw


def api_key_revoke(*, api_key: APIKey) -> APIKey:
    """Revoke a key and, with it, every bearer token it was exchanged for."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_authenticate(*, raw_key: str) -> APIKey:
    """Return the live API key for a raw "pk_…" key, or raise CredentialRejected."""
    raw_key = raw_key.strip()
    if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) <= API_KEY_PREFIX_LENGTH:
        raise CredentialRejected("Malformed API key.")
    digest = sha256_hex(raw_key)
    # No ORDER BY, and of the company its status only (a join on its primary key): the
    # principal needs only company_id, and this runs per request.
    candidates = (
        APIKey.objects.filter(
            prefix=raw_key[:API_KEY_PREFIX_LENGTH], hash_scheme=APIKey.Scheme.SHA256
        )
        .annotate(company_status=F("company__status"))
        .order_by()
    )
    # Several keys may share a 20-bit prefix: compare each, in constant time.
    match = None
    for candidate in candidates:
        if hex_digests_match(digest, candidate.hashed_key):
            match = candidate
    if match is None:
        raise CredentialRejected("Invalid API key.")
    _check_live(match, what="API key")
    _check_company_active(match.company_status, what="API key")
    _touch(match)
    return match


def api_client_authenticate(*, client_id: str, client_secret: str) -> APIKey:
    """Return the live Core client for an id and secret (bcrypt), or raise CredentialRejected."""
    client = (
        APIKey.objects.select_related("company")
        .filter(prefix=client_id.strip(), hash_scheme=APIKey.Scheme.BCRYPT)
        .first()
    )
    # Unknown ids cost the same bcrypt work as known ones.
    if not bcrypt_secret_matches(client_secret, client.hashed_key if client else None):
        raise CredentialRejected("Invalid client credentials.")
    _check_live(client, what="client")
    _check_company_active(client.company.status, what="client")
    return client


def _check_live(credential: APIKey | AccessToken, *, what: str) -> None:
    now = timezone.now()
    if credential.revoked_at is not None:
        raise CredentialRejected(
            f"This {what} was revoked on {credential.revoked_at:%Y-%m-%d}.",
            secret_was_right=True,
        )
    if credential.expires_at is not None and credential.expires_at <= now:
        raise CredentialRejected(
            f"This {what} expired on {credential.expires_at:%Y-%m-%d %H:%M} UTC.",
            secret_was_right=True,
        )


def _check_company_active(status: str | None, *, what: str) -> None:
    """Refuse the credential of a company that is suspended or archived, saying so."""
    if status is None or status == Company.Status.ACTIVE:
        return
    label = Company.Status(status).label.lower()
    raise CredentialRejected(
        f"This {what}'s company is {label}: its keys and tokens are refused until it is "
        "active again.",
        secret_was_right=True,
    )


def _touch(credential: models.Model) -> None:
    now = timezone.now()
    last = credential.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    # Conditional, so concurrent requests of one key write once between them.
    type(credential).objects.filter(pk=credential.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    credential.last_used_at = now


# --- bearer tokens ----------------------------------------------------------------------


def access_token_issue(
    *, scopes: frozenset[str], user: User | None = None, api_key: APIKey | None = None
) -> IssuedToken:
    """Issue a bearer token for a person or an API key; only its SHA-256 is stored."""
    if (user is None) == (api_key is None):
        raise ValueError("A token belongs to exactly one person or one API key.")
    raw = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        token_hash=sha256_hex(raw), user=user, api_key=api_key, scopes=scopes_str(scopes),
        expires_at=timezone.now() + settings.API_TOKEN_LIFETIME,
    )
    return IssuedToken(token=token, raw=raw)


def access_token_revoke(*, token: AccessToken) -> AccessToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def access_tokens_revoke_for_user(*, user: User) -> int:
    """Revoke every live token of a person, e.g. when they leave or lose their password."""
    return AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def access_token_authenticate(*, raw_token: str) -> AccessToken:
    """Return the live token for a raw bearer token, or raise CredentialRejected."""
    token = _token_lookup(sha256_hex(raw_token.strip()))
    if token is None:
        raise CredentialRejected("Invalid bearer token.")
    _check_live(token, what="token")
    if token.api_key_id is not None:
        _check_live(token.api_key, what="token's API key")
        _check_company_active(token.api_key.company_status, what="token's API key")
        _touch(token.api_key)
    elif not token.user.is_active:
        raise CredentialRejected("This token's user is inactive.", secret_was_right=True)
    _touch(token)
    return token


class _Part:
    """One table of the token lookup: its columns in the statement, and how to load them."""

    def __init__(self, model: type[models.Model], alias: str) -> None:
        self.model, self.alias = model, alias
        self.fields = model._meta.concrete_fields
        self.attnames = [f.attname for f in self.fields]
        self.columns = [f"{alias}.{f.column}" for f in self.fields]
        self.pk_index = self.fields.index(model._meta.pk)
        self._by_vendor: dict[str, list] = {}

    def load(self, values: tuple, connection) -> models.Model | None:
        if values[self.pk_index] is None:
            return None  # the LEFT JOIN found no row
        values = list(values)
        for index, col, converters in self._converters(connection):
            for convert in converters:
                values[index] = convert(values[index], col, connection)
        return self.model.from_db(connection.alias, self.attnames, values)

    def _converters(self, connection) -> list[tuple[int, Any, list]]:
        # What the ORM's compiler applies to each column (SQLite returns dates as text, …).
        if connection.vendor not in self._by_vendor:
            found = []
            for index, field in enumerate(self.fields):
                col = field.get_col(self.alias)
                converters = connection.ops.get_db_converters(col) + field.get_db_converters(
                    connection
                )
                if converters:
                    found.append((index, col, converters))
            self._by_vendor[connection.vendor] = found
        return self._by_vendor[connection.vendor]


@cache
def _token_statement() -> tuple[str, tuple[_Part, ...]]:
    # The same join as select_related("user__access_version", "api_key"), plus the key's
    # company status, written once: the ORM would compile it anew for every request, which
    # costs more than running it.
    parts = (_Part(AccessToken, "t"), _Part(User, "u"), _Part(AccessVersion, "v"),
             _Part(APIKey, "k"))
    token, user, version, key = (part.model._meta.db_table for part in parts)
    company = Company._meta.db_table
    sql = (
        f"SELECT {', '.join(c for part in parts for c in part.columns)}, c.status "
        f"FROM {token} t "
        f"LEFT JOIN {user} u ON u.id = t.user_id "
        f"LEFT JOIN {version} v ON v.user_id = t.user_id "
        f"LEFT JOIN {key} k ON k.id = t.api_key_id "
        f"LEFT JOIN {company} c ON c.id = k.company_id "
        "WHERE t.token_hash = %s"
    )
    return sql, parts


def _token_lookup(token_hash: str) -> AccessToken | None:
    """The token with its person (and their access version) or key, in one indexed query."""
    sql, parts = _token_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    loaded, start = [], 0
    for part in parts:
        loaded.append(part.load(row[start : start + len(part.fields)], connection))
        start += len(part.fields)
    token, user, version, key = loaded
    if key is not None:
        key.company_status = row[-1]
    AccessToken.user.field.set_cached_value(token, user)
    AccessToken.api_key.field.set_cached_value(token, key)
    if user is not None:
        User.access_version.related.set_cached_value(user, version)
    return token


def access_tokens_purge(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete tokens that expired long ago; return how many."""
    deleted, _ = AccessToken.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted

