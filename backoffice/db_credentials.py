"""Database credentials found when a connection opens, so a password rotation never strands the app.

Django reads PASSWORD once, at start. On RDS the app instead authenticates with IAM: each new
connection gets a token minted from the instance profile (`rds.generate_db_auth_token`, a
SigV4-signed string made locally, valid 15 minutes, no network call). A token is needed only
while a connection opens; an open connection outlives it. Nothing on the server ever holds a
database password, and there is nothing to rotate but the instance profile's own keys, which
AWS rotates.

The database setting `CREDENTIALS` chooses (backoffice/settings/production.py sets it from
DATABASE_AUTH):

    "password"  (default) the PASSWORD of the setting, as Django does
    "iam"       an RDS IAM token for USER at HOST:PORT, minted for every new connection

backoffice.db.postgresql.DatabaseWrapper.get_connection_params calls `connection_params`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

ClientFactory = Callable[[str | None], Any]

PASSWORD = "password"
IAM = "iam"
MODES = (PASSWORD, IAM)


class IamTokenSource:
    """Mints an RDS IAM authentication token with the process's AWS credentials.

    The boto3 client is made once (boto3's default session is not safe to share between
    threads while clients are being made; a client is) and asked for a token per connection.
    """

    def __init__(self, region: str | None, client_factory: ClientFactory | None = None):
        self.region = region
        self._client_factory = client_factory or _rds_client
        self._client = None
        self._lock = threading.Lock()

    def client(self):
        with self._lock:
            if self._client is None:
                self._client = self._client_factory(self.region)
            return self._client

    def password(self, host: str, port: int, user: str) -> str:
        client = self.client()
        region = self.region or client.meta.region_name
        return client.generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=user, Region=region
        )


def _rds_client(region: str | None):
    import boto3  # only servers that authenticate with IAM need it loaded

    return boto3.session.Session().client("rds", region_name=region)


_sources: dict[tuple[str, str | None], IamTokenSource] = {}
_sources_lock = threading.Lock()


def source_for(settings_dict: dict) -> IamTokenSource | None:
    """The token source of a database setting, shared by every connection that uses it."""
    mode = settings_dict.get("CREDENTIALS") or PASSWORD
    if mode not in MODES:
        raise ImproperlyConfigured(f"database CREDENTIALS must be one of {MODES}, not {mode!r}")
    if mode == PASSWORD:
        return None
    region = settings_dict.get("AWS_REGION") or None
    with _sources_lock:
        return _sources.setdefault((mode, region), IamTokenSource(region))


def connection_params(settings_dict: dict, params: dict) -> dict:
    """Django's connection parameters with the credential this new connection must use."""
    source = source_for(settings_dict)
    if source is None:
        return params
    if (settings_dict.get("OPTIONS") or {}).get("pool"):
        # A psycopg pool keeps the parameters it was made with: its later connections would
        # present an expired token.
        raise ImproperlyConfigured("IAM database authentication cannot use OPTIONS['pool']")
    if not params.get("host") or not params.get("user"):
        raise ImproperlyConfigured("IAM database authentication needs the database HOST and USER")
    port = int(params.get("port") or 5432)
    return {**params, "password": source.password(params["host"], port, params["user"])}


def reset() -> None:
    """Forget the token sources (tests, or after the AWS configuration changed)."""
    with _sources_lock:
        _sources.clear()
