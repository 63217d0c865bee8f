"""Sliding-window counters in the default cache: the API's rate limits and failed log-ins.

The API's throttle classes built on them are in `backoffice.api.throttling`.

DRF's own throttles keep the timestamp of every allowed request in one cache value and
write the whole list back on every request: with 1,200 requests a minute allowed, that is
up to 1,200 timestamps read and written per request, and two workers sharing the cache
overwrite each other's lists. These count in windows instead, with one atomic increment
per event (atomic in Redis too, so every worker counts against the same limit), and
weigh the previous window by how much of it still falls within the last `duration`
seconds: a sliding window, without the burst of twice the rate that fixed windows allow
across their boundary.

A window's first event notes the previous window's count, which no longer changes, in the
new window's own value; every later event then reads both with its one atomic increment:
one round trip to Redis, not two.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from django.core.cache import caches

# A window's value in the cache: the previous window's final count * PACK + its own count.
PACK = 2**32
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$")


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    def parse(cls, text: str | None) -> Rate | None:
        """Return the rate of "10/min", "30/15m" or "100/hour"; None for none (no limit)."""
        if not text:
            return None
        match = _RATE.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a rate like 10/min or 30/15m.")
        limit, multiple, unit = match.groups()
        return cls(int(limit), int(multiple or 1) * _UNITS[unit])


@dataclass(frozen=True)
class WindowCount:
    """The events counted under one key: in the current window and in the previous one."""

    count: int
    previous: int
    now: float
    window_end: float
    duration: int

    @property
    def estimate(self) -> float:
        """Return the events within the last `duration` seconds, the previous window weighed."""
        elapsed = 1 - (self.window_end - self.now) / self.duration
        return self.count + self.previous * (1 - elapsed)

    def wait(self, limit: int) -> float:
        """Return the seconds until one more event fits under `limit`."""
        room = limit - self.count - 1  # events left beside the next one
        if room >= 0:
            # This window still has room: wait for enough of the previous one to fall out.
            share = 1 - room / self.previous if self.previous else 0
            at = self.window_end - self.duration * (1 - share)
        else:
            # Only in the next window, once enough of this one has fallen out.
            share = 1 - (limit - 1) / self.count if self.count else 0
            at = self.window_end + self.duration * max(share, 0)
        return max(1, math.ceil(at - self.now))


def _window_key(key: str, window: int) -> str:
    return f"{key}:{window}:sliding"


def window_increment(
    *, key: str, duration: int, now: float | None = None, cache=None
) -> WindowCount:
    """Count one event under `key`; return the counts it leaves, in one round trip."""
    cache = cache if cache is not None else caches["default"]
    now = time.time() if now is None else now
    window = int(now // duration)
    current = _window_key(key, window)
    try:
        packed = cache.incr(current)
    except ValueError:  # the window's first event
        previous = cache.get(_window_key(key, window - 1), 0) % PACK
        # Two windows long: the next window reads this one as its previous.
        if cache.add(current, previous * PACK + 1, timeout=2 * duration):
            packed = previous * PACK + 1
        else:
            packed = cache.incr(current)
    previous, count = divmod(packed, PACK)
    return WindowCount(count, previous, now, (window + 1) * duration, duration)


def window_decrement(*, key: str, counted: WindowCount, cache=None) -> None:
    """Take back an event counted by window_increment (a refused request uses up nothing)."""
    cache = cache if cache is not None else caches["default"]
    cache.decr(_window_key(key, int(counted.now // counted.duration)))


def windows_read(
    *, durations: dict[str, int], now: float | None = None, cache=None
) -> dict[str, WindowCount]:
    """Return the counts under several keys (key -> its window's seconds) without counting
    anything, in one round trip."""
    cache = cache if cache is not None else caches["default"]
    now = time.time() if now is None else now
    names = {}
    for key, duration in durations.items():
        window = int(now // duration)
        names[key] = (_window_key(key, window), _window_key(key, window - 1), window, duration)
    found = cache.get_many([name for current, before, _, _ in names.values()
                            for name in (current, before)])
    counts = {}
    for key, (current, before, window, duration) in names.items():
        if current in found:
            previous, count = divmod(found[current], PACK)
        else:
            previous, count = found.get(before, 0) % PACK, 0
        counts[key] = WindowCount(count, previous, now, (window + 1) * duration, duration)
    return counts
