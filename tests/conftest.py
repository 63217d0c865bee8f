"""Shared fixtures, and which tests need a server that this run does not have."""

from __future__ import annotations

import os

import pytest

from tests import factories


def _database_vendor() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"


def pytest_collection_modifyitems(config, items):
    # Outside CI a test that needs PostgreSQL is skipped with a reason; in CI it must run.
    if _database_vendor() == "postgresql" or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://… to run it")
    for item in items:
        if "postgres_db" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def password() -> str:
    return factories.DEFAULT_PASSWORD


@pytest.fixture
def superuser(db):
    return factories.UserFactory(is_staff=True, is_superuser=True, email="root@example.test")


@pytest.fixture
def company(db):
    return factories.CompanyFactory(name="Acme", country="DE")
