"""After importing the sample, every known Core password logs in and is upgraded."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import get_hasher

from rbac.models import User

pytestmark = pytest.mark.slow


def test_every_known_core_password_logs_in_and_moves_to_the_default_hasher(imported, db, truth):
    default_algorithm = get_hasher("default").algorithm
    failures = []
    for known in truth["known_passwords"]:
        user = authenticate(username=known["email"], password=known["password"])
        if user is None:
            failures.append(known["email"])
            continue
        user.refresh_from_db()
        if not user.password.startswith(f"{default_algorithm}$"):
            failures.append((known["email"], user.password.split("$", 1)[0]))
    assert failures == []


def test_a_wrong_or_overlong_password_fails_for_an_imported_user(imported, db, truth):
    known = truth["known_passwords"][0]
    assert authenticate(username=known["email"], password=known["password"] + "x") is None
    assert authenticate(username=known["email"], password="p" * 100) is None


def test_known_core_password_logs_in_through_the_admin_form(imported, client, db, truth):
    known = truth["known_passwords"][1]
    User.objects.filter(email__iexact=known["email"].strip()).update(is_staff=True)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": known["email"], "password": known["password"], "next": "/admin/"},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
