"""Rate limits per API key and per person; DRF answers 429 with a Retry-After header."""

from __future__ import annotations

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle


class APIKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        api_key = getattr(request.user, "api_key", None)
        if api_key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_key.pk}


class UserRateThrottle(SimpleRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if not user.is_authenticated or user.pk is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class AnonymousRateThrottle(AnonRateThrottle):
    scope = "anon"
