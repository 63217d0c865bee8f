"""Rate limits count in a sliding window, answer with Retry-After, and are shared by every
process that shares the cache."""

from __future__ import annotations

import os
import uuid
from types import SimpleNamespace

import pytest
from django.core.cache.backends.locmem import LocMemCache

from backoffice.api.throttling import UserRateThrottle

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def request_of(user_id: int) -> SimpleNamespace:
    return SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=user_id))


def throttle_on(cache, *, rate: str, clock: list[float] | None = None) -> UserRateThrottle:
    throttle_class = type("Throttle", (UserRateThrottle,), {"cache": cache, "rate": rate})
    if clock is not None:
        throttle_class.timer = lambda self: clock[0]
    return throttle_class()


@pytest.fixture
def cache():
    return LocMemCache(f"throttle-{uuid.uuid4()}", {})


def test_a_refused_request_does_not_use_up_the_allowance(cache):
    clock = [600.0]
    allowed = [throttle_on(cache, rate="2/min", clock=clock).allow_request(request_of(1), None)
               for _ in range(5)]
    assert allowed == [True, True, False, False, False]
    # Had the refusals counted, the first window would weigh 5 and this would still refuse.
    clock[0] += 90
    assert throttle_on(cache, rate="2/min", clock=clock).allow_request(request_of(1), None)


def test_the_previous_window_still_counts_across_the_boundary(cache):
    clock = [659.0]  # the last second of a minute's window
    for _ in range(2):
        assert throttle_on(cache, rate="2/min", clock=clock).allow_request(request_of(1), None)
    clock[0] = 661.0  # a fixed window would allow two more here
    throttle = throttle_on(cache, rate="2/min", clock=clock)
    assert not throttle.allow_request(request_of(1), None)
    # Enough of the previous window falls out after half a minute: (2 * 29/60) + 1 <= 2.
    assert 29 <= throttle.wait() <= 31


def test_retry_after_points_into_the_next_window_when_this_one_is_full(cache):
    clock = [600.0]
    throttles = [throttle_on(cache, rate="2/min", clock=clock) for _ in range(3)]
    assert [t.allow_request(request_of(1), None) for t in throttles] == [True, True, False]
    wait = throttles[-1].wait()
    assert 60 <= wait <= 91  # the window ends at 660, then half of it must fall out
    clock[0] += wait
    assert throttle_on(cache, rate="2/min", clock=clock).allow_request(request_of(1), None)


def test_each_person_has_a_limit_of_their_own(cache):
    assert throttle_on(cache, rate="1/min").allow_request(request_of(1), None)
    assert throttle_on(cache, rate="1/min").allow_request(request_of(2), None)
    assert not throttle_on(cache, rate="1/min").allow_request(request_of(1), None)


@pytest.fixture
def redis_clients():
    """Two caches on one Redis server, each with a connection pool of its own, as two
    workers have."""
    from django.core.cache.backends.redis import RedisCache

    prefix = f"test-{uuid.uuid4()}"
    first, second = (RedisCache(REDIS_URL, {"KEY_PREFIX": prefix}) for _ in range(2))
    try:
        first.set("ping", 1, timeout=5)
    except Exception as error:  # noqa: BLE001 - any connection error means "no server"
        message = f"needs Redis at {REDIS_URL} (set REDIS_URL or start redis-server): {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    yield first, second  # no FLUSHDB on a shared server: the keys expire on their own
    for client in (first, second):
        client.close()


@pytest.mark.redis
def test_two_workers_sharing_redis_share_one_limit(redis_clients):
    first, second = redis_clients
    assert first._cache is not second._cache  # separate clients and connection pools
    clients = [first, second, first, second]
    allowed = [
        throttle_on(client, rate="3/min").allow_request(request_of(7), None)
        for client in clients
    ]
    assert allowed == [True, True, True, False]
    refused = throttle_on(second, rate="3/min")
    assert not refused.allow_request(request_of(7), None)
    assert refused.wait() >= 1


class CountingCache(LocMemCache):
    """A cache that counts the calls a round trip to Redis would cost."""

    def __init__(self) -> None:
        super().__init__(f"throttle-{uuid.uuid4()}", {})
        self.calls = 0

    def incr(self, *args, **kwargs):
        self.calls += 1
        return super().incr(*args, **kwargs)

    def get(self, *args, **kwargs):
        self.calls += 1
        return super().get(*args, **kwargs)

    def add(self, *args, **kwargs):
        self.calls += 1
        return super().add(*args, **kwargs)


def test_after_a_window_s_first_request_each_request_is_one_round_trip():
    cache, clock = CountingCache(), [600.0]
    for _ in range(3):
        throttle_on(cache, rate="10/min", clock=clock).allow_request(request_of(1), None)
    clock[0] = 665.0  # the next window: its first request reads the one before
    assert throttle_on(cache, rate="10/min", clock=clock).allow_request(request_of(1), None)
    cache.calls = 0
    throttle = throttle_on(cache, rate="10/min", clock=clock)
    assert throttle.allow_request(request_of(1), None)
    assert cache.calls == 1
    assert (throttle.previous, throttle.count) == (3, 2)
