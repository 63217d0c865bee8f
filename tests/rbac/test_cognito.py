"""Portal users move their Cognito password over at their first log-in (moto's Cognito)."""

import json
import socket

import boto3
import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from moto.server import ThreadedMotoServer

from rbac import cognito
from tests.factories import LEGACY_SAMPLE, UserFactory, portal_user

pytestmark = pytest.mark.django_db

REGION = "eu-central-1"
COGNITO_PASSWORD = "Portal-Passw0rd!"


def _sample_pool_user() -> dict:
    """A confirmed, enabled user of the sample's Cognito export."""
    users = json.loads((LEGACY_SAMPLE / "cognito-users.json").read_text())["Users"]
    user = next(u for u in users if u["Enabled"] and u["UserStatus"] == "CONFIRMED")
    attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
    return {"sub": user["Username"], "email": attributes["email"]}


@pytest.fixture(scope="module")
def moto_cognito():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def pool(moto_cognito, settings, monkeypatch):
    """A pool and app client like Portal's, holding one sample user with a known password."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    admin = boto3.client("cognito-idp", region_name=REGION, endpoint_url=moto_cognito)
    pool_id = admin.create_user_pool(PoolName="portal")["UserPool"]["Id"]
    client_id = admin.create_user_pool_client(
        UserPoolId=pool_id, ClientName="portal-web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    sample = _sample_pool_user()
    admin.admin_create_user(
        UserPoolId=pool_id, Username=sample["sub"],
        UserAttributes=[{"Name": "email", "Value": sample["email"]}],
    )
    admin.admin_set_user_password(
        UserPoolId=pool_id, Username=sample["sub"], Password=COGNITO_PASSWORD, Permanent=True
    )
    settings.COGNITO_USER_POOL_ID = pool_id
    settings.COGNITO_APP_CLIENT_ID = client_id
    settings.COGNITO_REGION = REGION
    settings.COGNITO_ENDPOINT_URL = moto_cognito
    settings.COGNITO_TIMEOUT_SECONDS = 2
    return {"admin": admin, "pool_id": pool_id, **sample}


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _log_in(email: str, password: str):
    return authenticate(RequestFactory().post("/admin/login/"), username=email, password=password)


def test_portal_user_logs_in_with_cognito_password_then_again_with_cognito_unreachable(
    pool, settings
):
    user = portal_user(email=pool["email"], cognito_sub=pool["sub"])

    assert _log_in(pool["email"], COGNITO_PASSWORD) == user
    user.refresh_from_db()
    assert user.has_usable_password()

    settings.COGNITO_ENDPOINT_URL = _closed_port_url()
    assert not cognito.cognito_password_valid(cognito_sub=pool["sub"], password=COGNITO_PASSWORD)
    assert _log_in(pool["email"], COGNITO_PASSWORD) == user


def test_wrong_cognito_password_fails_and_stores_nothing(pool):
    user = portal_user(email=pool["email"], cognito_sub=pool["sub"])
    before = user.password

    assert _log_in(pool["email"], "not the password") is None

    user.refresh_from_db()
    assert user.password == before
    assert not user.has_usable_password()


def test_unreachable_cognito_is_an_ordinary_failed_log_in(pool, settings):
    settings.COGNITO_ENDPOINT_URL = _closed_port_url()
    user = portal_user(email=pool["email"], cognito_sub=pool["sub"])

    assert _log_in(pool["email"], COGNITO_PASSWORD) is None

    user.refresh_from_db()
    assert not user.has_usable_password()


def test_a_user_whose_cognito_password_must_be_changed_is_not_migrated(pool):
    pool["admin"].admin_create_user(
        UserPoolId=pool["pool_id"], Username="temporary-sub", TemporaryPassword="Temp-Passw0rd!"
    )
    user = portal_user(email="temp@example.test", cognito_sub="temporary-sub")

    assert _log_in("temp@example.test", "Temp-Passw0rd!") is None
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_an_inactive_portal_user_is_not_sent_to_cognito(pool, monkeypatch):
    user = portal_user(email=pool["email"], cognito_sub=pool["sub"])
    user.is_active = False
    user.save()
    monkeypatch.setattr(cognito, "cognito_password_valid", _must_not_be_called)

    assert _log_in(pool["email"], COGNITO_PASSWORD) is None


def test_a_user_with_a_password_of_ours_is_never_sent_to_cognito(pool, monkeypatch):
    UserFactory(email="migrated@example.test", cognito_sub="some-sub")
    monkeypatch.setattr(cognito, "cognito_password_valid", _must_not_be_called)

    assert _log_in("migrated@example.test", COGNITO_PASSWORD) is None


def test_the_backend_is_off_without_cognito_settings(settings, monkeypatch):
    settings.COGNITO_USER_POOL_ID = None
    settings.COGNITO_APP_CLIENT_ID = None
    portal_user(email="p@example.test", cognito_sub="sub-1")
    monkeypatch.setattr(cognito, "cognito_password_valid", _must_not_be_called)

    assert _log_in("p@example.test", COGNITO_PASSWORD) is None


def _must_not_be_called(**kwargs):
    raise AssertionError("Cognito must not be asked")
