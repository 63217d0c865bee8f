"""/readyz: ready only when the database answers and has every migration of this code."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection

from backoffice import urls

pytestmark = pytest.mark.django_db


def test_ready_when_every_migration_is_applied(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_not_ready_while_a_migration_of_this_code_is_unapplied(client):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'rbac' AND name = '0001_initial'"
        )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "unapplied_migrations": 1,
    }


def test_a_squashed_migration_counts_as_applied_when_what_it_replaces_is(client, monkeypatch):
    nodes, replaces = urls._code_migrations()
    squash = ("rbac", "0001_squashed_demo")
    monkeypatch.setattr(
        urls,
        "_code_migrations",
        lambda: (nodes | {squash}, {**replaces, squash: (("rbac", "0001_initial"),)}),
    )
    assert client.get("/readyz").status_code == 200
    monkeypatch.setattr(
        urls,
        "_code_migrations",
        lambda: (nodes | {squash}, {**replaces, squash: (("rbac", "9999_missing"),)}),
    )
    assert client.get("/readyz").status_code == 503


def test_not_ready_when_the_database_does_not_answer(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
