"""One log-in gate for every entry point: lock-out, failure rate limits and two-factor.

The entry points: the admin log-in form, the token endpoint (password grant with
`username` or `email`; client_credentials with a Core client secret), and API keys. HTTP
Basic is no longer one (finding 2). Two-factor concerns people only: keys and Core clients
are not people and have no second factor.
"""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

import bcrypt
import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.models import UserObjectPermission

from backoffice.api.token_views import TokenEndpointRateThrottle
from rbac.models import APIKey, CompanyUserObjectPermission
from rbac.tokens import api_key_create
from rbac.two_factor import TwoFactorAdminLoginForm
from tests.factories import (
    DEFAULT_PASSWORD,
    CompanyFactory,
    StaffUserFactory,
    UserFactory,
    core_user,
)

pytestmark = pytest.mark.django_db

LIMIT = 3
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/me/"
ELSEWHERE = "198.51.100.7"
CLIENT_ID = "core-client-7"
CLIENT_SECRET = "the client's long secret"


@pytest.fixture(autouse=True)
def gate_on(settings, monkeypatch):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    # The admin's form, as rbac/admin.py installs it.
    monkeypatch.setattr(admin.site, "login_form", TwoFactorAdminLoginForm)
    monkeypatch.setattr(admin.site, "login_template", "otp/admin111/login.html")


@pytest.fixture
def person():
    return StaffUserFactory(email="anna@example.test")


@pytest.fixture
def core_client():
    hashed = bcrypt.hashpw(CLIENT_SECRET.encode(), bcrypt.gensalt(4)).decode()
    return APIKey.objects.create(
        company=CompanyFactory(), name="Core client", prefix=CLIENT_ID, hashed_key=hashed,
        hash_scheme=APIKey.Scheme.BCRYPT, scopes="read write",
    )


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _admin_login(client, email: str, password: str, **extra):
    return client.post("/admin/login/", {"username": email, "password": password, **extra})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _password_grant(client, field: str, email: str, password: str, **extra):
    data = {"grant_type": "password", field: email, "password": password, **extra}
    return client.post(TOKEN, data, **_address(extra))


def _address(extra: dict) -> dict:
    return {"REMOTE_ADDR": extra.pop("REMOTE_ADDR")} if "REMOTE_ADDR" in extra else {}


def _client_grant(client, secret: str, **meta):
    data = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": secret}
    return client.post(TOKEN, data, **meta)


def _with_key(client, raw_key: str, **meta):
    return client.get(ME, headers={"X-Api-Key": raw_key}, **meta)


def _wrong_key_of_the_same_prefix(raw_key: str) -> str:
    return raw_key[:8] + ("0" if raw_key[8] != "0" else "1") + raw_key[9:]


# --- finding 2: HTTP Basic ----------------------------------------------------------------


def test_finding2_http_basic_on_the_api_is_refused_for_a_two_factor_superuser(client):
    root = UserFactory(is_staff=True, is_superuser=True, email="root@example.test")
    TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    company = CompanyFactory()
    basic = base64.b64encode(f"{root.email}:{DEFAULT_PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}"}

    me = client.get(ME, headers=headers)
    grant = client.post(
        "/api/v1/grants/",
        {"user": root.pk, "permission": "view", "object_type": "company",
         "object_id": company.pk},
        headers=headers, content_type="application/json",
    )

    assert me.status_code == 401
    assert grant.status_code == 401
    assert not UserObjectPermission.objects.exists()
    assert not CompanyUserObjectPermission.objects.exists()


def test_finding2_http_basic_is_refused_for_anyone_even_without_two_factor(client, person):
    basic = base64.b64encode(f"{person.email}:{DEFAULT_PASSWORD}".encode()).decode()

    assert client.get(ME, headers={"Authorization": f"Basic {basic}"}).status_code == 401


# --- finding 3: lock-out on every entry point ----------------------------------------------


@pytest.mark.parametrize("failing_field", ["email", "username"])
@pytest.mark.parametrize("right_field", ["email", "username"])
def test_finding3_token_endpoint_locks_whichever_field_carries_the_email(
    client, person, failing_field, right_field
):
    for _ in range(LIMIT):
        _password_grant(client, failing_field, "Anna@Example.test ", "wrong")

    locked = _password_grant(client, right_field, person.email, DEFAULT_PASSWORD)
    wrong = _password_grant(client, right_field, person.email, "still wrong")

    assert locked.status_code == 429
    assert locked.json() == wrong.json()
    assert "locked" in locked.json()["error_description"]


def test_finding3_admin_form_locks_and_a_right_password_answers_as_a_wrong_one(client, person):
    for _ in range(LIMIT):
        _admin_login(client, person.email, "wrong")

    locked = _admin_login(client, person.email, DEFAULT_PASSWORD)
    wrong = _admin_login(client, person.email, "still wrong")

    assert locked.status_code == wrong.status_code == 429
    assert locked.content == wrong.content
    assert not _logged_in(client)


def test_finding3_admin_and_token_endpoint_count_failures_together(client, person):
    _admin_login(client, person.email, "wrong")
    _password_grant(client, "email", person.email, "wrong")
    _password_grant(client, "username", person.email, "wrong")

    assert _admin_login(client, person.email, DEFAULT_PASSWORD).status_code == 429
    assert _password_grant(client, "email", person.email, DEFAULT_PASSWORD).status_code == 429


def test_finding3_api_key_failures_lock_the_key_at_that_address(client):
    company = CompanyFactory()
    _, raw = api_key_create(company=company, name="k", scopes={"read"})
    wrong = _wrong_key_of_the_same_prefix(raw)
    answers = [_with_key(client, wrong) for _ in range(LIMIT)]
    assert [answer.status_code for answer in answers] == [401] * (LIMIT - 1) + [429]
    assert answers[-1].json()["error"]["code"] == "locked"  # the API's shape, not OAuth's

    locked = _with_key(client, raw)
    still_wrong = _with_key(client, wrong)

    assert locked.status_code == still_wrong.status_code == 429
    assert locked.json() == still_wrong.json()
    assert "locked" in locked.json()["error"]["message"]
    assert _with_key(client, raw, REMOTE_ADDR=ELSEWHERE).status_code == 200


def test_finding3_a_right_api_key_without_failures_asks_no_lock_out_table(client):
    _, raw = api_key_create(company=CompanyFactory(), name="k", scopes={"read"})

    with CaptureQueriesContext(connection) as queries:
        response = _with_key(client, raw)

    assert response.status_code == 200
    assert not [q for q in queries.captured_queries if "axes_" in q["sql"]]


def test_finding3_after_a_failure_the_api_key_path_asks_the_lock_out_table(client):
    _, raw = api_key_create(company=CompanyFactory(), name="k", scopes={"read"})
    _with_key(client, _wrong_key_of_the_same_prefix(raw))

    with CaptureQueriesContext(connection) as queries:
        response = _with_key(client, raw)

    assert response.status_code == 200
    assert [q for q in queries.captured_queries if "axes_accessattempt" in q["sql"]]


def test_finding3_core_client_secret_failures_lock_the_client_id(client, core_client):
    answers = [_client_grant(client, "wrong") for _ in range(LIMIT)]
    assert [answer.status_code for answer in answers] == [401] * (LIMIT - 1) + [429]
    assert answers[-1].json()["error"] == "invalid_client"

    locked = _client_grant(client, CLIENT_SECRET)
    wrong = _client_grant(client, "still wrong")

    assert locked.status_code == wrong.status_code == 429
    assert locked.json() == wrong.json()
    assert locked.json()["error"] == "invalid_client"
    assert _client_grant(client, CLIENT_SECRET, REMOTE_ADDR=ELSEWHERE).status_code == 200


def test_finding3_core_client_secret_in_http_basic_is_locked_too(client, core_client):
    for _ in range(LIMIT):
        _client_grant(client, "wrong")
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()

    locked = client.post(TOKEN, {"grant_type": "client_credentials"},
                         headers={"Authorization": f"Basic {basic}"})

    assert locked.status_code == 429


# --- finding 3: failures rate-limited per address and per account ---------------------------


def test_finding3_failures_from_one_address_are_throttled_whatever_the_account(
    client, settings, person
):
    settings.AXES_ENABLED = False  # the rate limit alone
    settings.LOGIN_FAILURE_RATE_PER_IP = "4/15m"
    for number in range(4):
        _password_grant(client, "email", f"nobody{number}@example.test", "guess")

    throttled = _password_grant(client, "email", person.email, DEFAULT_PASSWORD)
    admin_form = _admin_login(client, person.email, DEFAULT_PASSWORD)

    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.json()["error_description"]
    assert int(throttled["Retry-After"]) >= 1
    assert not _logged_in(client) and admin_form.status_code == 200
    assert _password_grant(
        client, "email", person.email, DEFAULT_PASSWORD, REMOTE_ADDR=ELSEWHERE
    ).status_code == 200


def test_finding3_failures_on_one_account_are_throttled_whatever_the_address(
    client, settings, person
):
    settings.LOGIN_FAILURE_RATE_PER_ACCOUNT = "4/15m"
    for number in range(4):  # below axes' limit at each address
        _password_grant(client, "email", person.email, "guess", REMOTE_ADDR=f"192.0.2.{number}")

    throttled = _password_grant(
        client, "username", person.email, DEFAULT_PASSWORD, REMOTE_ADDR="192.0.2.99"
    )

    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.json()["error_description"]


def test_finding3_api_key_failures_count_against_the_address_for_every_entry_point(
    client, settings, person
):
    settings.LOGIN_FAILURE_RATE_PER_IP = "4/15m"
    for number in range(4):
        _with_key(client, f"pk_{number:05d}{'0' * 27}")

    assert _password_grant(client, "email", person.email, DEFAULT_PASSWORD).status_code == 429


def test_finding3_unknown_bearer_tokens_are_throttled_per_address(client, settings):
    settings.LOGIN_FAILURE_RATE_PER_IP = "4/15m"
    answers = [
        client.get(ME, headers={"Authorization": f"Bearer at_guess{number}"}).status_code
        for number in range(6)
    ]

    assert answers[:4] == [401] * 4
    assert answers[4:] == [429, 429]


def test_finding3_the_token_endpoint_has_a_rate_limit_of_its_own(client, monkeypatch, person):
    monkeypatch.setattr(TokenEndpointRateThrottle, "rate", "3/min", raising=False)
    answers = [
        _password_grant(client, "email", person.email, DEFAULT_PASSWORD).status_code
        for _ in range(4)
    ]

    assert answers == [200, 200, 200, 429]


# --- two-factor on every entry point for people; finding 9 ---------------------------------


@pytest.mark.parametrize("field", ["email", "username"])
def test_finding9_token_endpoint_answers_a_right_password_without_code_as_a_wrong_one(
    client, person, field
):
    TOTPDevice.objects.create(user=person, name="phone", confirmed=True)

    right = _password_grant(client, field, person.email, DEFAULT_PASSWORD)
    wrong = _password_grant(client, field, person.email, "wrong")

    assert right.status_code == wrong.status_code == 400
    assert right.json() == wrong.json()
    assert AccessAttempt.objects.get().failures_since_start == 2


@pytest.mark.parametrize("field", ["email", "username"])
def test_finding3_two_factor_failures_lock_the_token_endpoint_even_with_the_code(
    client, person, field
):
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    for _ in range(LIMIT):
        _password_grant(client, field, person.email, DEFAULT_PASSWORD)

    locked = _password_grant(client, field, person.email, DEFAULT_PASSWORD,
                             otp_token=_code(device))

    assert locked.status_code == 429


@pytest.mark.parametrize("field", ["email", "username"])
def test_two_factor_on_the_token_endpoint_lets_the_right_code_through(client, person, field):
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)

    response = _password_grant(client, field, person.email, DEFAULT_PASSWORD,
                               otp_token=_code(device))

    assert response.status_code == 200


def test_finding9_admin_form_counts_a_right_password_without_code_and_answers_as_a_wrong_one(
    client, person
):
    TOTPDevice.objects.create(user=person, name="phone", confirmed=True)

    right = _admin_login(client, person.email, DEFAULT_PASSWORD)
    wrong = _admin_login(client, person.email, "wrong")

    assert not _logged_in(client)
    assert right.context["form"].errors == wrong.context["form"].errors
    assert AccessAttempt.objects.get().failures_since_start == 2


def test_finding3_two_factor_failures_lock_the_admin_form_even_with_the_code(client, person):
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    for _ in range(LIMIT):
        _admin_login(client, person.email, DEFAULT_PASSWORD)

    locked = _admin_login(client, person.email, DEFAULT_PASSWORD, otp_token=_code(device))

    assert locked.status_code == 429
    assert not _logged_in(client)


def test_a_right_log_in_with_its_code_clears_the_failures_at_that_address(client, person):
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    _password_grant(client, "email", person.email, "wrong")

    assert _password_grant(client, "email", person.email, DEFAULT_PASSWORD,
                           otp_token=_code(device)).status_code == 200
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()


def test_finding9_a_right_password_of_a_non_staff_person_in_the_admin_counts_as_a_failure(
    client,
):
    outsider = UserFactory(email="outsider@example.test")

    _admin_login(client, outsider.email, DEFAULT_PASSWORD)

    assert AccessAttempt.objects.get().failures_since_start == 1


# --- finding 9: password reset -------------------------------------------------------------


def test_finding9_password_reset_mails_one_address_at_most_the_rate(client, settings, person):
    settings.PASSWORD_RESET_RATE_PER_EMAIL = "2/h"
    answers = [
        client.post("/accounts/password_reset/", {"email": person.email}).status_code
        for _ in range(4)
    ]

    assert answers == [302] * 4  # the same page whether mailed or not: it tells nothing
    assert len(mail.outbox) == 2


def test_finding9_password_reset_from_one_address_is_limited_whatever_the_email(
    client, settings
):
    settings.PASSWORD_RESET_RATE_PER_IP = "2/h"
    people = [UserFactory(email=f"p{number}@example.test") for number in range(4)]
    for someone in people:
        client.post("/accounts/password_reset/", {"email": someone.email})

    assert len(mail.outbox) == 2
    client.post("/accounts/password_reset/", {"email": people[3].email}, REMOTE_ADDR=ELSEWHERE)
    assert len(mail.outbox) == 3


# --- finding 7: a malformed stored bcrypt hash ---------------------------------------------


def _malformed_bcrypt_hash() -> str:
    """A real jBCrypt-style hash whose salt's last character is not canonical."""
    real = bcrypt.hashpw(DEFAULT_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    real = "$2a$" + real[4:]
    # The 22nd salt character carries 2 bits: only ".Oeu" are canonical.
    malformed = real[:28] + "Z" + real[29:]
    with pytest.raises(ValueError, match="Invalid salt"):
        bcrypt.checkpw(DEFAULT_PASSWORD.encode(), malformed.encode())
    return malformed


@pytest.fixture
def malformed_legacy_user():
    user = core_user(email="legacy@example.test", password_hash=_malformed_bcrypt_hash())
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def test_finding7_a_malformed_legacy_hash_is_a_failed_admin_log_in_not_a_500(
    client, malformed_legacy_user, caplog
):
    with caplog.at_level(logging.WARNING, logger="rbac.hashers"):
        response = _admin_login(client, malformed_legacy_user.email, DEFAULT_PASSWORD)

    assert response.status_code == 200
    assert not _logged_in(client)
    assert "cannot be read" in caplog.text
    assert malformed_legacy_user.password.split("$", 2)[2][7:] not in caplog.text
    assert DEFAULT_PASSWORD not in caplog.text
    assert AccessAttempt.objects.get().failures_since_start == 1


@pytest.mark.parametrize("field", ["email", "username"])
def test_finding7_a_malformed_legacy_hash_is_a_failed_token_grant_not_a_500(
    client, malformed_legacy_user, field, caplog
):
    with caplog.at_level(logging.WARNING, logger="rbac.hashers"):
        response = _password_grant(client, field, malformed_legacy_user.email, DEFAULT_PASSWORD)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "cannot be read" in caplog.text
