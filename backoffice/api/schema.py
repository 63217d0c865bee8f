"""OpenAPI generation: every operation also documents the error responses it can give."""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from .authentication import APIKeyAuthentication, BearerTokenAuthentication
from .exceptions import ErrorSerializer
from .token_views import TokenView

ERROR_STATUSES = {
    "400": "The request is not valid.",
    "401": "No or invalid credentials.",
    "403": "Visible, but the caller may not do this.",
    "404": "Not found, or outside the caller's reach.",
    "429": "Throttled; see the Retry-After header.",
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or not type(self.view).__module__.startswith("backoffice.api"):
            return responses
        for status, description in ERROR_STATUSES.items():
            if status not in responses:
                response = self._get_response_for_code(ErrorSerializer, status, direction=direction)
                response["description"] = description
                responses[status] = response
        return responses


# --- the API's authentication and token endpoint, described for the schema -------------------


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A token from POST /api/v1/auth/token."}


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = APIKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                "description": "A company's API key, pk_…"}


class TokenRequestSerializer(serializers.Serializer):
    grant_type = serializers.ChoiceField(choices=["password", "client_credentials"])
    username = serializers.CharField(required=False, help_text="grant_type=password")
    password = serializers.CharField(required=False, help_text="grant_type=password")
    otp_token = serializers.CharField(required=False, help_text="When two-factor is on.")
    client_id = serializers.CharField(required=False, help_text="grant_type=client_credentials")
    client_secret = serializers.CharField(required=False, help_text="grant_type=client_credentials")
    scope = serializers.CharField(required=False, help_text="Space-separated: read write admin.")


class TokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
    scope = serializers.CharField()


class OAuthErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    error_description = serializers.CharField()


class TokenViewSchema(OpenApiViewExtension):
    target_class = TokenView

    def view_replacement(self):
        @extend_schema(
            summary="Exchange a password or client credentials for a bearer token (OAuth2).",
            request={"application/json": TokenRequestSerializer,
                     "application/x-www-form-urlencoded": TokenRequestSerializer},
            responses={200: TokenSerializer, 400: OAuthErrorSerializer,
                       401: OAuthErrorSerializer, 403: OAuthErrorSerializer,
                       429: OAuthErrorSerializer},
            tags=["auth"],
        )
        class Fixed(self.target_class):
            pass

        return Fixed
