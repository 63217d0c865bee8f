"""The PostgreSQL health check: no round trip on a sound connection, a real one otherwise."""

from __future__ import annotations

import select
import time

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql

pytestmark = [pytest.mark.postgres_db, pytest.mark.django_db]


@pytest.fixture
def second_connection():
    """A connection of its own, which the test may have the server end."""
    other = connections.create_connection("default")
    other.ensure_connection()
    yield other
    other.close()


def test_a_sound_idle_connection_is_usable_without_a_query(second_connection, monkeypatch):
    def round_trip(self):
        raise AssertionError("the sound connection was sent a query")

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", round_trip)
    assert second_connection.is_usable()


def test_a_connection_the_server_ended_is_not_usable(second_connection):
    with second_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    socket = second_connection.connection.fileno()
    deadline = time.monotonic() + 5
    while not select.select([socket], [], [], 0.05)[0] and time.monotonic() < deadline:
        pass
    assert not second_connection.is_usable()


def test_the_request_after_the_server_ended_its_connection_reconnects(second_connection):
    second_connection.health_check_enabled = True
    with second_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    second_connection.health_check_done = False  # a new request begins
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.05)
    with second_connection.cursor() as cursor:  # checked, found ended, reopened
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
