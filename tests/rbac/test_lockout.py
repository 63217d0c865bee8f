"""Repeated failures lock a log-in (admin and token endpoint) until cool-off or an unlock."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command

from tests.factories import (
    DEFAULT_PASSWORD,
    CompanyFactory,
    StaffUserFactory,
    core_api_client,
    legacy_rows,
    legacy_truth,
)

pytestmark = pytest.mark.django_db

LIMIT = 3
TOKEN = "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def _admin_login(client, email: str, password: str):
    return client.post("/admin/login/", {"username": email, "password": password})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_admin_login_locks_after_the_configured_failures_and_unlocks_with_axes_reset(client):
    staff = StaffUserFactory(email="staff@example.test")
    for _ in range(LIMIT):
        _admin_login(client, staff.email, "wrong")

    locked = _admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert locked.status_code == 429
    assert b"locked" in locked.content
    assert not _logged_in(client)

    call_command("axes_reset_username", "staff@example.test")
    assert _admin_login(client, staff.email, DEFAULT_PASSWORD).status_code == 302
    assert _logged_in(client)


def test_one_failure_fewer_than_the_limit_does_not_lock(client):
    staff = StaffUserFactory(email="staff@example.test")
    for _ in range(LIMIT - 1):
        _admin_login(client, staff.email, "wrong")

    assert _admin_login(client, staff.email, DEFAULT_PASSWORD).status_code == 302


def test_differently_cased_emails_count_as_one_person(client):
    staff = StaffUserFactory(email="staff@example.test")
    for variant in ("STAFF@example.test", " staff@example.test", "Staff@Example.Test"):
        _admin_login(client, variant, "wrong")

    assert _admin_login(client, staff.email, DEFAULT_PASSWORD).status_code == 429


def test_a_lock_holds_for_one_address_not_for_everyone(client):
    staff = StaffUserFactory(email="staff@example.test")
    for _ in range(LIMIT):
        _admin_login(client, staff.email, "wrong")

    elsewhere = client.post(
        "/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )

    assert elsewhere.status_code == 302


def _password_grant(client, email: str, password: str):
    return client.post(TOKEN, {"grant_type": "password", "username": email, "password": password})


def test_token_endpoint_locks_a_person_and_the_lock_ends_after_the_cool_off(client):
    staff = StaffUserFactory(email="anna@example.test")
    for _ in range(LIMIT):
        assert _password_grant(client, staff.email, "wrong").status_code in (400, 429)

    locked = _password_grant(client, staff.email, DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["error"] == "invalid_grant"
    assert "locked" in locked.json()["error_description"]

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - timedelta(minutes=16))
    assert _password_grant(client, staff.email, DEFAULT_PASSWORD).status_code == 200


def test_token_endpoint_locks_a_core_client_by_client_id(client):
    known = next(c for c in legacy_truth()["known_core_clients"] if not c["revoked"])
    rows = legacy_rows("core", "api_clients")
    row = next(r for r in rows if r["client_id"] == known["client_id"])
    core_api_client(company=CompanyFactory(), row=row)
    data = {"grant_type": "client_credentials", "client_id": known["client_id"]}
    for _ in range(LIMIT):
        client.post(TOKEN, {**data, "client_secret": "wrong"})

    locked = client.post(TOKEN, {**data, "client_secret": known["secret"]})

    assert locked.status_code == 429
    assert locked.json()["error"] == "invalid_client"
