"""Benchmark the admin pages staff use every day, on the 20,000-company import.

Loads the legacy data set of bench/import.py (20,000 companies, about 1.2 M legacy rows)
once into a PostgreSQL database of its own: generates or reuses the data folder, restores
the dumps into throwaway sources, migrates and runs `manage.py import_legacy`. Later runs
find the database loaded and only migrate it. Then it requests each page in this process
through Django's test client, as a superuser and as a company admin (a staff user holding
the admin role in the company with the most members), and prints per page the median
server time (request to rendered response, DEBUG off) and the number of queries.

    .venv/bin/python bench/admin.py [--data DIR] [--database-url URL] [--repeat 5]
                                    [--pages companies,users-search,…] [--reload]

Targets: every page at most 300 ms median, searches at most 100 ms, and no page's query
count growing with the company's size (compare the largest company's rows with a small
company's: `--small` adds those rows).

PostgreSQL comes from BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
MariaDB from BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306); without
--database-url the data set goes into `bench_admin_unified` (sources `bench_admin_core`
and `bench_admin_portal`, dropped once imported); see --db-prefix.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from permissions import DEFAULT_SERVER_URL, database_url  # noqa: E402

bench_import = importlib.import_module("import")  # bench/import.py: "import" is a keyword

PAGE_TARGET_MS = 300.0
SEARCH_TARGET_MS = 100.0
SUPERUSER_EMAIL = "bench-admin-root@example.test"
COMPANY_ADMIN_EMAIL = "bench-admin-company@example.test"


@dataclass
class Page:
    key: str
    label: str
    url: str
    search: bool = False


@dataclass
class Measured:
    status: int
    median_ms: float
    queries: int
    sql_ms: float  # median time spent in the database, of median_ms


# --- the data set ------------------------------------------------------------------------


def database_is_loaded(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT to_regclass('public.importers_legacyrecord') IS NOT NULL"
                               ).fetchone()
            if not row[0]:
                return False
            return conn.execute("SELECT EXISTS (SELECT 1 FROM importers_legacyrecord)"
                                ).fetchone()[0]
    except psycopg.OperationalError:
        return False  # no such database yet


def load(args: argparse.Namespace, pg_server: str, mysql_server: str) -> str:
    """Import the data set into a fresh unified database; return its URL."""
    folder_context = (tempfile.TemporaryDirectory(prefix="bench-admin-")
                      if args.data is None else None)
    folder = Path(folder_context.name) if folder_context else args.data
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _, unified_url, env, arguments = bench_import.prepare_sources(
            folder, args.companies, args.seed, pg_server, mysql_server, args.db_prefix)
        bench_import.stage("importing (manage.py import_legacy)")
        started = time.perf_counter()
        subprocess.run([sys.executable, str(REPO / "manage.py"), "import_legacy", *arguments,
                        "--no-progress"], env=env, cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        bench_import.stage(f"  {time.perf_counter() - started:.1f} s")
    finally:
        bench_import.drop_sources(pg_server, mysql_server, args.db_prefix, unified=False)
        if folder_context:
            folder_context.cleanup()
    return unified_url


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")
    os.environ["DJANGO_DEBUG"] = "0"
    import django

    django.setup()
    import logging

    from django.conf import settings

    # The company admin's 403s are expected; their warnings would bury the table.
    logging.getLogger("django.request").setLevel(logging.ERROR)

    settings.ALLOWED_HOSTS = ["*"]
    # No collectstatic here: the static tags name the files as they are, not hashed.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def migrate() -> None:
    from django.core.management import call_command

    bench_import.stage("migrating (new migrations only)")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    bench_import.stage(f"  {time.perf_counter() - started:.1f} s")


def analyze() -> None:
    """Give the planner its statistics, as autovacuum does on a server after an import."""
    from django.db import connection

    bench_import.stage("ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


@dataclass
class Subjects:
    largest_company: object
    small_company: object
    team: object
    small_team: object
    member_term: str
    company_term: str
    document_term: str
    legacy_term: str
    members: int
    small_members: int
    import_run_pk: int | None


def bench_users(company) -> tuple[object, object]:
    """Return the superuser and a staff user who administers `company` (created once)."""
    from rbac.models import Membership, Role, User

    root, _ = User.objects.get_or_create(
        email=SUPERUSER_EMAIL, defaults={"is_staff": True, "is_superuser": True})
    admin_user, _ = User.objects.get_or_create(
        email=COMPANY_ADMIN_EMAIL, defaults={"is_staff": True, "first_name": "Bench"})
    # Only this company: the admin of one company, as staff are.
    Membership.objects.filter(user=admin_user).exclude(company=company).delete()
    from rbac import services

    services.grant_role(user=admin_user, company=company, role=Role.objects.get(slug="admin"))
    return root, admin_user


def choose_subjects() -> Subjects:
    """Pick the pages' objects and search terms from the loaded data, the same every run."""
    from django.db.models import Count

    from backoffice.projects.models import Document
    from importers.models import ImportRun, LegacyRecord
    from rbac.models import Company, Membership, Team

    by_size = (Company.objects.annotate(n=Count("memberships")).filter(n__gt=0)
               .order_by("-n", "pk"))
    largest = by_size.first()
    small = by_size.filter(n__gte=3).order_by("n", "pk").first()
    team = (Team.objects.filter(company=largest).annotate(n=Count("memberships"))
            .order_by("-n", "pk").first())
    small_team = (Team.objects.filter(company=small).annotate(n=Count("memberships"))
                  .order_by("-n", "pk").first())
    # A surname of one of the largest company's members: a search that finds people there.
    member = (Membership.objects.filter(company=largest).exclude(user__last_name="")
              .select_related("user").order_by("pk").first())
    member_term = member.user.last_name if member else "smith"
    document = Document.objects.filter(company=largest).order_by("pk").first()
    # The word of a file name ("account" of "account-42.csv"), as people remember them.
    word = re.match(r"[^\W\d_]+", document.original_name) if document else None
    document_term = word.group(0) if word else "report"
    # A legacy key as support quotes it: a five-digit user id of Core.
    legacy = (LegacyRecord.objects.filter(source="core", table="users", legacy_id__regex=r"^\d{5}$")
              .order_by("pk").first())
    legacy_term = legacy.legacy_id if legacy else "12345"
    run = ImportRun.objects.order_by("-pk").first()
    return Subjects(
        largest_company=largest, small_company=small, team=team, small_team=small_team,
        member_term=member_term, company_term=largest.name.split()[0],
        document_term=document_term, legacy_term=legacy_term,
        members=Membership.objects.filter(company=largest).count(),
        small_members=Membership.objects.filter(company=small).count(),
        import_run_pk=run.pk if run else None,
    )


def pages(subjects: Subjects, small: bool) -> list[Page]:
    from urllib.parse import urlencode

    from django.urls import reverse

    def url(name: str, *args, **query) -> str:
        return reverse(f"admin:{name}", args=args) + (f"?{urlencode(query)}" if query else "")

    company = subjects.largest_company
    found = [
        Page("index", "index", url("index")),
        Page("companies", "companies list", url("rbac_company_changelist")),
        Page("companies-search", f"companies search {subjects.company_term!r}",
             url("rbac_company_changelist", q=subjects.company_term), search=True),
        Page("company", f"largest company's page ({subjects.members:,} members)",
             url("rbac_company_change", company.pk)),
        Page("members", "its members list",
             url("rbac_membership_changelist", company__id__exact=company.pk)),
        Page("team", "its largest team's page", url("rbac_team_change", subjects.team.pk)),
        Page("users-search", f"users search {subjects.member_term!r}",
             url("rbac_user_changelist", q=subjects.member_term), search=True),
        Page("memberships-search", f"memberships search {subjects.member_term!r}",
             url("rbac_membership_changelist", q=subjects.member_term), search=True),
        Page("documents-search", f"documents search {subjects.document_term!r}",
             url("projects_document_changelist", q=subjects.document_term), search=True),
        Page("legacy-search", f"legacy records search {subjects.legacy_term!r}",
             url("importers_legacyrecord_changelist", q=subjects.legacy_term), search=True),
        Page("legacy", "legacy records list", url("importers_legacyrecord_changelist")),
        Page("import-run", "last import run's page",
             url("importers_importrun_change", subjects.import_run_pk)
             if subjects.import_run_pk else url("importers_importrun_changelist")),
        Page("review-pairs", "review pairs list", url("importers_reviewpair_changelist")),
    ]
    if small and subjects.small_company:
        found += [
            Page("small-company", f"a small company's page ({subjects.small_members} members)",
                 url("rbac_company_change", subjects.small_company.pk)),
            Page("small-members", "its members list", url(
                "rbac_membership_changelist", company__id__exact=subjects.small_company.pk)),
        ]
    return found


# --- measuring ---------------------------------------------------------------------------


def measure(client, page: Page, repeat: int) -> Measured:
    from django.db import connection

    from rbac.access import forget_built_profiles

    client.get(page.url)  # warm: templates, content types, the plan cache
    times, sql_times, queries, status = [], [], [], 0
    for _ in range(repeat):
        forget_built_profiles()  # each request builds its access profile, as a new one does
        spent: list[float] = []

        def timed(execute, sql, params, many, context, spent=spent):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent.append(time.perf_counter() - started)

        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            response = client.get(page.url)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        queries.append(len(spent))
        sql_times.append(sum(spent) * 1000)
    return Measured(status, statistics.median(times), max(queries), statistics.median(sql_times))


def verdict(page: Page, result: Measured) -> str:
    if result.status != 200:
        return ""
    target = SEARCH_TARGET_MS if page.search else PAGE_TARGET_MS
    return "met" if result.median_ms <= target else "MISSED"


def print_table(rows: list[tuple[Page, dict[str, Measured]]], subjects: Subjects,
                repeat: int) -> None:
    print()
    print(f"Admin pages on the imported data set; median of {repeat} requests after one warm-up, "
          f"server time in this process (test client, DEBUG off) and the part of it spent in "
          f"SQL; load average "
          f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs.")
    print(f"Largest company: #{subjects.largest_company.pk} {subjects.largest_company.name} "
          f"with {subjects.members:,} memberships.")
    print()
    header = ("page", "target ms", "superuser ms", "of which SQL", "queries", "verdict",
              "company admin ms", "of which SQL", "queries", "verdict")
    print("| " + " | ".join(header) + " |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---|")
    for page, results in rows:
        target = SEARCH_TARGET_MS if page.search else PAGE_TARGET_MS
        cells = [page.label, f"≤ {target:.0f}"]
        for who in ("superuser", "company admin"):
            result = results[who]
            if result.status != 200:
                cells += [f"({result.status})", "", "", ""]
            else:
                cells += [f"{result.median_ms:,.1f}", f"{result.sql_ms:,.1f}", str(result.queries),
                          verdict(page, result)]
        print("| " + " | ".join(cells) + " |")


def run_pages(selected: list[Page], users: dict[str, object], repeat: int,
              progress: Callable[[str], None]) -> list[tuple[Page, dict[str, Measured]]]:
    from django.test import Client

    clients = {}
    for who, user in users.items():
        client = Client()
        client.force_login(user)
        clients[who] = client
    rows = []
    for page in selected:
        results = {}
        for who, client in clients.items():
            results[who] = measure(client, page, repeat)
        progress(f"  {page.label}: " + ", ".join(
            f"{who} {r.median_ms:.0f} ms / {r.queries} q ({r.status})"
            for who, r in results.items()))
        rows.append((page, results))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url",
                        help="the unified database to measure (loaded first when empty); "
                             "default: PREFIX_unified on BENCH_POSTGRES_URL's server")
    parser.add_argument("--data", type=Path, metavar="DIR",
                        help="the data folder of bench/import.py --keep-data (reused when it "
                             "holds these --companies and --seed; generated into it otherwise)")
    parser.add_argument("--companies", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db-prefix", default="bench_admin",
                        help="names of the databases loaded here (default %(default)s)")
    parser.add_argument("--reload", action="store_true",
                        help="import the data set again even when the database holds it")
    parser.add_argument("--pages", default="",
                        help="comma-separated page keys to measure (default: all); "
                             "see the keys with --list")
    parser.add_argument("--list", action="store_true", help="list the page keys and stop")
    parser.add_argument("--repeat", type=int, default=5, help="requests per page and user")
    parser.add_argument("--small", action="store_true",
                        help="also measure a small company's page and members list, to "
                             "compare query counts with the largest one's")
    args = parser.parse_args()
    pg_server = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL)
    mysql_server = os.environ.get("BENCH_MYSQL_URL", bench_import.DEFAULT_MYSQL_URL)
    url = args.database_url or database_url(pg_server, f"{args.db_prefix}_unified")

    if args.reload or not database_is_loaded(url):
        if args.database_url:
            raise SystemExit(f"{args.database_url} holds no imported data; leave out "
                             "--database-url to load the data set into a database of its own.")
        url = load(args, pg_server, mysql_server)
    setup_django(url)
    migrate()
    analyze()
    subjects = choose_subjects()
    selected = pages(subjects, args.small)
    if args.list:
        for page in selected:
            print(f"{page.key}: {page.label} {page.url}")
        return
    if args.pages:
        wanted = {key.strip() for key in args.pages.split(",") if key.strip()}
        unknown = wanted - {page.key for page in selected}
        if unknown:
            raise SystemExit(f"unknown page key(s): {', '.join(sorted(unknown))}; see --list")
        selected = [page for page in selected if page.key in wanted]
    root, company_admin = bench_users(subjects.largest_company)
    bench_import.stage(f"measuring {len(selected)} pages, {args.repeat} requests each")
    rows = run_pages(selected, {"superuser": root, "company admin": company_admin},
                     args.repeat, bench_import.stage)
    print_table(rows, subjects, args.repeat)


if __name__ == "__main__":
    main()
