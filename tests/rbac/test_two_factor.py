"""TOTP for staff: asked of everyone with a device, required of superusers in production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from rbac.two_factor import TwoFactorAdminLoginForm
from tests.factories import DEFAULT_PASSWORD, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def admin_login_with_two_factor(monkeypatch):
    # What rbac/admin.py installs; set here so these tests do not depend on it.
    monkeypatch.setattr(admin.site, "login_form", TwoFactorAdminLoginForm)
    monkeypatch.setattr(admin.site, "login_template", "otp/admin111/login.html")


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _login(client, user, **extra):
    data = {"username": user.email, "password": DEFAULT_PASSWORD, **extra}
    return client.post("/admin/login/", data)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_staff_with_a_totp_device_cannot_log_in_without_the_code(client):
    staff = StaffUserFactory()
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)

    response = _login(client, staff)

    assert response.status_code == 200
    assert not _logged_in(client)


def test_staff_with_a_totp_device_logs_in_with_the_code_and_is_verified(client):
    staff = StaffUserFactory()
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)

    response = _login(client, staff, otp_token=_code(device))

    assert response.status_code == 302
    assert _logged_in(client)
    assert client.session.get("otp_device_id") == device.persistent_id


def test_staff_without_a_device_log_in_with_the_password_alone(client):
    staff = StaffUserFactory()

    assert _login(client, staff).status_code == 302


def test_a_superuser_without_a_device_is_refused_where_two_factor_is_required(client, settings):
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True
    root = UserFactory(is_staff=True, is_superuser=True)

    response = _login(client, root)

    assert not _logged_in(client)
    assert b"second factor" in response.content


def test_an_unverified_superuser_session_is_sent_back_to_the_log_in(client, settings):
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_token_endpoint_asks_a_person_with_a_device_for_the_code(client):
    staff = StaffUserFactory()
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    data = {"grant_type": "password", "username": staff.email, "password": DEFAULT_PASSWORD}

    without = client.post("/api/v1/auth/token", data)
    with_code = client.post("/api/v1/auth/token", {**data, "otp_token": _code(device)})

    assert without.status_code == 400 and without.json()["error"] == "invalid_grant"
    assert with_code.status_code == 200


def test_production_settings_require_two_factor_for_superusers():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/db",
        "AWS_STORAGE_BUCKET_NAME": "bucket",
        "DJANGO_ALLOWED_HOSTS": "backoffice.example.test",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.OTP_REQUIRED_FOR_SUPERUSERS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, check=True
    ).stdout

    assert out.split() == ["True", "True", "True"]
