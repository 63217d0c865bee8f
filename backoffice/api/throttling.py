"""Rate limits per API key and per person; DRF answers 429 with a Retry-After header.

The counting itself (sliding windows, one atomic increment per request) lives in
rbac.rate_limits, which the log-in pipeline's failure counters share; the DRF throttle on
top of it is `SlidingWindowRateThrottle` here.
"""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from rbac.rate_limits import PACK, Rate, WindowCount, window_decrement, window_increment

__all__ = [
    "PACK", "APIKeyRateThrottle", "AnonymousRateThrottle", "SlidingWindowRateThrottle",
    "UserRateThrottle",
]


class SlidingWindowRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle's rates and cache keys, counted in two windows."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.counted = window_increment(
            key=self.key, duration=self.duration, now=self.now, cache=self.cache
        )
        self.count, self.previous = self.counted.count, self.counted.previous
        if self.counted.estimate <= self.num_requests:
            return True
        window_decrement(key=self.key, counted=self.counted, cache=self.cache)
        self.counted = WindowCount(
            self.count - 1, self.previous, self.now, self.counted.window_end, self.duration
        )
        self.count -= 1
        return self.throttle_failure()

    def parse_rate(self, rate):
        # DRF's "n/period" plus a multiple of the period: "30/15m".
        parsed = Rate.parse(rate)
        return (None, None) if parsed is None else (parsed.limit, parsed.seconds)

    def wait(self) -> float:
        """Return the seconds until one more request fits."""
        return self.counted.wait(self.num_requests)


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
