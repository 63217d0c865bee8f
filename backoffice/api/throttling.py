"""Rate limits per API key and per person; DRF answers 429 with a Retry-After header.

DRF's own throttles keep the timestamp of every allowed request in one cache value and
write the whole list back on every request: with 1,200 requests a minute allowed, that is
up to 1,200 timestamps read and written per request, and two workers sharing the cache
overwrite each other's lists. These count in windows instead, with one atomic increment
per request (atomic in Redis too, so every worker counts against the same limit), and
weigh the previous window by how much of it still falls within the last `duration`
seconds: a sliding window, without the burst of twice the rate that fixed windows allow
across their boundary.
"""

from __future__ import annotations

import math

from rest_framework.throttling import SimpleRateThrottle

# A window's value in the cache: the previous window's final count * PACK + its own count.
PACK = 2**32


class SlidingWindowRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle's rates and cache keys, counted in two windows.

    A window's first request notes the previous window's count, which no longer changes, in
    the new window's own value; every later request then reads both with its one atomic
    increment: one round trip to Redis, not two.
    """

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        current = self._window_key(window)
        self.window_end = (window + 1) * self.duration
        self.previous, self.count = divmod(self._increment(current, window), PACK)
        if self._estimate(self.count, self.previous) <= self.num_requests:
            return True
        self.cache.decr(current)  # a refused request does not use up the allowance
        self.count -= 1
        return self.throttle_failure()

    def _window_key(self, window: int) -> str:
        return f"{self.key}:{window}:sliding"

    def _increment(self, key: str, window: int) -> int:
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request
            previous = self.cache.get(self._window_key(window - 1), 0) % PACK
            # Two windows long: the next window reads this one as its previous.
            if self.cache.add(key, previous * PACK + 1, timeout=2 * self.duration):
                return previous * PACK + 1
            return self.cache.incr(key)

    def _estimate(self, count: int, previous: int) -> float:
        elapsed = 1 - (self.window_end - self.now) / self.duration
        return count + previous * (1 - elapsed)

    def wait(self) -> float:
        """Return the seconds until one more request fits."""
        room = self.num_requests - self.count - 1  # requests left beside the next one
        if room >= 0:
            # This window still has room: wait for enough of the previous one to fall out.
            share = 1 - room / self.previous if self.previous else 0
            at = self.window_end - self.duration * (1 - share)
        else:
            # Only in the next window, once enough of this one has fallen out.
            share = 1 - (self.num_requests - 1) / self.count if self.count else 0
            at = self.window_end + self.duration * max(share, 0)
        return max(1, math.ceil(at - self.now))


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
