"""Lazy migration of Portal's Cognito users: their first log-in here moves their password over.

Cognito never exports password hashes. A Portal user arrives with an unusable password and
their `cognito_sub`; the first time they log in, Cognito checks the password, and on success
it becomes their Django password, so Cognito is never asked again for them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from .models import User

log = logging.getLogger(__name__)


def cognito_enabled() -> bool:
    return bool(settings.COGNITO_USER_POOL_ID and settings.COGNITO_APP_CLIENT_ID)


def _region() -> str:
    # A pool id is "<region>_<id>", so the region need not be configured twice.
    return settings.COGNITO_REGION or settings.COGNITO_USER_POOL_ID.split("_", 1)[0]


@functools.lru_cache(maxsize=4)
def _client(region: str, endpoint_url: str | None, timeout: float):
    # Creating a boto3 client costs tens of milliseconds: one per configuration.
    return boto3.client(
        "cognito-idp",
        region_name=region,
        endpoint_url=endpoint_url or None,
        config=Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


def _secret_hash(username: str) -> str:
    message = (username + settings.COGNITO_APP_CLIENT_ID).encode()
    key = settings.COGNITO_APP_CLIENT_SECRET.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def cognito_password_valid(*, cognito_sub: str, password: str) -> bool:
    """Return whether Cognito accepts the password for this user (Username = sub).

    Any refusal, a challenge (e.g. a temporary password that must be changed) or Cognito
    being unreachable is False: the person may still set a password by e-mail.
    """
    parameters = {"USERNAME": cognito_sub, "PASSWORD": password}
    if settings.COGNITO_APP_CLIENT_SECRET:
        parameters["SECRET_HASH"] = _secret_hash(cognito_sub)
    client = _client(_region(), settings.COGNITO_ENDPOINT_URL, settings.COGNITO_TIMEOUT_SECONDS)
    try:
        response = client.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH",
            ClientId=settings.COGNITO_APP_CLIENT_ID,
            AuthParameters=parameters,
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        log.info("Cognito refused %s: %s", cognito_sub, code)
        return False
    except BotoCoreError as error:
        log.warning("Cognito unreachable, log-in of %s refused: %s", cognito_sub, error)
        return False
    return "AuthenticationResult" in response


class CognitoMigrationBackend(ModelBackend):
    """Authenticate a not-yet-migrated Portal user against Cognito, then keep the password.

    Place it after ModelBackend: that one answers everyone with a password of ours, and
    spends the hashing time that hides whether an e-mail address exists.
    """

    def authenticate(self, request, username: str | None = None, password: str | None = None,
                     **kwargs) -> User | None:
        if not cognito_enabled() or not username or not password:
            return None
        user = User.objects.filter(email__iexact=username.strip()).first()
        if (
            user is None
            or not user.cognito_sub
            or user.has_usable_password()
            or not self.user_can_authenticate(user)
        ):
            return None
        if not cognito_password_valid(cognito_sub=user.cognito_sub, password=password):
            return None
        user.set_password(password)
        user.save(update_fields=["password"])
        log.info("Moved the Cognito password of %s over", user.pk)
        return user
