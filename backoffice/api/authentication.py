"""DRF authentication: Portal API keys and bearer tokens, each one indexed lookup per request.

Both pass the log-in gate (rbac.lockout) first: a key's prefix is its account there, as an
e-mail is a person's; a bearer token names no account, so its failures count against the
address only.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions, permissions

from rbac.lockout import (
    LoginRefused,
    lock_answered_here,
    lockout_description,
    login_failed,
    login_gate,
    login_locked_now,
)
from rbac.models import AccessToken, APIKey
from rbac.principals import APIKeyPrincipal
from rbac.tokens import (
    API_KEY_PREFIX_LENGTH,
    CredentialRejected,
    access_token_authenticate,
    api_key_authenticate,
)


class CredentialRefused(exceptions.APIException):
    """429: the log-in gate refused to check this credential (locked out, or throttled)."""

    status_code = 429
    default_code = "locked"

    def __init__(self, refused: LoginRefused) -> None:
        super().__init__(refused.description, code=refused.reason)
        self.wait = refused.wait  # DRF turns it into Retry-After


def _checked(request, *, account: str | None, check):
    """Run a credential check behind the log-in gate; count a failure; return its result."""
    try:
        # Axes is asked only after failures of this account: this runs on every request.
        login_gate(request, account=account, ask_axes=False)
    except LoginRefused as refused:
        raise CredentialRefused(refused) from None
    try:
        return check()
    except CredentialRejected as rejected:
        if not rejected.secret_was_right:
            login_failed(request, account=account)
            if login_locked_now(request):
                lock_answered_here(request)
                raise CredentialRefused(LoginRefused("locked", lockout_description())) from None
        raise exceptions.AuthenticationFailed(str(rejected)) from None


def _authorization(request) -> tuple[str, str] | None:
    """Return (scheme in lower case, credential) from the Authorization header, if any."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credential = header.strip().partition(" ")
    if not scheme:
        return None
    return scheme.lower(), credential.strip()


class APIKeyAuthentication(authentication.BaseAuthentication):
    """`X-Api-Key: pk_…` or `Authorization: Api-Key pk_…`, as Portal's clients send them.

    request.user becomes the key's APIKeyPrincipal (its company, its scopes); request.auth
    the APIKey.
    """

    keyword = "Api-Key"

    def authenticate(self, request):
        raw_key = request.META.get("HTTP_X_API_KEY")
        if raw_key is None:
            authorization = _authorization(request)
            if authorization is None or authorization[0] != self.keyword.lower():
                return None
            raw_key = authorization[1]
        if not raw_key:
            raise exceptions.AuthenticationFailed("Empty API key.")
        account = raw_key.strip()[:API_KEY_PREFIX_LENGTH]
        api_key = _checked(
            request, account=account, check=lambda: api_key_authenticate(raw_key=raw_key)
        )
        return APIKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer …` with a token from POST /api/v1/auth/token.

    A person's token makes request.user that person; an API client's token makes it the
    key's APIKeyPrincipal, narrowed to the token's scopes. request.auth is the AccessToken.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        authorization = _authorization(request)
        if authorization is None or authorization[0] != self.keyword.lower():
            return None
        if not authorization[1]:
            raise exceptions.AuthenticationFailed("Empty bearer token.")
        token = _checked(
            request, account=None,
            check=lambda: access_token_authenticate(raw_token=authorization[1]),
        )
        if token.api_key_id is None:
            return token.user, token
        principal = APIKeyPrincipal(token.api_key)
        principal.scopes = principal.scopes & token.scope_set
        return principal, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


def credential_scopes(auth) -> frozenset[str] | None:
    """Return the scopes an API credential carries; None for a session (no narrowing)."""
    if isinstance(auth, AccessToken):
        if auth.api_key_id is not None:
            return auth.scope_set & auth.api_key.scope_set
        return auth.scope_set
    if isinstance(auth, APIKey):
        return auth.scope_set
    return None


class HasCredentialScope(permissions.BasePermission):
    """Refuse a key or token the scope a request needs: `read` to read, `write` to change.

    "admin" includes the others. Sessions are not narrowed: roles alone govern people.
    """

    message = "This credential's scopes do not allow this request."

    def has_permission(self, request, view) -> bool:
        scopes = credential_scopes(request.auth)
        if scopes is None or "admin" in scopes:
            return True
        needed = "read" if request.method in permissions.SAFE_METHODS else "write"
        return needed in scopes
