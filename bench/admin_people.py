"""Benchmark the admin's people pages: inviting, a person's access, who can see an object,
the team picker, a membership's "what they can do here".

Loads a small company (10 members, 5 teams) and a large one (2,000 members, 300 teams in
chains), and a person with roles in 60 companies; then prints, for each page and each size,
the median server time over a number of requests (Django's test client, no network) and the
query count. The point is that neither grows with the company: the large company's row
should run as many queries as the small one's.

    .venv/bin/python bench/admin_people.py [--repeat 7] [--database bench_admin_people]

PostgreSQL comes from BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
the throwaway database is --database, dropped and created again.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from permissions import (  # noqa: E402 - bench/permissions.py, next to this file
    DEFAULT_SERVER_URL,
    database_url,
    recreate_database,
    setup_django,
)

SIZES = {"small": (10, 5), "large": (2_000, 300)}
COMPANIES_OF_ONE_PERSON = 60


def load() -> dict:
    """Create the companies, their teams, members and documents; return what pages need."""
    from backoffice.projects.models import Document
    from rbac import services
    from rbac.models import Membership, Role, User

    roles = {role.slug: role for role in Role.objects.all()}
    superuser = User.objects.create_superuser("root@bench.example", "x" * 20)
    world = {"superuser": superuser.pk}
    for size, (members, teams) in SIZES.items():
        company = services.company_create(name=f"{size.title()} Company", country="DE")
        parent = None
        team_list = []
        for number in range(teams):
            # Chains of three: a root, its child, its grandchild.
            parent = None if number % 3 == 0 else parent
            parent = services.team_create(company=company, name=f"Team {number}", parent=parent)
            team_list.append(parent)
        users = User.objects.bulk_create(
            User(email=f"{size}.{n}@bench.example", password="!") for n in range(members)
        )
        slugs = ["viewer", "editor", "manager", "viewer", "billing"]
        Membership.objects.bulk_create(
            Membership(
                user=user, company=company, role=roles[slugs[n % len(slugs)]],
                team=team_list[n % teams] if slugs[n % len(slugs)] == "manager" else None,
            )
            for n, user in enumerate(users)
        )
        admin = User.objects.create_user(f"admin.{size}@bench.example", "x" * 20, is_staff=True)
        services.grant_role(user=admin, company=company, role=roles["admin"])
        document = Document.objects.create(
            company=company, team=team_list[2], original_name="plan.pdf", size=1
        )
        membership = Membership.objects.filter(company=company, role=roles["editor"]).first()
        world[size] = {
            "company": company.pk, "admin": admin.pk, "document": document.pk,
            "membership": membership.pk,
        }
    person = User.objects.get(email="large.1@bench.example")
    for number in range(COMPANIES_OF_ONE_PERSON):
        company = services.company_create(name=f"Other {number}", country="FR")
        services.grant_role(user=person, company=company, role=roles["editor"])
    world["person"] = person.pk
    return world


def pages(world: dict, size: str) -> list[tuple[str, str, int]]:
    """Return (page, URL, viewer id) for one company size."""
    from django.urls import reverse

    ids = world[size]
    root = world["superuser"]
    return [
        ("invite page (company admin)",
         reverse("admin:rbac_company_invite", args=[ids["company"]]), ids["admin"]),
        ("document page: who can see (superuser)",
         reverse("admin:projects_document_change", args=[ids["document"]]), root),
        ("membership page: what they can do here",
         reverse("admin:rbac_membership_change", args=[ids["membership"]]), ids["admin"]),
        ("team picker, company filter (company admin)",
         reverse("admin:rbac_team_autocomplete") + "?app_label=projects&model_name=project"
         f"&field_name=team&term=Team&company={ids['company']}", ids["admin"]),
        (f"person page, {COMPANIES_OF_ONE_PERSON + 1} companies (superuser)",
         reverse("admin:rbac_user_change", args=[world["person"]]), root),
    ]


def measure(url: str, viewer_id: int, repeat: int) -> tuple[float, int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from rbac.models import User

    client = Client()
    client.force_login(User.objects.get(pk=viewer_id))
    client.get(url)  # warm: access profile, templates
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(times), len(queries.captured_queries), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database", default="bench_admin_people")
    args = parser.parse_args()
    server = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL)
    recreate_database(server, args.database)
    setup_django(database_url(server, args.database))
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    # No collectstatic here: static URLs without the manifest, as in the tests.
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    world = load()
    print(f"set-up: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    rows = []
    for size in SIZES:
        members, teams = SIZES[size]
        for name, url, viewer in pages(world, size):
            median_ms, queries, status = measure(url, viewer, args.repeat)
            rows.append((name, f"{members} members, {teams} teams", f"{median_ms:.1f}",
                         str(queries), str(status)))
    header = ("page", "company", "median ms", "queries", "status")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
