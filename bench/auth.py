"""Benchmark authentication: password log-ins, and what a key or token adds to a request.

Times, as medians over many runs:
- a log-in with a legacy Core hash (bcrypt cost 10), which also re-hashes it with Argon2;
- a log-in after that upgrade (Argon2, the project's default hasher);
- a wrong password and an unknown e-mail (they should cost about what a log-in costs);
- an API request with a legacy Portal key (X-Api-Key) and with a bearer token, each next
  to the same request with no authentication at all, and the authenticator call alone.

    .venv/bin/python bench/auth.py [--repetitions 200] [--logins 15]

Runs on a throwaway test database (SQLite in memory, or "test_…" beside DATABASE_URL's
server). Prints a table; asserts nothing. Target: key and token add under 1 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")

import django  # noqa: E402
from django.conf import settings  # noqa: E402

PORTAL_KEY = "pk_9dadcdede6e29de5a9c2cff4adfff6b4"  # the format of Portal's keys
CORE_PASSWORD = "Legacy-f921ff5a"
TARGET_ADDED_MS = 1.0


def _median_ms(action: Callable[[], object], repetitions: int, before=None) -> float:
    timings = []
    for _ in range(repetitions):
        if before:
            before()
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def _urlpatterns():
    from django.urls import path
    from rest_framework.permissions import AllowAny, IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView

    # Without throttling on either view: the difference is authentication alone.
    class Authenticated(APIView):
        permission_classes = [IsAuthenticated]
        throttle_classes: list = []

        def get(self, request):
            return Response({"company_id": getattr(request.user, "company_id", None)})

    class Open(APIView):
        authentication_classes: list = []
        permission_classes = [AllowAny]
        throttle_classes: list = []

        def get(self, request):
            return Response({"company_id": None})

    return [
        path("bench/authenticated", Authenticated.as_view()),
        path("bench/open", Open.as_view()),
    ]


urlpatterns: list = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=200, help="runs per API row")
    parser.add_argument("--logins", type=int, default=15, help="runs per log-in row")
    args = parser.parse_args()

    django.setup()
    # The project's real hashers (test settings put fast MD5 first), no lock-out counting.
    settings.PASSWORD_HASHERS = [h for h in settings.PASSWORD_HASHERS if "MD5" not in h]
    settings.AXES_ENABLED = False
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    global urlpatterns
    urlpatterns = _urlpatterns()
    sys.modules[__name__] = sys.modules["__main__"]

    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rows = run(args.repetitions, args.logins)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print_table(rows, connection.vendor)


def run(repetitions: int, logins: int) -> list[tuple[str, float, str]]:
    import bcrypt
    from django.contrib.auth import authenticate
    from django.test import Client, RequestFactory

    from backoffice.api.authentication import APIKeyAuthentication, BearerTokenAuthentication
    from rbac.hashers import sha256_hex
    from rbac.models import APIKey, Company, User
    from rbac.tokens import access_token_issue

    company = Company.objects.create(name="Bench", country="DE")
    legacy_hash = "bcrypt$" + bcrypt.hashpw(
        CORE_PASSWORD.encode(), bcrypt.gensalt(10, prefix=b"2a")
    ).decode()
    user = User.objects.create(email="core@example.test", password=legacy_hash)
    request = RequestFactory().post("/admin/login/")

    def reset_to_legacy() -> None:
        User.objects.filter(pk=user.pk).update(password=legacy_hash)

    def log_in() -> None:
        assert authenticate(request, username=user.email, password=CORE_PASSWORD) is not None

    rows = [
        ("log-in, legacy bcrypt cost 10 (+ upgrade)",
         _median_ms(log_in, logins, reset_to_legacy), ""),
    ]
    rows.append((
        "wrong password (legacy bcrypt user)",
        _median_ms(lambda: authenticate(request, username=user.email, password="x"), logins,
                   reset_to_legacy), "",
    ))
    log_in()  # now Argon2
    rows.append(("log-in after the upgrade (Argon2)", _median_ms(log_in, logins), ""))
    rows.append((
        "wrong password (Argon2 user)",
        _median_ms(lambda: authenticate(request, username=user.email, password="x"), logins), "",
    ))
    rows.append((
        "unknown e-mail",
        _median_ms(lambda: authenticate(request, username="no@example.test", password="x"),
                   logins), "",
    ))

    api_key = APIKey.objects.create(
        company=company, name="portal", prefix=PORTAL_KEY[:8],
        hashed_key=sha256_hex(PORTAL_KEY), hash_scheme=APIKey.Scheme.SHA256, scopes="read write",
    )
    token = access_token_issue(api_key=api_key, scopes=api_key.scope_set).raw
    client = Client()

    def get(path: str, **headers) -> None:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.content

    baseline = _median_ms(lambda: get("/bench/open"), repetitions)
    with_key = _median_ms(lambda: get("/bench/authenticated", **{"X-Api-Key": PORTAL_KEY}),
                          repetitions)
    with_token = _median_ms(
        lambda: get("/bench/authenticated", Authorization=f"Bearer {token}"), repetitions
    )
    factory = RequestFactory()
    key_request = factory.get("/", headers={"X-Api-Key": PORTAL_KEY})
    token_request = factory.get("/", headers={"Authorization": f"Bearer {token}"})
    key_alone = _median_ms(lambda: APIKeyAuthentication().authenticate(key_request), repetitions)
    token_alone = _median_ms(
        lambda: BearerTokenAuthentication().authenticate(token_request), repetitions
    )

    def verdict(added: float) -> str:
        return "meets < 1 ms" if added < TARGET_ADDED_MS else "MISSES 1 ms"

    rows += [
        ("API request, no authentication (baseline)", baseline, ""),
        ("API request, legacy Portal key (X-Api-Key)", with_key,
         f"adds {with_key - baseline:.3f} ms: {verdict(with_key - baseline)}"),
        ("API request, bearer token", with_token,
         f"adds {with_token - baseline:.3f} ms: {verdict(with_token - baseline)}"),
        ("  APIKeyAuthentication.authenticate alone", key_alone, verdict(key_alone)),
        ("  BearerTokenAuthentication.authenticate alone", token_alone, verdict(token_alone)),
    ]
    return rows


def print_table(rows: list[tuple[str, float, str]], vendor: str) -> None:
    width = max(len(name) for name, _, _ in rows)
    print(f"authentication benchmark ({vendor}); medians")
    print(f"{'what':<{width}}  {'median ms':>10}  note")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 30}")
    for name, median, note in rows:
        print(f"{name:<{width}}  {median:>10.3f}  {note}")


if __name__ == "__main__":
    main()
