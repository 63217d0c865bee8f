"""Benchmark the legacy import against live sources, with restoring the dumps as yardstick.

Generates the legacy data set (`legacy_fixtures.generator.generate_legacy`), restores Core's
core.sql into a fresh PostgreSQL database and Portal's portal.sql into a fresh MariaDB
database (timed: the reference), migrates a fresh unified database (not timed), then runs
`manage.py import_legacy` against the two live databases and the Cognito export three times:
the first import, the re-run on unchanged sources (which finds every table's digest as
recorded and reads no row), and, for information, a re-run with --force that reads and
compares every row. After the first import it also times the database floor: PostgreSQL
alone writing the rows that import wrote (`database_floor`), the least any importer of
the same rows can take on this machine. Each import is its own subprocess, so its
wall time and peak RSS are its own.

    .venv/bin/python bench/import.py [--companies 20000] [--seed 1] [--keep-data DIR] [--keep]
                                     [--db-prefix bench_import]

PostgreSQL comes from BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
MariaDB from BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306). The three throwaway
databases (bench_import_core, _portal and _unified; see --db-prefix) are dropped and
created afresh on every run, and dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# The helpers of the permission bench: the same throwaway-database handling for PostgreSQL.
from permissions import DEFAULT_SERVER_URL, database_url, drop_database, recreate_database  # noqa: E402

DEFAULT_MYSQL_URL = "mysql://root@127.0.0.1:3306"
DB_PREFIX = "bench_import"  # the three databases: <prefix>_core, _portal, _unified
MANIFEST = "bench-import.json"  # what a --keep-data folder was generated with
FIRST_IMPORT_MAX_RESTORES = 3.0
RERUN_MAX_RESTORES = 1.0
RSS_LIMIT_MIB = 1024.0


@dataclass
class Measured:
    seconds: float
    peak_rss_mib: float
    report: dict


# --- legacy data -----------------------------------------------------------------------


def legacy_data(folder: Path, companies: int, seed: int) -> bool:
    """Generate the data set into folder unless it already holds this one; True if generated."""
    manifest = folder / MANIFEST
    wanted = {"companies": companies, "seed": seed}
    files = ("core.sql", "portal.sql", "cognito-users.json")
    if manifest.exists() and all((folder / name).exists() for name in files):
        if json.loads(manifest.read_text()) == wanted:
            return False
    from legacy_fixtures.generator import generate_legacy

    manifest.unlink(missing_ok=True)
    generate_legacy(companies=companies, out=folder, seed=seed)
    # Written last: a generation cut short leaves no manifest, so the next run starts over.
    manifest.write_text(json.dumps(wanted))
    return True


# --- the sources: restore the dumps (the reference) -----------------------------------


def mysql_command(server_url: str, *extra: str) -> list[str]:
    parts = urlsplit(server_url)
    command = ["mysql", "--protocol=TCP", "-h", parts.hostname or "127.0.0.1",
               "-P", str(parts.port or 3306), "-u", unquote(parts.username or "root")]
    if parts.password:
        command.append(f"-p{unquote(parts.password)}")
    return command + list(extra)


def recreate_mysql_database(server_url: str, name: str) -> None:
    statements = (f"DROP DATABASE IF EXISTS `{name}`; "
                  f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;")
    subprocess.run(mysql_command(server_url, "-e", statements), check=True)


def drop_mysql_database(server_url: str, name: str) -> None:
    subprocess.run(mysql_command(server_url, "-e", f"DROP DATABASE IF EXISTS `{name}`;"),
                   check=True)


def database_names(prefix: str) -> tuple[str, str, str]:
    """Return the names of the core, portal and unified databases of a run."""
    return f"{prefix}_core", f"{prefix}_portal", f"{prefix}_unified"


def restore_core(server_url: str, dump: Path, name: str) -> float:
    recreate_database(server_url, name)
    started = time.perf_counter()
    subprocess.run(["psql", database_url(server_url, name), "-v", "ON_ERROR_STOP=1", "-q",
                    "-f", str(dump)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def restore_portal(server_url: str, dump: Path, name: str) -> float:
    recreate_mysql_database(server_url, name)
    started = time.perf_counter()
    with dump.open("rb") as sql:
        subprocess.run(mysql_command(server_url, name), stdin=sql, check=True)
    return time.perf_counter() - started


# --- the importer ------------------------------------------------------------------------


def django_environment(unified_url: str) -> dict[str, str]:
    # DEBUG off: with it on, the connection keeps every query, which would be measured as
    # the importer's memory.
    return os.environ | {
        "DATABASE_URL": unified_url,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                 "backoffice.settings.local"),
        "DJANGO_DEBUG": "0",
    }


def manage(*arguments: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(REPO / "manage.py"), *arguments], env=env, cwd=REPO,
                   check=True)


def timed_import(arguments: list[str], env: dict[str, str], report_path: Path) -> Measured:
    """Run import_legacy in a child process; return its wall time, peak RSS and report."""
    command = [sys.executable, str(REPO / "manage.py"), "import_legacy", *arguments,
               "--report", str(report_path)]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    # wait4 gives this child's own resource usage; RUSAGE_CHILDREN would be the largest of
    # every child so far, psql and the first import included.
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"import_legacy failed with exit code {child.returncode}; see above.")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return Measured(seconds, usage.ru_maxrss / 1024, report)  # ru_maxrss is KiB on Linux


def written_tables(env: dict[str, str]) -> tuple[list[str], list[str]]:
    """The tables a first import writes, and those of them it indexes only at the end."""
    code = ("import django, json; django.setup(); from importers.loader import written_tables;"
            " print(json.dumps(written_tables()))")
    output = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    written, write_only = json.loads(output)
    return written, write_only


def database_floor(unified_url: str, env: dict[str, str]) -> tuple[int, float]:
    """Time the database alone writing what the first import wrote; return (rows, seconds).

    Every row of every table the import writes goes, with one INSERT … SELECT per table in
    one transaction, into an empty copy of the table with its keys and indexes (those of
    the tables the import indexes at the end are built at the end here too). No triggers
    and no foreign keys: a lower bound for any importer that writes the same rows.
    """
    import psycopg

    written, write_only = written_tables(env)
    with psycopg.connect(unified_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_floor CASCADE")
        conn.execute("CREATE SCHEMA bench_floor")
        later: list[str] = []
        for table in written:
            conn.execute(f'CREATE TABLE bench_floor."{table}" (LIKE public."{table}" '
                         "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)")
            if table in write_only:
                for name, definition in conn.execute(
                    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
                    " WHERE indrelid = %s::regclass AND NOT indisunique AND NOT indisprimary",
                    (f'bench_floor."{table}"',),
                ).fetchall():
                    conn.execute(f"DROP INDEX {name}")
                    later.append(definition)
        conn.execute("CHECKPOINT")
        rows = 0
        started = time.perf_counter()
        with conn.transaction():
            for table in written:
                rows += conn.execute(f'INSERT INTO bench_floor."{table}" '
                                     f'SELECT * FROM public."{table}"').rowcount
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")  # as bulk_load does
            for definition in later:
                conn.execute(definition)
        seconds = time.perf_counter() - started
        conn.execute("DROP SCHEMA bench_floor CASCADE")
    return rows, seconds


def table_totals(report: dict) -> dict[str, int]:
    totals: dict[str, int] = {}
    for counts in report["tables"].values():
        for name, value in counts.items():
            totals[name] = totals.get(name, 0) + value
    return totals


# --- output ------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_report(companies: int, seed: int, restore: dict[str, float],
                 runs: list[tuple[str, Measured, float | None]], floor: tuple[int, float],
                 loads: list[str]) -> None:
    restore_s = sum(restore.values())
    print()
    print(f"Legacy data set: {companies:,} companies, seed {seed}. Load average (1, 5, 15 min) "
          f"on {os.cpu_count()} CPUs: {' → '.join(loads)} (start → before imports → end);")
    print("a busy machine inflates every time below. Restore = psql -f core.sql + "
          "mysql < portal.sql into fresh databases;")
    print("each import is `manage.py import_legacy` against the live databases and the Cognito "
          "export, in its own process.")
    print()
    header = ("step", "legacy rows", "seconds", "rows/s", "peak RSS MiB", "target", "ratio",
              "verdict")
    rows = [("restore (reference): psql " + f"{restore['core']:.1f} s + mysql "
             f"{restore['portal']:.1f} s", "", f"{restore_s:.1f}", "", "", "", "", "")]
    floor_rows, floor_s = floor
    rows.append(("database floor: the rows the first import wrote, INSERT … SELECT into empty "
                 "copies of their tables, no importer", f"{floor_rows:,} written",
                 f"{floor_s:.1f}", f"{floor_rows / floor_s:,.0f}", "", "(none)",
                 f"{floor_s / restore_s:.2f}×", ""))
    for label, measured, limit in runs:
        totals = table_totals(measured.report)
        read = totals.get("read", 0)
        outcome = ", ".join(f"{totals.get(k, 0):,} {k}" for k in
                            ("created", "merged", "updated", "unchanged", "rejected"))
        ratio = measured.seconds / restore_s
        rows.append((f"{label} ({outcome})", f"{read:,}", f"{measured.seconds:.1f}",
                     f"{read / measured.seconds:,.0f}", f"{measured.peak_rss_mib:,.0f}",
                     f"≤ {limit:g}× restore" if limit else "(none)", f"{ratio:.2f}×",
                     verdict(ratio <= limit) if limit else ""))
        rows.append((f"{label}: peak RSS", "", "", "", f"{measured.peak_rss_mib:,.0f}",
                     f"≤ {RSS_LIMIT_MIB:,.0f} MiB",
                     f"{measured.peak_rss_mib / RSS_LIMIT_MIB:.2f}×",
                     verdict(measured.peak_rss_mib <= RSS_LIMIT_MIB)))
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for label, measured, _ in runs:
        phases = measured.report.get("phases_s") or {}
        if phases:
            print(f"\n{label}, seconds per step: "
                  + ", ".join(f"{name} {seconds:.1f}" for name, seconds in phases.items()))


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def stage(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


# --- main --------------------------------------------------------------------------------


def prepare_sources(folder: Path, companies: int, seed: int, pg_server: str, mysql_server: str,
                    prefix: str) -> tuple[dict[str, float], str, dict[str, str], list[str]]:
    """Generate (or reuse) the data set, restore both dumps and migrate a fresh unified database.

    Return the restore times, the unified database's URL, the environment to run
    manage.py in, and the import_legacy arguments that read the restored sources.
    """
    core_db, portal_db, unified_db = database_names(prefix)
    stage(f"legacy data in {folder}")
    started = time.perf_counter()
    if legacy_data(folder, companies, seed):
        stage(f"  generated in {time.perf_counter() - started:.1f} s")
    else:
        stage("  reused (same companies and seed)")

    stage("restoring core.sql (psql)")
    restore = {"core": restore_core(pg_server, folder / "core.sql", core_db)}
    stage(f"  {restore['core']:.1f} s; restoring portal.sql (mysql)")
    restore["portal"] = restore_portal(mysql_server, folder / "portal.sql", portal_db)
    stage(f"  {restore['portal']:.1f} s")

    unified_url = database_url(pg_server, unified_db)
    recreate_database(pg_server, unified_db)
    env = django_environment(unified_url)
    stage("migrating the unified database (not timed)")
    manage("migrate", "--verbosity", "0", env=env)

    portal_url = mysql_server.rstrip("/") + f"/{portal_db}"
    arguments = ["--core", database_url(pg_server, core_db), "--portal", portal_url,
                 "--cognito", str(folder / "cognito-users.json")]
    return restore, unified_url, env, arguments


def drop_sources(pg_server: str, mysql_server: str, prefix: str, *, unified: bool) -> None:
    core_db, portal_db, unified_db = database_names(prefix)
    for name in (core_db, unified_db) if unified else (core_db,):
        drop_database(pg_server, name)
    drop_mysql_database(mysql_server, portal_db)


def run(args: argparse.Namespace, folder: Path, pg_server: str, mysql_server: str) -> None:
    loads = [load_average()]
    restore, unified_url, env, arguments = prepare_sources(
        folder, args.companies, args.seed, pg_server, mysql_server, args.db_prefix)
    if args.no_progress:
        arguments.append("--no-progress")
    loads.append(load_average())
    with tempfile.TemporaryDirectory(prefix="bench-import-reports-") as reports:
        stage("first import")
        first = timed_import(arguments, env, Path(reports) / "first.json")
        stage(f"  {first.seconds:.1f} s; the database floor (what it wrote, without importer)")
        floor = database_floor(unified_url, env)
        stage(f"  {floor[1]:.1f} s; re-run on unchanged sources")
        rerun = timed_import(arguments, env, Path(reports) / "rerun.json")
        stage(f"  {rerun.seconds:.1f} s; re-run with --force (every row read and compared)")
        forced = timed_import([*arguments, "--force"], env, Path(reports) / "forced.json")
        stage(f"  {forced.seconds:.1f} s")
    loads.append(load_average())
    print_report(args.companies, args.seed, restore, [
        ("first import", first, FIRST_IMPORT_MAX_RESTORES),
        ("re-run, unchanged sources", rerun, RERUN_MAX_RESTORES),
        ("re-run with --force, no target", forced, None),
    ], floor, loads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=20_000,
                        help="size of the generated data set (production: 20,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-data", type=Path, metavar="DIR",
                        help="generate into DIR and keep it; reuse it when it already holds "
                             "the data set of these --companies and --seed")
    parser.add_argument("--keep", action="store_true",
                        help="leave the three databases behind for inspection")
    parser.add_argument("--db-prefix", default=DB_PREFIX,
                        help="name the throwaway databases PREFIX_core, PREFIX_portal and "
                             "PREFIX_unified (default %(default)s)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no per-table progress bars from the importer on stderr")
    args = parser.parse_args()
    pg_server = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL)
    mysql_server = os.environ.get("BENCH_MYSQL_URL", DEFAULT_MYSQL_URL)

    try:
        if args.keep_data:
            args.keep_data.mkdir(parents=True, exist_ok=True)
            run(args, args.keep_data, pg_server, mysql_server)
        else:
            with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
                run(args, Path(folder), pg_server, mysql_server)
    finally:
        if not args.keep:
            drop_sources(pg_server, mysql_server, args.db_prefix, unified=True)


if __name__ == "__main__":
    main()
