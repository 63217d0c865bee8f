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


DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.fixture(autouse=True)
def built_in_roles(request):
    """Make sure the roles seeded by migrations exist.

    A transactional test empties every table when it ends (Django's flush), the roles of
    the data migration included; the tests after it would then find no role, or roles
    without their permissions.
    """
    uses_database = request.node.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(request.fixturenames)
    )
    if not uses_database:
        return
    request.getfixturevalue("_django_db_helper")
    from backoffice.projects.roles import PROJECT_ROLE_MODELS
    from rbac.models import Role
    from rbac.roles import RBAC_ROLE_MODELS, restore_built_in_roles

    # A serialized rollback can bring the role rows back without their permissions.
    complete = Role.objects.filter(
        slug="owner", permissions__codename__in=["delete_company", "delete_document"]
    ).count() == 2
    if not complete:
        restore_built_in_roles({"rbac": RBAC_ROLE_MODELS, "projects": PROJECT_ROLE_MODELS})


@pytest.fixture(autouse=True)
def no_profiles_from_earlier_tests():
    """Start each test without the access profiles this process kept.

    A rolled-back test rewinds the access versions and may hand its user ids to the next
    test, which a running server never sees: its versions only grow.
    """
    from django.core.cache import caches

    from rbac.access import forget_built_profiles

    forget_built_profiles()
    for cache in caches.all():  # kept list pages and rate-limit counters, for the same reason
        cache.clear()


@pytest.fixture
def password() -> str:
    return factories.DEFAULT_PASSWORD


@pytest.fixture
def superuser(db):
    return factories.UserFactory(is_staff=True, is_superuser=True, email="root@example.test")


@pytest.fixture
def company(db):
    return factories.CompanyFactory(name="Acme", country="DE")
