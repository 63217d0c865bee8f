"""Benchmark the permission reads on a PostgreSQL data set of production size.

Creates a throwaway database, loads it through the bulk path (set-based INSERT … SELECT
generate_series, the way the importer writes), then times, for one user with roles in 200
companies, the reads every page makes: the companies they may view, the first page of
documents, one object permission check, and the admin company changelist.

    .venv/bin/python bench/permissions.py [--repetitions 50] [--keep] [--explain]

PostgreSQL comes from BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
the benchmark database beside it is dropped and created afresh on every run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
COMPANIES = 20_000
TEAMS_PER_COMPANY = 3  # 60,000 teams; in every other company they form a chain 1 > 2 > 3
USERS = 200_000
MEMBERSHIPS_PER_USER = 2  # 400,000 memberships
DOCUMENTS = 500_000
BENCH_COMPANIES = 200
TARGET_MS = {"changelist": 150.0}
DEFAULT_TARGET_MS = 20.0
SETUP_TARGET_S = 180.0


def database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))


def recreate_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    drop_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    # Before django.setup(): the settings read the environment once. DEBUG off so the
    # connection does not record every query, as in production.
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()


# --- set-up ------------------------------------------------------------------------------


def loaded_tables() -> dict[str, str]:
    from backoffice.projects.models import Document
    from rbac.models import Company, Membership, Team, User

    models = {"company": Company, "team": Team, "user": User, "membership": Membership,
              "document": Document}
    return {name: model._meta.db_table for name, model in models.items()}


def bulk_load(progress: Callable[[str], None]) -> dict[str, str]:
    """Load companies, teams, users, memberships and documents with set-based SQL."""
    from django.db import connection, transaction

    from rbac.models import Role

    roles = dict(Role.objects.values_list("slug", "id"))
    # Memberships cycle through every built-in role, weighted towards the content roles.
    role_cycle = [roles[s] for s in ("viewer", "editor", "viewer", "manager", "editor",
                                     "admin", "viewer", "billing", "owner", "editor")]
    roles_array = ", ".join(str(role_id) for role_id in role_cycle)
    tables = loaded_tables()
    statements = [
        "SELECT setseed(0.42)",
        f"""
        INSERT INTO {tables['company']} (id, name, legal_name, vat_number, country, domain,
                                         status, created_at, updated_at)
        SELECT g, 'Company ' || g, 'Company ' || g || ' GmbH', NULL,
               (ARRAY['DE', 'FR', 'NL', 'GB', 'IT'])[1 + g % 5], 'company' || g || '.example',
               CASE WHEN g % 50 = 0 THEN 'archived' ELSE 'active' END,
               now() - g * interval '1 hour', now()
        FROM generate_series(1, {COMPANIES}) AS g
        """,
        # Team id t belongs to company (t - 1) / 3 + 1 at position (t - 1) % 3; in odd
        # companies position 1 is a child of position 0 and position 2 a child of 1.
        f"""
        INSERT INTO {tables['team']} (id, company_id, parent_id, name, ancestry, created_at)
        SELECT t, (t - 1) / {TEAMS_PER_COMPANY} + 1,
               CASE WHEN nested AND pos > 0 THEN t - 1 END,
               'Team ' || pos,
               CASE WHEN NOT nested OR pos = 0 THEN '/'
                    WHEN pos = 1 THEN '/' || (t - 1) || '/'
                    ELSE '/' || (t - 2) || '/' || (t - 1) || '/' END,
               now()
        FROM (SELECT t, (t - 1) % {TEAMS_PER_COMPANY} AS pos,
                     ((t - 1) / {TEAMS_PER_COMPANY}) % 2 = 0 AS nested
              FROM generate_series(1, {COMPANIES * TEAMS_PER_COMPANY}) AS t) AS teams
        """,
        f"""
        INSERT INTO {tables['user']} (id, password, is_superuser, email, first_name, last_name,
                                      is_staff, is_active, email_verified, date_joined)
        SELECT u, '!', false, 'user' || u || '@example.test', 'First' || u, 'Last' || u,
               false, true, true, now()
        FROM generate_series(1, {USERS - 2}) AS u
        """,
        # Each user: one company-scope membership, and a second one that is team-scope for
        # one user in five. The two companies differ (7,919 is not a multiple of 20,000).
        f"""
        INSERT INTO {tables['membership']} (user_id, company_id, team_id, role_id, created_at)
        SELECT u, c, CASE WHEN k = 1 AND u % 5 = 0
                          THEN (c - 1) * {TEAMS_PER_COMPANY} + 1 + u % {TEAMS_PER_COMPANY} END,
               (ARRAY[{roles_array}])[1 + (u + k) % {len(role_cycle)}], now()
        FROM (SELECT u, k, (u - 1 + k * 7919) % {COMPANIES} + 1 AS c
              FROM generate_series(1, {USERS - 2}) AS u,
                   generate_series(0, {MEMBERSHIPS_PER_USER - 1}) AS k) AS m
        """,
        # Each company gets 25 documents; three in four belong to one of its teams.
        f"""
        INSERT INTO {tables['document']} (company_id, team_id, project_id, file, original_name,
                                          content_type, size, uploaded_by_id, uploaded_at,
                                          legacy_bucket, legacy_key)
        SELECT c, CASE WHEN d % 4 <> 0
                       THEN (c - 1) * {TEAMS_PER_COMPANY} + 1 + d % {TEAMS_PER_COMPANY} END,
               NULL, '', 'document-' || d || '.pdf', 'application/pdf',
               (random() * 5000000)::bigint, NULL,
               now() - random() * interval '1095 days', '', ''
        FROM (SELECT d, (d - 1) % {COMPANIES} + 1 AS c
              FROM generate_series(1, {DOCUMENTS}) AS d) AS docs
        """,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            if "INSERT INTO" in statement:
                progress(f"  {statement.split()[2]}")
        for table in tables.values():
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    return tables


@dataclass
class BenchUsers:
    member_pk: int
    staff_pk: int


def create_bench_users() -> BenchUsers:
    """Create the two measured users through the services, as the application would."""
    from rbac.models import Company, Role, Team, User
    from rbac.services import grant_role

    roles = {role.slug: role for role in Role.objects.all()}
    company_roles = ["owner", "admin", "manager", "editor", "viewer", "billing", "viewer", "editor"]
    member = User.objects.create_user("bench.member@example.test", first_name="Bench")
    staff = User.objects.create_user("bench.staff@example.test", first_name="Staff", is_staff=True)
    step = COMPANIES // BENCH_COMPANIES
    companies = Company.objects.in_bulk([1 + k * step for k in range(BENCH_COMPANIES)])
    first_teams = {t.company_id: t for t in Team.objects.filter(company__in=companies, parent=None)}
    for k, company in enumerate(companies.values()):
        # One company in five: a team-scope role only (on the team at the top of the chain,
        # so the profile resolves a subtree); the rest company-scope, every role mixed.
        if k % 5 == 4:
            role = roles["manager" if k % 2 else "editor"]
            grant_role(user=member, company=company, team=first_teams[company.pk], role=role)
        else:
            role = roles[company_roles[k % len(company_roles)]]
            grant_role(user=member, company=company, role=role)
    staff_ids = [1 + step // 2 + k * step for k in range(BENCH_COMPANIES)]
    staff_companies = Company.objects.in_bulk(staff_ids)
    for k, company in enumerate(staff_companies.values()):
        grant_role(user=staff, company=company, role=roles["admin" if k % 4 == 0 else "viewer"])
    return BenchUsers(member_pk=member.pk, staff_pk=staff.pk)


def vacuum_analyze(tables: dict[str, str]) -> None:
    """Refresh the planner statistics, and the visibility map that autovacuum would build.

    Without the visibility map a freshly loaded table can use no index-only scan, which a
    production table, long since vacuumed, can.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables.values():
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("ANALYZE")


def row_counts(tables: dict[str, str]) -> dict[str, int]:
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for name, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[name] = cursor.fetchone()[0]
    return counts


# --- measurements --------------------------------------------------------------------


@dataclass
class Result:
    name: str
    label: str
    timings_ms: list[float]
    queries: int
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def target(self) -> float:
        return TARGET_MS.get(self.name, DEFAULT_TARGET_MS)


def measure(name: str, label: str, prepare: Callable[[], object], run: Callable[[object], object],
            repetitions: int, captured: dict[str, list[str]]) -> Result:
    """Time run(prepare()) repetitions times; prepare() is outside the clock."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm the connection, the caches and the plans
        run(prepare())
    arg = prepare()  # its own queries (fetching a fresh user) are not the operation's
    with CaptureQueriesContext(connection) as context:
        outcome = run(arg)
    captured[name] = [q["sql"] for q in context.captured_queries]
    timings = []
    for _ in range(repetitions):
        arg = prepare()
        started = time.perf_counter()
        run(arg)
        timings.append((time.perf_counter() - started) * 1000)
    return Result(name, label, timings, len(captured[name]), note=_describe(outcome))


def _describe(outcome: object) -> str:
    if hasattr(outcome, "memberships"):
        return f"{len(outcome.memberships)} memberships"
    if isinstance(outcome, list):
        return f"{len(outcome)} rows"
    if hasattr(outcome, "status_code"):
        return f"HTTP {outcome.status_code}"
    return repr(outcome)


def run_measurements(users: BenchUsers, repetitions: int,
                     captured: dict[str, list[str]]) -> list[Result]:
    from django.test import Client

    from backoffice.projects.models import Document
    from rbac.access import build_access_profile
    from rbac.models import User
    from rbac.selectors import companies_for_user, visible_page

    def fresh_member() -> User:
        # A new object each time, so the access profile cached on it is built again.
        return User.objects.get(pk=users.member_pk)

    def first_document_page(user: User, *, related: str = "select") -> list:
        queryset = Document.objects.order_by(*Document._meta.ordering)
        if related == "select":
            queryset = queryset.select_related("company", "team")
        else:
            queryset = queryset.prefetch_related("company", "team")
        return visible_page(user=user, queryset=queryset, start=0, stop=50)

    sample_document = first_document_page(fresh_member())[-1]
    results = [
        measure("profile", "access profile build alone (part of every row below)",
                fresh_member, build_access_profile, repetitions, captured),
        measure("companies", "(a) companies_for_user, all rows, profile build included",
                fresh_member, lambda user: list(companies_for_user(user=user)),
                repetitions, captured),
        measure("documents",
                "(b) first 50 documents, ordered -uploaded_at, -id, profile build included",
                fresh_member, first_document_page, repetitions, captured),
        # The same page with the joins after the LIMIT: select_related makes PostgreSQL
        # join every visible document to its company and team before it sorts.
        measure("documents_prefetch",
                "(b') the same page with prefetch_related instead of select_related",
                fresh_member, lambda user: first_document_page(user, related="prefetch"),
                repetitions, captured),
        measure("has_perm", "(c) has_perm('projects.view_document', doc), fresh user",
                fresh_member,
                lambda user: user.has_perm("projects.view_document", sample_document),
                repetitions, captured),
    ]
    results.append(measure_changelist(users, repetitions, captured, Client))
    return results


def measure_changelist(users: BenchUsers, repetitions: int, captured: dict[str, list[str]],
                       client_class) -> Result:
    from django.test.utils import override_settings
    from django.urls import NoReverseMatch, reverse

    from rbac.models import User

    label = "(d) admin company changelist, scoped staff user"
    try:
        url = reverse("admin:rbac_company_changelist")
    except NoReverseMatch:
        return Result("changelist", label, [], 0,
                      note="TODO: not measured, rbac.Company is not registered in the admin yet")
    client = client_class()
    client.force_login(User.objects.get(pk=users.staff_pk))
    # The manifest storage needs collectstatic; the admin's pages do not need it to render.
    static = {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
              "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=static):
        result = measure("changelist", label, lambda: None, lambda _: client.get(url),
                         repetitions, captured)
    if result.note != "HTTP 200":
        result.note += " — TODO: the changelist did not render, the time is not meaningful"
    return result


# --- EXPLAIN -------------------------------------------------------------------------


def sequential_scans(captured: dict[str, list[str]], *, analyze: bool) -> dict[str, list[str]]:
    """EXPLAIN every SELECT the operations ran; return, per operation, the tables scanned whole.

    With analyze, run the queries too and print each plan.
    """
    from django.db import connection

    explain = "EXPLAIN (ANALYZE, BUFFERS)" if analyze else "EXPLAIN"
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for name, queries in captured.items():
            for sql in queries:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(f"{explain} {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
                if analyze:
                    print(f"\n-- {name}: {sql[:300]}{'…' if len(sql) > 300 else ''}\n{plan}")
                found.setdefault(name, []).extend(re.findall(r"Seq Scan on (\w+)", plan))
    return found


# --- output --------------------------------------------------------------------------


def print_report(setup_s: float | None, counts: dict[str, int], results: list[Result],
                 scans: dict[str, list[str]], repetitions: int) -> None:
    print()
    print(f"Data set: {', '.join(f'{n:,} {name}' for name, n in counts.items())}.")
    print("Loaded with set-based INSERT … SELECT generate_series, without history rows (the")
    print("bench reads none; the importer writes them), then VACUUM (ANALYZE). The two measured")
    print("users and their 200 memberships each were created through rbac.services.grant_role.")
    print(f"Each operation: median and p95 of {repetitions} runs after 3 warm-up runs. (a), (b)")
    print("and (c) get a fresh user object per run (fetched off the clock), so the access")
    print("profile is rebuilt and its build is included; the changelist request loads its user")
    print("from the session, as every request does. 'seq scans' lists the loaded tables (not")
    print("the small lookup tables) that a plain EXPLAIN of the operation's queries scans whole.")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Load average while measuring: {load} on {os.cpu_count()} CPUs; a busy machine")
    print("inflates every time below.")
    print()
    header = ("operation", "median ms", "p95 ms", "target ms", "queries", "result", "seq scans")
    if setup_s is None:
        setup = ("set-up", "reused (--reuse)", "", "", "", "", "")
    else:
        setup = ("set-up: create db, migrate, load, VACUUM (ANALYZE)", f"{setup_s:.1f} s", "",
                 f"{SETUP_TARGET_S:.0f} s", "", _verdict(setup_s, SETUP_TARGET_S), "")
    rows = [setup]
    big_tables = set(loaded_tables().values())
    for r in results:
        if not r.timings_ms:
            rows.append((r.label, "—", "—", f"{r.target:.0f}", "", r.note, ""))
            continue
        scanned = sorted(set(scans.get(r.name, [])) & big_tables)
        rows.append((r.label, f"{r.median:.2f}", f"{r.p95:.2f}", f"{r.target:.0f}", str(r.queries),
                     f"{r.note}; target {_verdict(r.median, r.target)}",
                     ", ".join(scanned) or "none"))
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _verdict(value: float, target: float) -> str:
    return "met" if value < target else "MISSED"


def set_up(server_url: str, name: str, url: str, reuse: bool) -> tuple[float | None, BenchUsers]:
    """Create, migrate and load the database; return the seconds it took and the users."""
    started = step = time.perf_counter()

    def progress(what: str) -> None:
        nonlocal step
        now = time.perf_counter()
        print(f"{what}: {now - step:.1f} s", file=sys.stderr)
        step = now

    if not reuse:
        recreate_database(server_url, name)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    progress("migrate")
    if reuse:
        from rbac.models import User

        ids = dict(User.objects.filter(email__startswith="bench.").values_list("email", "pk"))
        return None, BenchUsers(ids["bench.member@example.test"], ids["bench.staff@example.test"])
    tables = bulk_load(progress)
    progress("bulk load")
    users = create_bench_users()
    progress("benchmark users")
    vacuum_analyze(tables)
    progress("VACUUM (ANALYZE)")
    return time.perf_counter() - started, users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=50)
    parser.add_argument("--database", default="bench_permissions",
                        help="name of the throwaway database (dropped and created afresh)")
    parser.add_argument("--keep", action="store_true",
                        help="leave the database behind for EXPLAIN sessions of your own")
    parser.add_argument("--reuse", action="store_true",
                        help="skip the set-up: measure a database left behind by --keep "
                             "(migrations are applied, so new indexes are measured)")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN (ANALYZE, BUFFERS) of every query measured")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL)
    url = database_url(server_url, args.database)

    setup_s, users = set_up(server_url, args.database, url, args.reuse)
    from django.db import connections

    captured: dict[str, list[str]] = {}
    try:
        results = run_measurements(users, args.repetitions, captured)
        scans = sequential_scans(captured, analyze=args.explain)
        print_report(setup_s, row_counts(loaded_tables()), results, scans, args.repetitions)
    finally:
        connections.close_all()
        if not (args.keep or args.reuse):
            drop_database(server_url, args.database)


if __name__ == "__main__":
    main()
