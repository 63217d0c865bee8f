"""Core's bcrypt passwords log in and move to the default hasher; invitations and resets."""

import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import get_hasher
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from backoffice.settings import base as base_settings
from rbac.hashers import bcrypt_secret_matches
from rbac.invitations import password_invites_send, users_without_password
from tests.factories import UserFactory, core_user, legacy_rows, legacy_truth, portal_user

pytestmark = pytest.mark.django_db

TRUTH = legacy_truth()
CORE_HASHES = {row["id"]: row["password_hash"] for row in legacy_rows("core", "users")}
KNOWN = [entry for entry in TRUTH["known_passwords"] if entry["source"] == "core"]


def _log_in(email: str, password: str):
    return authenticate(RequestFactory().post("/admin/login/"), username=email, password=password)


def _core_user(entry: dict):
    return core_user(email=entry["email"], password_hash=CORE_HASHES[str(entry["legacy_id"])])


@pytest.mark.parametrize("entry", KNOWN, ids=[entry["email"] for entry in KNOWN])
def test_every_known_core_password_logs_in_and_is_rehashed_with_the_default_hasher(entry):
    user = _core_user(entry)
    assert user.password.startswith("bcrypt$$2a$10$")

    assert _log_in(entry["email"], entry["password"]) == user

    user.refresh_from_db()
    assert user.password.split("$", 1)[0] == get_hasher("default").algorithm
    assert _log_in(entry["email"], entry["password"]) == user


def test_core_password_is_upgraded_to_argon2_with_the_project_hashers(settings):
    settings.PASSWORD_HASHERS = base_settings.PASSWORD_HASHERS
    entry = KNOWN[0]
    user = _core_user(entry)

    assert _log_in(entry["email"].upper(), entry["password"]) == user

    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def test_wrong_password_for_a_core_user_fails_and_keeps_the_legacy_hash():
    entry = KNOWN[0]
    user = _core_user(entry)

    assert _log_in(entry["email"], entry["password"] + "x") is None

    user.refresh_from_db()
    assert user.password == f"bcrypt${CORE_HASHES[str(entry['legacy_id'])]}"


@pytest.mark.parametrize("suffix", ["", "x"])
def test_a_100_byte_password_is_a_wrong_password_not_an_error(suffix):
    entry = KNOWN[0]
    _core_user(entry)
    # Even the right password with padding: bcrypt would see only its first 72 bytes.
    long_password = (entry["password"] + suffix).ljust(100, "a")
    assert len(long_password.encode()) == 100

    assert _log_in(entry["email"], long_password) is None


def test_a_100_byte_multibyte_password_fails_cleanly():
    entry = KNOWN[0]
    _core_user(entry)

    assert _log_in(entry["email"], "ü" * 50) is None


def test_an_unknown_email_spends_the_default_hasher_like_a_known_one(monkeypatch):
    hasher_class = type(get_hasher("default"))
    calls = []
    original = hasher_class.encode
    monkeypatch.setattr(
        hasher_class, "encode", lambda self, *args: calls.append(1) or original(self, *args)
    )

    assert _log_in("nobody@example.test", "whatever") is None

    assert calls, "an unknown e-mail must cost a hash, or timing tells who has an account"


def test_a_wrong_legacy_password_spends_the_default_hasher_as_a_right_one_does(monkeypatch):
    entry = KNOWN[0]
    _core_user(entry)
    hasher_class = type(get_hasher("default"))
    calls = []
    original = hasher_class.encode
    monkeypatch.setattr(
        hasher_class, "encode", lambda self, *args: calls.append(1) or original(self, *args)
    )

    assert _log_in(entry["email"], "wrong") is None

    assert calls, "a wrong legacy password must cost the re-hash a right one costs"


def test_a_user_without_a_password_spends_the_default_hasher_too(monkeypatch):
    portal_user(email="p@example.test", cognito_sub="sub-1")
    hasher_class = type(get_hasher("default"))
    calls = []
    original = hasher_class.encode
    monkeypatch.setattr(
        hasher_class, "encode", lambda self, *args: calls.append(1) or original(self, *args)
    )

    assert _log_in("p@example.test", "whatever") is None

    assert calls


@pytest.mark.parametrize(
    ("secret", "hashed"),
    [
        ("x" * 73, None),
        ("secret", "not a bcrypt hash"),
        ("secret", ""),
        ("secret", None),
    ],
)
def test_bcrypt_secret_check_refuses_without_raising(secret, hashed):
    assert bcrypt_secret_matches(secret, hashed) is False


def test_bcrypt_secret_check_refuses_a_right_secret_padded_past_72_bytes():
    client = TRUTH["known_core_clients"][0]
    rows = legacy_rows("core", "api_clients")
    row = next(r for r in rows if r["client_id"] == client["client_id"])

    assert bcrypt_secret_matches(client["secret"], row["client_secret_hash"])
    assert not bcrypt_secret_matches(client["secret"].ljust(80, "z"), row["client_secret_hash"])


# --- set-password invitations -----------------------------------------------------------


def _link(message) -> str:
    return re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)


def test_invite_unmigrated_dry_run_lists_users_without_password_and_sends_nothing(capsys):
    portal_user(email="portal@example.test", cognito_sub="sub-1")
    UserFactory(email="has-password@example.test")

    call_command("invite_unmigrated", "--dry-run")

    out = capsys.readouterr().out
    assert "portal@example.test" in out
    assert "has-password@example.test" not in out
    assert mail.outbox == []


def test_invite_unmigrated_sends_one_set_password_email_per_active_user_without_password():
    portal_user(email="a@example.test", cognito_sub="sub-a")
    portal_user(email="b@example.test", cognito_sub="sub-b")
    inactive = portal_user(email="gone@example.test", cognito_sub="sub-c")
    inactive.is_active = False
    inactive.save()
    UserFactory(email="has-password@example.test")

    call_command("invite_unmigrated", "--base-url", "https://backoffice.example.test")

    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.test", "b@example.test"]
    assert mail.outbox[0].subject == "Set your password for the new back-office"
    assert _link(mail.outbox[0]).startswith("https://backoffice.example.test/accounts/reset/")


def test_the_invitation_link_sets_a_password_that_then_logs_in(client):
    user = portal_user(email="a@example.test", cognito_sub="sub-a")
    password_invites_send(users=[user], base_url="http://testserver")
    path = _link(mail.outbox[0]).removeprefix("http://testserver")

    form_page = client.get(path, follow=True)
    new_password = "a much longer passphrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )

    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)
    assert not users_without_password().filter(pk=user.pk).exists()


def test_invite_unmigrated_without_a_base_url_says_what_to_set(settings):
    settings.PASSWORD_INVITE_BASE_URL = None
    portal_user(email="a@example.test", cognito_sub="sub-a")

    with pytest.raises(CommandError, match="PASSWORD_INVITE_BASE_URL"):
        call_command("invite_unmigrated")


def test_password_reset_page_also_mails_a_user_without_a_usable_password(client):
    portal_user(email="portal@example.test", cognito_sub="sub-1")

    response = client.post("/accounts/password_reset/", {"email": "Portal@Example.test"})

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["portal@example.test"]]
    assert "/accounts/reset/" in mail.outbox[0].body


def test_password_reset_page_renders_our_template(client):
    response = client.get("/accounts/password_reset/")

    assert response.status_code == 200
    assert "registration/password_reset_form.html" in [t.name for t in response.templates]
    assert b"Portal" in response.content
