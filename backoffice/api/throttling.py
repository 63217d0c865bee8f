"""Rate limits per API key and per person; DRF answers 429 with a Retry-After header.

The counting itself (sliding windows, one atomic increment per request) lives in
rbac.rate_limits, which the log-in pipeline's failure counters share.
"""

from __future__ import annotations

from rbac.rate_limits import PACK, SlidingWindowRateThrottle

__all__ = [
    "PACK", "APIKeyRateThrottle", "AnonymousRateThrottle", "SlidingWindowRateThrottle",
    "UserRateThrottle",
]


class APIKeyRateThrottle(SlidingWindowRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        api_key = getattr(request.user, "api_key", None)
        if api_key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_key.pk}


class UserRateThrottle(SlidingWindowRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if not user.is_authenticated or user.pk is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class AnonymousRateThrottle(SlidingWindowRateThrottle):
    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None  # the other throttles count people and keys
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
