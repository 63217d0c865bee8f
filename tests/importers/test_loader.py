"""The loader on the CSV sample: accounting, matching against truth.json, safety."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

from django.contrib.auth import authenticate

from backoffice.projects.models import Document, Project
from importers.loader import import_legacy
from importers.models import LegacyRecord
from importers.report import OUTCOMES, ImportReport
from importers.sources import open_source
from rbac.hashers import bcrypt_secret_matches
from rbac.models import APIKey, Company, Membership, Team, User

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "legacy_sample"
HISTORY_MODELS = (Company, Team, User, Membership, Project, Document, APIKey)


def run_sample_import(csv_root: Path = SAMPLE / "csv", **options) -> ImportReport:
    with (
        open_source("core", csv_root / "core") as core,
        open_source("portal", csv_root / "portal") as portal,
    ):
        return import_legacy(
            core=core, portal=portal, cognito=str(SAMPLE / "cognito-users.json"), **options
        )


def row_counts() -> dict[str, int]:
    counts = {m.__name__: m.objects.count() for m in HISTORY_MODELS}
    counts |= {f"history {m.__name__}": m.history.count() for m in HISTORY_MODELS}
    counts["LegacyRecord"] = LegacyRecord.objects.count()
    return counts


def _pairs(groups) -> set[tuple]:
    return {pair for group in groups for pair in itertools.combinations(sorted(group), 2)}


def _precision_recall(truth_groups, tables: dict[str, str]) -> tuple[float, float]:
    """Compare pairs of legacy rows unified by the import with the truth's pairs."""
    imported_keys = {}
    for source, table in tables.items():
        for legacy_id, object_id in LegacyRecord.objects.filter(
            source=source, table=table
        ).values_list("legacy_id", "object_id"):
            imported_keys[(source, int(legacy_id))] = object_id
    # Rows the import must reject cannot be in any pair.
    truth_groups = [[k for k in group if k in imported_keys] for group in truth_groups]
    by_object = defaultdict(list)
    for key, object_id in imported_keys.items():
        by_object[object_id].append(key)
    expected, found = _pairs(truth_groups), _pairs(by_object.values())
    return len(expected & found) / len(found), len(expected & found) / len(expected)


def _truth_groups(entries) -> list[list[tuple[str, int]]]:
    return [
        [("core", i) for i in entry["core"]] + [("portal", i) for i in entry["portal"]]
        for entry in entries
    ]


def test_every_table_balances_read_against_its_outcomes(imported, db):
    assert len(imported.tables) == 15
    for name, counts in imported.tables.items():
        assert counts.read > 0, name
        assert counts.read == sum(getattr(counts, o) for o in OUTCOMES), name


def test_company_merges_agree_with_truth(imported, db, truth):
    precision, recall = _precision_recall(
        _truth_groups(truth["companies"]), {"core": "organizations", "portal": "company"}
    )
    assert precision == 1.0
    assert recall >= 0.99


def test_person_merges_agree_with_truth_exactly(imported, db, truth):
    precision, recall = _precision_recall(
        _truth_groups(truth["persons"]), {"core": "users", "portal": "member"}
    )
    assert (precision, recall) == (1.0, 1.0)


def test_every_row_that_must_be_rejected_is_rejected_with_a_reason(imported, db, truth):
    rejected = {(r["source"], r["table"], r["legacy_id"]): r["reason"] for r in imported.rejects}
    for must in truth["must_reject"]:
        if isinstance(must["id"], list):  # team_member: "team_id:member_id", team may be unknown
            team_id, member_id = must["id"]
            hits = [
                reason for (s, t, i), reason in rejected.items()
                if (s, t) == (must["source"], must["table"])
                and i.endswith(f":{member_id}")
                and (team_id is None or i == f"{team_id}:{member_id}")
            ]
        else:
            hits = [rejected.get((must["source"], must["table"], str(must["id"])))]
        assert hits and all(hits), must


def test_unknown_core_roles_are_rejected_by_name(imported, db, truth):
    reasons = {r["legacy_id"]: r["reason"] for r in imported.rejects if r["table"] == "user_roles"}
    for unknown in truth["unknown_roles"]:
        assert unknown["role"] in reasons[f"{unknown['user_id']}:{unknown['role']}"]


def test_a_known_core_password_authenticates_after_import(imported, db, truth):
    known = truth["known_passwords"][0]
    user = authenticate(username=known["email"], password=known["password"])
    assert user is not None and user.email == known["email"].strip().lower()


def test_core_client_secrets_and_portal_keys_still_verify(imported, db, truth):
    client = truth["known_core_clients"][0]
    key = APIKey.objects.get(prefix=client["client_id"])
    assert key.hash_scheme == "bcrypt" and bcrypt_secret_matches(client["secret"], key.hashed_key)
    portal = truth["known_portal_keys"][0]
    assert APIKey.objects.filter(prefix=portal["key"][:8], hash_scheme="sha256").exists()


def test_core_departments_keep_their_nesting_as_ancestry(imported, db):
    child = Team.objects.filter(parent__isnull=False).select_related("parent").first()
    assert child is not None
    assert child.ancestry == f"{child.parent.ancestry}{child.parent_id}/"


def test_rerun_on_unchanged_sources_changes_nothing(imported, db):
    before = row_counts()
    report = run_sample_import()
    for name, counts in report.tables.items():
        assert (counts.created, counts.updated, counts.merged) == (0, 0, 0), name
    assert row_counts() == before


def _change_project_name(csv_root: Path) -> None:
    path = csv_root / "core" / "projects.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[1].split(",")
    fields[4] = "Renamed in Core"
    lines[1] = ",".join(fields)
    path.write_text("".join(lines), encoding="utf-8")


def test_one_changed_legacy_row_is_exactly_one_update(imported, db, sample_copy):
    _change_project_name(sample_copy)
    report = run_sample_import(sample_copy)
    updates = {name: c.updated for name, c in report.tables.items() if c.updated}
    assert updates == {"core.projects": 1}
    assert sum(c.created + c.merged for c in report.tables.values()) == 0
    assert Project.objects.filter(name="Renamed in Core").count() == 1


def test_dry_run_writes_nothing(imported, db, sample_copy):
    _change_project_name(sample_copy)
    before = row_counts()
    report = run_sample_import(sample_copy, dry_run=True)
    assert report.tables["core.projects"].updated == 1
    assert row_counts() == before
    assert not Project.objects.filter(name="Renamed in Core").exists()
