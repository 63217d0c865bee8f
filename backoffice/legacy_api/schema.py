"""The legacy endpoints in the OpenAPI schema: their own tags, every operation deprecated."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from backoffice.api.schema import (
    AutoSchema,
    OAuthErrorSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)

LEGACY_TAGS = {
    "core": "legacy: Core /v1 (deprecated)", "portal": "legacy: Portal /api (deprecated)",
}


class LegacySchema(AutoSchema):
    """Tag by legacy system, mark deprecated, describe bodies as plain JSON objects: the
    shapes are those of docs/api-inventory.md and the legacy systems, not of /api/v1."""

    def get_tags(self) -> list[str]:
        return [LEGACY_TAGS[getattr(self.view, "api", "core")]]

    def is_deprecated(self) -> bool:
        return True

    def get_operation_id(self) -> str:
        name = type(self.view).__name__
        return f"legacy_{getattr(self.view, 'api', 'core')}_{name}_{self.method.lower()}"

    def get_description(self) -> str:
        successor = getattr(self.view, "successor", "/api/v1/")
        own = super().get_description() or ""
        return f"{own}\n\nDeprecated: use `{successor}` (docs/api-inventory.md).".strip()

    def get_request_serializer(self):
        return OpenApiTypes.OBJECT if self.method in {"POST", "PUT", "PATCH"} else None

    def get_response_serializers(self):
        # Objects, bare arrays (Portal's lists), empty bodies: any JSON value.
        return OpenApiTypes.ANY


class CoreOAuthTokenSchema(OpenApiViewExtension):
    """/oauth/token is the token endpoint itself: documented as such, in the legacy group."""

    target_class = "backoffice.legacy_api.core.OAuthTokenView"

    def view_replacement(self):
        @extend_schema(
            tags=[LEGACY_TAGS["core"]], deprecated=True,
            summary="Core's token endpoint: POST /api/v1/auth/token at its old path.",
            request={"application/json": TokenRequestSerializer,
                     "application/x-www-form-urlencoded": TokenRequestSerializer},
            responses={200: TokenSerializer, 400: OAuthErrorSerializer,
                       401: OAuthErrorSerializer, 429: OAuthErrorSerializer},
        )
        class Fixed(self.target_class):
            pass

        return Fixed


class CognitoTokenRetiredScheme(OpenApiAuthenticationExtension):
    """Documents that Portal's Cognito ID tokens are refused: Cognito is retired."""

    target_class = "backoffice.legacy_api.base.CognitoTokenRetired"
    name = "cognitoIdToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Portal's Cognito ID token: refused with 401 since Cognito "
                               "was retired. Use a token from POST /api/v1/auth/token."}
