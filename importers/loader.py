"""Load Core, Portal and Cognito into the unified model: match, merge, write in bulk.

The whole write phase runs in one transaction (see `import_legacy`): a failure or an
interruption rolls everything back, and a dry run rolls back on purpose at the end.
Memory grows with id maps (legacy id → unified pk, e-mail → user pk, …), not with the
data: tables are streamed batch by batch, except the company rows (matching needs them
all) and the role rows (the highest role per scope needs them all), both small.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from tqdm import tqdm

from backoffice.projects.models import Document, DocumentUserObjectPermission, Project
from importers import bulk, matching
from importers.bulk import WRITE_BATCH_SIZE
from importers.digest import source_digest, unchanged_report, unchanged_since, with_records
from importers.models import LegacyRecord, ReviewPair
from importers.normalize import (
    berlin_to_utc,
    country_code,
    country_from_tld,
    domain_from_url,
    fix_mojibake,
    normalize_vat,
    person_key,
    split_full_name,
    team_key,
)
from importers.records import CompanyRecord
from importers.report import ImportReport
from importers.sources import ERRORS_KEY, LegacySource, read_cognito
from rbac.access_versions import VERSION_TABLE, holders_bumped_once
from rbac.models import (
    APIKey,
    Company,
    CompanyUserObjectPermission,
    Membership,
    Role,
    Team,
    TeamUserObjectPermission,
    User,
)

Row = dict[str, Any]
DEFAULT_BATCH_SIZE = 2000
# SQLite allows 32766 variables per statement in current builds, 999 in old ones.
LOOKUP_CHUNK = 900
CHANGE_REASON = "legacy import"
CORE_DOCUMENT_BUCKET = "core-documents"
COMPANY_TABLES = {"core": "organizations", "portal": "company"}

# Core role → (unified role slug, scope). "department" falls back to the company for MEMBER.
CORE_ROLES: dict[str, tuple[str, str]] = {
    "ORG_ADMIN": ("admin", "company"),
    "DEPT_MANAGER": ("manager", "department"),
    "MEMBER": ("editor", "department_or_company"),
    "READ_ONLY": ("viewer", "company"),
    "BILLING": ("billing", "company"),
}
SUPER_ADMIN = "SUPER_ADMIN"
PORTAL_ROLES = {"owner": "owner", "admin": "admin", "editor": "editor", "viewer": "viewer"}
PORTAL_ACTIVE_STATUSES = frozenset({"active", "invited"})
PERMISSION_BITS: dict[int, str] = {1: "view", 2: "change", 4: "delete", 8: "share"}
KNOWN_BITS = sum(PERMISSION_BITS)

# How a value from a further legacy row is merged into an object that already exists:
#   fill  — set when the object's value is empty; two different values are a conflict
#   quiet — like fill, without reporting (values that follow another field)
#   keep  — never changed by a merge (identity and secrets)
#   set   — always set (values derived from every row of the object, the same for each)
#   min   — the earliest wins (creation dates)
# A changed row that created the object (`is_origin`) overwrites every field instead.
FieldRules = dict[str, str]
COMPANY_RULES: FieldRules = {"status": "set", "created_at": "min"}
TEAM_RULES: FieldRules = {
    "company_id": "keep", "name": "keep", "ancestry": "quiet", "created_at": "min",
}
USER_RULES: FieldRules = {
    "email": "keep", "password": "keep", "date_joined": "min", "is_active": "set",
    "email_verified": "set", "cognito_sub": "set", "is_staff": "set", "is_superuser": "set",
}
MEMBERSHIP_RULES: FieldRules = {
    "user_id": "keep", "company_id": "keep", "team_id": "keep", "role_id": "set",
    "created_at": "min",
}
PROJECT_RULES: FieldRules = {"company_id": "keep", "code": "keep", "created_at": "min"}
PLAIN_RULES: FieldRules = {}

# A person's rights held in their own fields: an import may switch them on, and switch
# them off only for people an import created (see NativeRights).
RIGHTS_FLAGS = frozenset({"is_active", "is_staff", "is_superuser"})


def fingerprint(row: Row) -> str:
    """Return a stable hash of a canonical legacy row: equal rows, equal fingerprints.

    The values' repr, in the table's column order (`legacy_schema`): every canonical value
    (int, str, bool, None, datetime, Decimal) has a repr that is stable across runs.
    """
    return hashlib.sha256(repr(tuple(row.values())).encode()).hexdigest()


def _unusable_password() -> str:
    """What make_password(None) returns, without its character-by-character random draw."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unreadable(row: Row) -> str:
    problems = "; ".join(f"{column}: {problem}" for column, problem in row[ERRORS_KEY].items())
    return f"unreadable value ({problems})"


@dataclass
class Planned:
    """One legacy row, turned into the field values of the object it becomes."""

    legacy_id: str
    row: Row
    key: Hashable | None  # rows with the same key become one object; None: its own object
    values: dict[str, Any]
    fingerprint: str = ""


@dataclass
class _Existing:
    pk: int
    object_id: int
    fingerprint: str
    is_origin: bool


class Provenance:
    """LegacyRecord rows: looked up per batch, written in bulk (COPY on PostgreSQL)."""

    _COLUMNS = ("source", "table", "legacy_id", "content_type_id", "object_id", "fingerprint",
                "is_origin", "imported_at", "updated_at")

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._content_types: dict[type[models.Model], ContentType] = {}
        self._new: list[tuple[Any, ...]] = []
        self._changed: list[LegacyRecord] = []
        self._imported_before: dict[tuple[str, str], bool] = {}

    def content_type(self, model: type[models.Model]) -> ContentType:
        if model not in self._content_types:
            self._content_types[model] = ContentType.objects.get_for_model(model)
        return self._content_types[model]

    def lookup(self, source: str, table: str, legacy_ids: list[str]) -> dict[str, _Existing]:
        found: dict[str, _Existing] = {}
        if (source, table) not in self._imported_before:
            # Asked before this run writes the table's first batch.
            self._imported_before[(source, table)] = LegacyRecord.objects.filter(
                source=source, table=table
            ).exists()
        if not self._imported_before[(source, table)]:
            return found  # never imported before: nothing to look up
        for chunk in _chunks(legacy_ids, LOOKUP_CHUNK):
            for pk, legacy_id, object_id, fp, origin in LegacyRecord.objects.filter(
                source=source, table=table, legacy_id__in=chunk
            ).values_list("pk", "legacy_id", "object_id", "fingerprint", "is_origin"):
                found[legacy_id] = _Existing(pk, object_id, fp, origin)
        return found

    def object_ids(self, source: str, table: str) -> dict[str, int]:
        return dict(
            LegacyRecord.objects.filter(source=source, table=table).values_list(
                "legacy_id", "object_id"
            )
        )

    def add(
        self, source: str, table: str, legacy_id: str, model: type[models.Model],
        object_id: int, fp: str, *, origin: bool,
    ) -> None:
        self._new.append((source, table, legacy_id, self.content_type(model).pk, object_id, fp,
                          origin, self.now, self.now))

    def refresh(self, existing: _Existing, fp: str) -> None:
        self._changed.append(LegacyRecord(pk=existing.pk, fingerprint=fp, updated_at=self.now))

    def flush(self) -> None:
        if self._new:
            if bulk.uses_copy():
                stamp = self.now.isoformat()
                bulk.copy_lines(LegacyRecord._meta.db_table, self._COLUMNS, "".join(
                    f"{source}\t{table}\t{bulk.copy_escape(legacy_id)}\t{content_type}\t"
                    f"{object_id}\t{fp}\t{'t' if origin else 'f'}\t{stamp}\t{stamp}\n"
                    for source, table, legacy_id, content_type, object_id, fp, origin, _, _
                    in self._new
                ))
            else:
                LegacyRecord.objects.bulk_create(
                    [LegacyRecord(**dict(zip(self._COLUMNS, row, strict=True)))
                     for row in self._new],
                    batch_size=WRITE_BATCH_SIZE,
                )
            self._new = []
        if self._changed:
            LegacyRecord.objects.bulk_update(
                self._changed, ["fingerprint", "updated_at"], batch_size=WRITE_BATCH_SIZE
            )
            self._changed = []


@dataclass
class NativeRights:
    """The rights of people no import created: an import adds to them, never takes away.

    A person created in the back-office (a native administrator, a staff member) may also
    appear in a legacy export, and the legacy system's view of them is older and narrower
    than the back-office's. Every merge of a legacy row into an existing user or
    membership asks `takes_away` first, whichever path (the command or the admin's upload)
    runs the loader. Memberships and direct grants an import did not write are never
    deleted by it at all.
    """

    people: frozenset[int]
    role_rank: dict[int, int]

    @classmethod
    def load(cls) -> NativeRights:
        """Read the users without a LegacyRecord that created them, and each role's rank."""
        created = LegacyRecord.objects.filter(
            content_type=ContentType.objects.get_for_model(User), is_origin=True
        ).values("object_id")
        return cls(
            people=frozenset(
                User.objects.exclude(pk__in=created).values_list("pk", flat=True)),
            role_rank=dict(Role.objects.values_list("pk", "rank")),
        )

    def takes_away(self, obj: models.Model, name: str, value: Any) -> bool:
        """Tell whether setting `name` of a stored `obj` to `value` lowers a native right."""
        if obj.pk is None:  # written in this run: nothing held before it
            return False
        if isinstance(obj, User):
            return obj.pk in self.people and name in RIGHTS_FLAGS and bool(
                getattr(obj, name)) and not value
        if isinstance(obj, Membership) and name == "role_id":
            return obj.user_id in self.people and (
                self.role_rank.get(value, 0) < self.role_rank.get(obj.role_id, 0))
        return False


@dataclass
class _PersonFacts:
    """What every legacy row of one person says, gathered before any user is written."""

    core_active: bool = False
    portal_active: bool = False
    sub: str | None = None
    email_verified: bool = False
    superuser: bool = False

    @property
    def active(self) -> bool:
        return self.core_active or self.portal_active


@dataclass
class _Cognito:
    email_verified: bool
    enabled: bool


@dataclass
class _RoleCandidate:
    source: str
    table: str
    planned: Planned
    rank: int
    role_slug: str


@dataclass
class Loader:
    core: LegacySource | None
    portal: LegacySource | None
    cognito_path: str | None
    report: ImportReport
    batch_size: int = DEFAULT_BATCH_SIZE
    progress: TextIO | None = None
    history_user: User | None = None
    now: datetime = field(default_factory=timezone.now)

    def __post_init__(self) -> None:
        self.prov = Provenance(self.now)
        self.native = NativeRights.load()
        self.history = bulk.History(self.history_user, CHANGE_REASON, self.now)
        self.roles = {role.slug: role for role in Role.objects.all()}
        # id maps: legacy ids → unified pks, and natural keys → pks
        self.company_of: dict[tuple[str, int], int] = {}
        self.team_of: dict[tuple[str, int], int] = {}
        self.team_ancestry: dict[int, str] = dict(Team.objects.values_list("pk", "ancestry"))
        self.team_company: dict[int, int] = dict(Team.objects.values_list("pk", "company_id"))
        self.core_user: dict[int, tuple[int, int, int | None]] = {}  # → user, company, team
        self.member: dict[int, int] = {}  # Portal member id → user pk
        self.project_of: dict[int, tuple[int, int, int | None]] = {}
        self.file_of: dict[int, int] = {}
        self.user_by_key: dict[Hashable, int] = {
            email.lower(): pk for email, pk in User.objects.values_list("email", "pk")
        }
        self.user_by_sub: dict[str, int] = dict(
            User.objects.filter(cognito_sub__isnull=False).values_list("cognito_sub", "pk")
        )
        self.people: dict[str, _PersonFacts] = defaultdict(_PersonFacts)
        self.cognito: dict[str, _Cognito] = {}
        self.sub_owner: dict[str, str] = {}
        self.company_emails: dict[tuple[str, int], set[str]] = defaultdict(set)
        self.super_core_ids: set[int] = set()
        self.users_written: set[int] = set()  # users that took a Core or Portal row's values

    # --- reading --------------------------------------------------------------------

    def _batches(self, source: LegacySource, table: str, verb: str = "") -> Iterator[list[Row]]:
        label = f"{verb}{source.system}.{table}"
        with tqdm(
            total=source.count(table), desc=label, unit=" rows", file=self.progress,
            disable=self.progress is None, leave=True, mininterval=0.5,
        ) as bar:
            for batch in source.iter_batches(table, self.batch_size):
                yield batch
                bar.update(len(batch))

    def _read(self, source: str, table: str, batch: list[Row]) -> list[Row]:
        """Count the batch as read and reject its unreadable rows; return the readable ones."""
        self.report.table(source, table).read += len(batch)
        readable = []
        for row in batch:
            if ERRORS_KEY in row:
                self.report.reject(source, table, self._legacy_id(source, table, row),
                                   _unreadable(row))
            else:
                readable.append(row)
        return readable

    @staticmethod
    def _legacy_id(source: str, table: str, row: Row) -> str:
        if table == "team_member":
            return f"{row.get('team_id')}:{row.get('member_id')}"
        if table == "user_roles":
            return f"{row.get('user_id')}:{row.get('role')}"
        if source == "cognito":
            return str(row.get("sub"))
        first = next(iter(row))
        return str(row[first])

    # --- writing --------------------------------------------------------------------

    def write(
        self, source: str, table: str, model: type[models.Model], planned: list[Planned],
        key_map: dict[Hashable, int], rules: FieldRules, written: set[int] | None = None,
    ) -> dict[str, int]:
        """Create, merge or update the objects of a batch of planned rows; return their pks.

        Each row counts as exactly one of created, merged, updated or unchanged. `written`
        collects the pks of the objects that took the values of one of the rows. A merged
        row without values is recorded without loading its object.
        """
        counts = self.report.table(source, table)
        existing = self.prov.lookup(source, table, [p.legacy_id for p in planned])
        result: dict[str, int] = {}
        new_objects: dict[Hashable, models.Model] = {}
        new_records: list[tuple[Planned, Hashable, bool]] = []
        touched: dict[int, list[tuple[Planned, bool]]] = defaultdict(list)
        for p in planned:
            fp = p.fingerprint = fingerprint(p.row)
            record = existing.get(p.legacy_id)
            if record is not None:
                result[p.legacy_id] = record.object_id
                if p.key is not None:
                    key_map.setdefault(p.key, record.object_id)
                if record.fingerprint == fp:
                    counts.count("unchanged")
                    continue
                counts.count("updated")
                touched[record.object_id].append((p, record.is_origin))
                self.prov.refresh(record, fp)
                continue
            target = key_map.get(p.key) if p.key is not None else None
            if target is not None:
                counts.count("merged")
                result[p.legacy_id] = target
                if p.values:
                    touched[target].append((p, False))
                self.prov.add(source, table, p.legacy_id, model, target, fp, origin=False)
                continue
            object_key = p.key if p.key is not None else ("row", p.legacy_id)
            if object_key in new_objects:
                counts.count("merged")
                self._apply(new_objects[object_key], p, rules, False, source, table)
                new_records.append((p, object_key, False))
            else:
                counts.count("created")
                new_objects[object_key] = bulk.new(model, p.values)
                new_records.append((p, object_key, True))
        if written is not None:
            written.update(touched)
        if new_objects:
            bulk.create(model, list(new_objects.values()), self.history)
            if written is not None:
                written.update(obj.pk for obj in new_objects.values())
            for p, object_key, origin in new_records:
                pk = new_objects[object_key].pk
                if p.key is not None:
                    key_map[p.key] = pk
                result[p.legacy_id] = pk
                self.prov.add(source, table, p.legacy_id, model, pk, p.fingerprint,
                              origin=origin)
        if touched:
            self._update(model, touched, rules, source, table)
        self.prov.flush()
        return result

    def _update(
        self, model: type[models.Model], touched: dict[int, list[tuple[Planned, bool]]],
        rules: FieldRules, source: str, table: str,
    ) -> None:
        objects = bulk.load(model, list(touched))
        changed: dict[int, models.Model] = {}
        fields: set[str] = set()
        for pk, items in touched.items():
            obj = objects.get(pk)
            if obj is None:  # deleted in the back-office since the last run: leave it so
                continue
            for p, origin in items:
                names = self._apply(obj, p, rules, origin, source, table)
                if names:
                    changed[pk] = obj
                    fields |= names
        bulk.update(model, list(changed.values()), sorted(fields), self.history)

    def _apply(
        self, obj: models.Model, p: Planned, rules: FieldRules, overwrite: bool,
        source: str, table: str,
    ) -> set[str]:
        """Merge one row's values into an object by the field rules; return changed fields."""
        changed: set[str] = set()
        for name, value in p.values.items():
            current = getattr(obj, name)
            if current == value:
                continue
            if self.native.takes_away(obj, name, value):
                self.report.conflict(
                    "rights_kept", object=f"{obj._meta.model_name} {obj.pk}", field=name,
                    kept=str(current), dropped=str(value), row=f"{source}.{table} #{p.legacy_id}",
                    rule="an import never takes a right from a person it did not create",
                )
                continue
            rule = rules.get(name, "fill")
            if overwrite or rule == "set":
                new = value
            elif rule == "keep":
                continue
            elif rule == "min":
                if value is None or (current is not None and current <= value):
                    continue
                new = value
            elif _empty(value):
                continue
            elif _empty(current):
                new = value
            else:
                if rule == "fill":
                    self.report.conflict(
                        "field", object=f"{obj._meta.model_name} {obj.pk or '(new)'}",
                        field=name, kept=str(current), dropped=str(value),
                        row=f"{source}.{table} #{p.legacy_id}",
                        rule="the first (Core before Portal) non-empty value wins",
                    )
                continue
            setattr(obj, name, new)
            changed.add(name)
        return changed

    # --- the run --------------------------------------------------------------------

    def run(self) -> None:
        steps = (
            self.scan_people, self.load_companies, self.load_teams, self.load_users,
            self.load_projects_and_documents, self.load_files, self.load_api_keys,
            self.load_memberships, self.load_grants,
        )
        for step in steps:
            started = time.monotonic()
            step()
            bulk.wait_for_writes()  # the step's seconds include its last writes
            self.report.phases[step.__name__] = time.monotonic() - started

    def scan_people(self) -> None:
        """Gather, before writing any user, what all systems say about each person."""
        if self.cognito_path:
            for row in read_cognito(self.cognito_path):
                if ERRORS_KEY not in row:
                    self.cognito[row["sub"]] = _Cognito(
                        bool(row.get("email_verified")), row.get("enabled") is not False
                    )
        if self.core:
            for batch in self._batches(self.core, "user_roles", "scan "):
                self.super_core_ids.update(
                    row["user_id"] for row in batch
                    if ERRORS_KEY not in row and row["role"] == SUPER_ADMIN
                )
            for batch in self._batches(self.core, "users", "scan "):
                for row in batch:
                    key = person_key(row.get("email")) if ERRORS_KEY not in row else None
                    if key is None:
                        continue
                    facts = self.people[key]
                    facts.core_active |= bool(row["is_active"])
                    facts.superuser |= row["id"] in self.super_core_ids
                    self.company_emails[("core", row["organization_id"])].add(key)
        if self.portal:
            for batch in self._batches(self.portal, "member", "scan "):
                for row in batch:
                    key = person_key(row.get("email")) if ERRORS_KEY not in row else None
                    if key is None:
                        continue
                    facts = self.people[key]
                    sub = row.get("cognito_sub")
                    pool_user = self.cognito.get(sub) if sub else None
                    # Disabled in Cognito: the person could not log in to Portal any more,
                    # so Portal's status no longer makes them active (Core still may).
                    enabled = pool_user.enabled if pool_user else True
                    facts.portal_active |= row["status"] in PORTAL_ACTIVE_STATUSES and enabled
                    if pool_user:
                        facts.email_verified |= pool_user.email_verified
                    if sub and facts.sub is None and self.sub_owner.setdefault(sub, key) == key:
                        facts.sub = sub
                    self.company_emails[("portal", row["company_id"])].add(key)

    # companies ---------------------------------------------------------------------------

    def _company_rows(self, source: LegacySource | None, table: str) -> list[Row]:
        rows: list[Row] = []
        if source is None:
            return rows
        for batch in self._batches(source, table):
            rows.extend(self._read(source.system, table, batch))
        return rows

    def load_companies(self) -> None:
        core_rows = self._company_rows(self.core, "organizations")
        portal_rows = self._company_rows(self.portal, "company")
        records = [self._company_record("core", row) for row in core_rows]
        records += [self._company_record("portal", row) for row in portal_rows]
        self.company_emails.clear()  # matching has them now
        decisions = [
            matching.Decision(
                (pair.left_source, int(pair.left_legacy_id)),
                (pair.right_source, int(pair.right_legacy_id)),
                matching.Verdict(pair.status),
            )
            for pair in ReviewPair.objects.exclude(status=ReviewPair.Status.OPEN)
        ]
        result = matching.match_companies(records, decisions=decisions)
        self._store_review_pairs(result.review_pairs, {r.key: r for r in records})
        cluster_of: dict[tuple[str, int], int] = {}
        for index, cluster in enumerate(result.clusters):
            for record_key in cluster:
                cluster_of[record_key] = index
        by_key = {r.key: r for r in records}
        status_of = {
            index: self._cluster_status([by_key[k] for k in cluster])
            for index, cluster in enumerate(result.clusters)
        }
        key_map: dict[Hashable, int] = {}
        for system, table in COMPANY_TABLES.items():
            for legacy_id, pk in self.prov.object_ids(system, table).items():
                index = cluster_of.get((system, int(legacy_id)))
                if index is not None:
                    key_map.setdefault(index, pk)
        vat_owner: dict[str, Hashable] = {
            vat: ("pk", pk)
            for vat, pk in Company.objects.filter(vat_number__isnull=False).values_list(
                "vat_number", "pk"
            )
        }
        for system, rows in (("core", core_rows), ("portal", portal_rows)):
            table = COMPANY_TABLES[system]
            for chunk in _chunks(rows, self.batch_size):
                planned = []
                for row in chunk:
                    legacy_id = int(next(iter(row.values())))
                    index = cluster_of[(system, legacy_id)]
                    values = self._company_values(system, row, status_of[index])
                    self._claim_vat(values, index, key_map, vat_owner, system, table, legacy_id)
                    planned.append(Planned(str(legacy_id), row, index, values))
                for legacy_id, pk in self.write(
                    system, table, Company, planned, key_map, COMPANY_RULES
                ).items():
                    self.company_of[(system, int(legacy_id))] = pk

    def _claim_vat(
        self, values: dict[str, Any], index: int, key_map: dict[Hashable, int],
        vat_owner: dict[str, Hashable], system: str, table: str, legacy_id: int,
    ) -> None:
        # A VAT number is unique in the unified model; when matching kept two rows with
        # the same number apart (conflicting evidence), only the first company gets it.
        vat = values.get("vat_number")
        if not vat:
            return
        mine = {("cluster", index)}
        if index in key_map:
            mine.add(("pk", key_map[index]))
        owner = vat_owner.setdefault(vat, ("cluster", index))
        if owner not in mine:
            values["vat_number"] = None
            self.report.conflict(
                "vat_in_use", row=f"{system}.{table} #{legacy_id}", vat=vat,
                rule="a VAT number belongs to one company; kept on the first, dropped here",
            )

    def _company_record(self, system: str, row: Row) -> CompanyRecord:
        if system == "core":
            return CompanyRecord(
                source="core", legacy_id=row["id"], name=row["name"],
                legal_name=row.get("legal_name"), vat=row.get("vat_number"),
                country=row.get("country"), domain=row.get("domain"),
                deleted=row.get("deleted_at") is not None,
                emails=frozenset(self.company_emails.get(("core", row["id"]), ())),
            )
        return CompanyRecord(
            source="portal", legacy_id=row["company_id"], name=row["company_name"],
            vat=row.get("vat"), country=row.get("country"), domain=row.get("website"),
            deleted=bool(row.get("is_deleted")),
            emails=frozenset(self.company_emails.get(("portal", row["company_id"]), ())),
        )

    @staticmethod
    def _cluster_status(records: list[CompanyRecord]) -> str:
        # Archived only when every legacy copy is soft-deleted (SPEC.md).
        if all(record.deleted for record in records):
            return Company.Status.ARCHIVED
        return Company.Status.ACTIVE

    @staticmethod
    def _company_values(system: str, row: Row, status: str) -> dict[str, Any]:
        if system == "core":
            country = (row.get("country") or "").strip().upper()
            return {
                "name": _text(row["name"]),
                "legal_name": _text(row.get("legal_name")),
                "vat_number": normalize_vat(row.get("vat_number"), country or None),
                "country": country if len(country) == 2 else "",
                "domain": (row.get("domain") or "").strip().lower(),
                "status": status,
                "created_at": row["created_at"],
            }
        domain = domain_from_url(row.get("website")) or ""
        country = country_code(row.get("country")) or country_from_tld(domain) or ""
        return {
            "name": _text(fix_mojibake(row["company_name"])),
            "legal_name": "",
            "vat_number": normalize_vat(row.get("vat"), country or row.get("country")),
            "country": country,
            "domain": domain,
            "status": status,
            "created_at": berlin_to_utc(row["created"]) or timezone.now(),
        }

    def _store_review_pairs(
        self, pairs: list[matching.ReviewPair], records: dict[tuple[str, int], CompanyRecord]
    ) -> None:
        existing = {
            (p.left_source, p.left_legacy_id, p.right_source, p.right_legacy_id): p
            for p in ReviewPair.objects.all()
        }
        new = []
        for pair in pairs:
            (ls, lid), (rs, rid) = pair.a, pair.b
            reason = f"{pair.reason.value}: " + "; ".join(e.detail for e in pair.evidence)
            self.report.review_pairs.append(
                {"a": f"{ls}.{COMPANY_TABLES[ls]} #{lid}",
                 "b": f"{rs}.{COMPANY_TABLES[rs]} #{rid}", "reason": reason}
            )
            if (ls, str(lid), rs, str(rid)) in existing:
                continue
            new.append(
                ReviewPair(
                    left_source=ls, left_table=COMPANY_TABLES[ls], left_legacy_id=str(lid),
                    left_evidence=_evidence(records[pair.a]),
                    right_source=rs, right_table=COMPANY_TABLES[rs], right_legacy_id=str(rid),
                    right_evidence=_evidence(records[pair.b]), reason=reason[:255],
                )
            )
        ReviewPair.objects.bulk_create(new, batch_size=WRITE_BATCH_SIZE)

    # teams -------------------------------------------------------------------------------

    def load_teams(self) -> None:
        key_map: dict[Hashable, int] = {
            (company_id, team_key(name)): pk
            for pk, company_id, name in Team.objects.values_list("pk", "company_id", "name")
        }
        if self.core:
            self._load_departments(key_map)
        if self.portal:
            for batch in self._batches(self.portal, "team"):
                planned = []
                for row in self._read("portal", "team", batch):
                    company = self.company_of.get(("portal", row["company_id"]))
                    name = _text(fix_mojibake(row["team_name"]))
                    if company is None or not name:
                        self.report.reject("portal", "team", str(row["team_id"]), (
                            f"its company {row['company_id']} does not exist in Portal"
                            if company is None else "the team has no name"))
                        continue
                    values = {"company_id": company, "name": name, "parent_id": None,
                              "ancestry": "/", "created_at": berlin_to_utc(row["created"])
                              or self.now}
                    planned.append(Planned(str(row["team_id"]), row,
                                           (company, team_key(name)), values))
                self._write_teams("portal", planned, key_map)

    def _load_departments(self, key_map: dict[Hashable, int]) -> None:
        # Departments nest through parent_id: write them level by level, so a parent
        # always has its pk (and ancestry) before its children are created.
        rows: dict[int, Row] = {}
        for batch in self._batches(self.core, "departments"):
            for row in self._read("core", "departments", batch):
                rows[row["id"]] = row

        def depth(dept_id: int) -> int:
            seen: set[int] = set()
            level = 0
            while (parent := rows[dept_id]["parent_id"]) in rows and parent not in seen:
                seen.add(dept_id)
                dept_id, level = parent, level + 1
            return level

        levels: dict[int, list[Row]] = defaultdict(list)
        for dept_id in rows:
            levels[depth(dept_id)].append(rows[dept_id])
        for level in sorted(levels):
            for chunk in _chunks(levels[level], self.batch_size):
                planned = []
                for row in chunk:
                    company = self.company_of.get(("core", row["organization_id"]))
                    name = _text(row["name"])
                    if company is None or not name:
                        self.report.reject("core", "departments", str(row["id"]), (
                            f"its organization {row['organization_id']} was not imported"
                            if company is None else "the department has no name"))
                        continue
                    parent = self.team_of.get(("core", row["parent_id"]))
                    if parent is not None and self.team_company.get(parent) != company:
                        parent = None
                    values = {
                        "company_id": company, "name": name, "parent_id": parent,
                        "ancestry": f"{self.team_ancestry[parent]}{parent}/" if parent else "/",
                        "created_at": row["created_at"],
                    }
                    planned.append(Planned(str(row["id"]), row, (company, team_key(name)),
                                           values))
                self._write_teams("core", planned, key_map)

    def _write_teams(self, system: str, planned: list[Planned], key_map) -> None:
        table = "departments" if system == "core" else "team"
        pks = self.write(system, table, Team, planned, key_map, TEAM_RULES)
        by_id = {p.legacy_id: p for p in planned}
        for legacy_id, pk in pks.items():
            self.team_of[(system, int(legacy_id))] = pk
            self.team_company[pk] = by_id[legacy_id].values["company_id"]
            self.team_ancestry.setdefault(pk, by_id[legacy_id].values["ancestry"])

    # users -------------------------------------------------------------------------------

    def _person_values(self, key: str) -> dict[str, Any]:
        facts = self.people[key]
        return {
            "is_active": facts.active,
            "email_verified": facts.email_verified,
            "cognito_sub": facts.sub,
            "is_staff": facts.superuser,
            "is_superuser": facts.superuser,
        }

    def load_users(self) -> None:
        if self.core:
            for batch in self._batches(self.core, "users"):
                planned, places = [], {}
                for row in self._read("core", "users", batch):
                    key = person_key(row.get("email"))
                    company = self.company_of.get(("core", row["organization_id"]))
                    if key is None or company is None:
                        self.report.reject("core", "users", str(row["id"]), (
                            f"e-mail address {row.get('email')!r} is not valid"
                            if key is None else
                            f"its organization {row['organization_id']} was not imported"))
                        continue
                    first, last = split_full_name(row.get("full_name"))
                    hashed = row.get("password_hash")
                    values = {
                        "email": key, "first_name": first[:150], "last_name": last[:150],
                        "password": f"bcrypt${hashed}" if hashed else _unusable_password(),
                        "date_joined": row["created_at"], **self._person_values(key),
                    }
                    planned.append(Planned(str(row["id"]), row, key, values))
                    team = self.team_of.get(("core", row["department_id"]))
                    places[row["id"]] = (company, team)
                pks = self.write("core", "users", User, planned, self.user_by_key, USER_RULES,
                                 self.users_written)
                for legacy_id, pk in pks.items():
                    company, team = places[int(legacy_id)]
                    self.core_user[int(legacy_id)] = (pk, company, team)
        if self.portal:
            for batch in self._batches(self.portal, "member"):
                planned = []
                for row in self._read("portal", "member", batch):
                    key = person_key(row.get("email"))
                    company = self.company_of.get(("portal", row["company_id"]))
                    if key is None or company is None:
                        self.report.reject("portal", "member", str(row["member_id"]), (
                            f"e-mail address {row.get('email')!r} is not valid"
                            if key is None else
                            f"its company {row['company_id']} does not exist in Portal"))
                        continue
                    values = {
                        "email": key,
                        "first_name": _text(fix_mojibake(row.get("first_name")))[:150],
                        "last_name": _text(fix_mojibake(row.get("last_name")))[:150],
                        "password": _unusable_password(),
                        "date_joined": berlin_to_utc(row["created"]) or self.now,
                        **self._person_values(key),
                    }
                    planned.append(Planned(str(row["member_id"]), row, key, values))
                pks = self.write("portal", "member", User, planned, self.user_by_key,
                                 USER_RULES, self.users_written)
                for legacy_id, pk in pks.items():
                    self.member[int(legacy_id)] = pk
                for p in planned:
                    if p.values["cognito_sub"] and p.legacy_id in pks:
                        self.user_by_sub[p.values["cognito_sub"]] = pks[p.legacy_id]
        if self.cognito_path:
            self._load_cognito_users()

    def _load_cognito_users(self) -> None:
        rows = list(read_cognito(self.cognito_path))
        for chunk in _chunks(rows, self.batch_size):
            planned = []
            for row in self._read("cognito", "users", chunk):
                key = person_key(row.get("email"))
                user = self.user_by_sub.get(row["sub"])
                if user is None and key is not None:
                    user = self.user_by_key.get(key)
                if user is None or key is None:
                    self.report.reject("cognito", "users", row["sub"], (
                        f"no Portal member or Core user has this Cognito user "
                        f"({row.get('email')}); it belongs to no company, so it is not imported"))
                    continue
                # The person's facts, Cognito's included, went into a user written in this
                # run from its own address: nothing left to merge.
                done = user in self.users_written and self.user_by_key.get(key) == user
                values = self._person_values(key) if key in self.people and not done else {}
                planned.append(Planned(row["sub"], row, ("user", user), values))
            sub_map = {("user", pk): pk for pk in {p.key[1] for p in planned}}
            self.write("cognito", "users", User, planned, sub_map, USER_RULES)

    # projects, documents, files, keys -----------------------------------------------------

    def load_projects_and_documents(self) -> None:
        if not self.core:
            return
        key_map: dict[Hashable, int] = {
            (company, code): pk for pk, company, code in
            Project.objects.values_list("pk", "company_id", "code")
        }
        for batch in self._batches(self.core, "projects"):
            planned = []
            for row in self._read("core", "projects", batch):
                company = self.company_of.get(("core", row["organization_id"]))
                if company is None:
                    self.report.reject("core", "projects", str(row["id"]),
                                       _missing("organization", row["organization_id"]))
                    continue
                team = self.team_of.get(("core", row["department_id"]))
                cents = row.get("budget_cents")
                values = {
                    "company_id": company, "team_id": team, "code": row["code"],
                    "name": _text(row["name"])[:255], "status": row["status"],
                    "budget": Decimal(cents) / 100 if cents is not None else None,
                    "archived": bool(row["archived"]), "created_at": row["created_at"],
                }
                planned.append(Planned(str(row["id"]), row, (company, row["code"]), values))
            pks = self.write("core", "projects", Project, planned, key_map, PROJECT_RULES)
            by_id = {p.legacy_id: p.values for p in planned}
            for legacy_id, pk in pks.items():
                values = by_id[legacy_id]
                self.project_of[int(legacy_id)] = (pk, values["company_id"], values["team_id"])
        for batch in self._batches(self.core, "documents"):
            planned = []
            for row in self._read("core", "documents", batch):
                project = self.project_of.get(row["project_id"])
                if project is None:
                    self.report.reject("core", "documents", str(row["id"]),
                                       f"its project {row['project_id']} was not imported")
                    continue
                uploader = self._uploader("core", "documents", row["id"], row["uploaded_by"],
                                          self.core_user.get(row["uploaded_by"]))
                values = {
                    "company_id": project[1], "team_id": project[2], "project_id": project[0],
                    "original_name": _text(row["filename"])[:255],
                    "content_type": row.get("content_type") or "", "size": row.get("size_bytes"),
                    "uploaded_by_id": uploader, "uploaded_at": row["uploaded_at"],
                    "legacy_bucket": CORE_DOCUMENT_BUCKET, "legacy_key": row["s3_key"],
                }
                planned.append(Planned(str(row["id"]), row, None, values))
            self.write("core", "documents", Document, planned, {}, PLAIN_RULES)

    def _uploader(self, source: str, table: str, legacy_id: int, uploader_id: int | None,
                  found: Any) -> int | None:
        if uploader_id is None:
            return None
        if found is None:
            self.report.conflict(
                "uploader_missing", row=f"{source}.{table} #{legacy_id}",
                uploader=uploader_id, rule="imported without an uploader",
            )
            return None
        return found[0] if isinstance(found, tuple) else found

    def load_files(self) -> None:
        if not self.portal:
            return
        for batch in self._batches(self.portal, "file"):
            planned = []
            for row in self._read("portal", "file", batch):
                team = self.team_of.get(("portal", row["team_id"]))
                if team is None:
                    self.report.reject("portal", "file", str(row["file_id"]),
                                       f"its team {row['team_id']} does not exist in Portal")
                    continue
                uploader = self._uploader("portal", "file", row["file_id"],
                                          row.get("uploader_member_id"),
                                          self.member.get(row.get("uploader_member_id")))
                values = {
                    "company_id": self.team_company[team], "team_id": team, "project_id": None,
                    "original_name": _text(fix_mojibake(row["original_name"]))[:255],
                    "content_type": row.get("mime") or "", "size": row.get("bytes"),
                    "uploaded_by_id": uploader,
                    "uploaded_at": berlin_to_utc(row["uploaded"]) or self.now,
                    "legacy_bucket": row["bucket"], "legacy_key": row["object_key"],
                }
                planned.append(Planned(str(row["file_id"]), row, None, values))
            for legacy_id, pk in self.write("portal", "file", Document, planned, {},
                                            PLAIN_RULES).items():
                self.file_of[int(legacy_id)] = pk

    def load_api_keys(self) -> None:
        if self.core:
            for batch in self._batches(self.core, "api_clients"):
                planned = []
                for row in self._read("core", "api_clients", batch):
                    company = self.company_of.get(("core", row["organization_id"]))
                    if company is None:
                        self.report.reject("core", "api_clients", str(row["id"]),
                                           _missing("organization", row["organization_id"]))
                        continue
                    values = {
                        "company_id": company, "name": _text(row["name"])[:200],
                        "prefix": row["client_id"], "hashed_key": row["client_secret_hash"],
                        "hash_scheme": APIKey.Scheme.BCRYPT,
                        "scopes": " ".join((row.get("scopes") or "read").split()),
                        "revoked_at": row.get("revoked_at"), "created_at": row["created_at"],
                    }
                    planned.append(Planned(str(row["id"]), row, None, values))
                self.write("core", "api_clients", APIKey, planned, {}, PLAIN_RULES)
        if self.portal:
            for batch in self._batches(self.portal, "api_key"):
                planned = []
                for row in self._read("portal", "api_key", batch):
                    company = self.company_of.get(("portal", row["company_id"]))
                    if company is None:
                        self.report.reject("portal", "api_key", str(row["key_id"]),
                                           _missing("company", row["company_id"]))
                        continue
                    values = {
                        "company_id": company, "name": _text(fix_mojibake(row["label"]))[:200],
                        "prefix": row["key_prefix"], "hashed_key": row["key_sha256"].lower(),
                        "hash_scheme": APIKey.Scheme.SHA256, "scopes": "read write",
                        "expires_at": berlin_to_utc(row.get("expires")),
                        "created_at": berlin_to_utc(row["created"]) or self.now,
                    }
                    planned.append(Planned(str(row["key_id"]), row, None, values))
                self.write("portal", "api_key", APIKey, planned, {}, PLAIN_RULES)

    # memberships ---------------------------------------------------------------------------

    def load_memberships(self) -> None:
        candidates: dict[tuple[int, int, int | None], list[_RoleCandidate]] = defaultdict(list)
        supers: list[Planned] = []
        if self.core:
            for batch in self._batches(self.core, "user_roles"):
                for row in self._read("core", "user_roles", batch):
                    self._core_role(row, candidates, supers)
        if self.portal:
            for batch in self._batches(self.portal, "team_member"):
                for row in self._read("portal", "team_member", batch):
                    self._portal_role(row, candidates)
        for chunk in _chunks(supers, self.batch_size):
            key_map = {p.key: p.key[1] for p in chunk}
            self.write("core", "user_roles", User, chunk, key_map, USER_RULES)
        by_table: dict[tuple[str, str], list[Planned]] = defaultdict(list)
        for scope, items in candidates.items():
            winner = max(items, key=lambda c: c.rank)
            for item in items:
                item.planned.values["role_id"] = self.roles[winner.role_slug].pk
                if item is not winner and item.role_slug != winner.role_slug:
                    self.report.conflict(
                        "role_outranked",
                        row=f"{item.source}.{item.table} #{item.planned.legacy_id}",
                        user=scope[0], company=scope[1], team=scope[2],
                        kept=winner.role_slug, dropped=item.role_slug,
                        rule="several roles in one scope: the highest rank wins",
                    )
                by_table[(item.source, item.table)].append(item.planned)
        key_map: dict[Hashable, int] = {
            (user, company, team): pk for pk, user, company, team in
            Membership.objects.values_list("pk", "user_id", "company_id", "team_id")
        }
        for (source, table), planned in sorted(by_table.items()):
            for chunk in _chunks(planned, self.batch_size):
                self.write(source, table, Membership, chunk, key_map, MEMBERSHIP_RULES)

    def _core_role(self, row: Row, candidates, supers: list[Planned]) -> None:
        legacy_id = self._legacy_id("core", "user_roles", row)
        user = self.core_user.get(row["user_id"])
        if user is None:
            self.report.reject("core", "user_roles", legacy_id,
                               f"its user {row['user_id']} was not imported")
            return
        role_name = (row.get("role") or "").strip()
        if role_name == SUPER_ADMIN:
            supers.append(Planned(legacy_id, row, ("user", user[0]),
                                  {"is_staff": True, "is_superuser": True}))
            return
        if role_name not in CORE_ROLES:
            self.report.reject("core", "user_roles", legacy_id,
                               f"unknown Core role {role_name!r}: no unified role corresponds")
            return
        slug, scope = CORE_ROLES[role_name]
        user_pk, company, team = user
        if scope == "company":
            team = None
        elif team is None and scope == "department":
            self.report.reject("core", "user_roles", legacy_id,
                               f"{role_name} needs a department; user {row['user_id']} has none")
            return
        values = {"user_id": user_pk, "company_id": company, "team_id": team,
                  "created_at": row.get("granted_at") or self.now}
        candidates[(user_pk, company, team)].append(_RoleCandidate(
            "core", "user_roles", Planned(legacy_id, row, (user_pk, company, team), values),
            self.roles[slug].rank, slug))

    def _portal_role(self, row: Row, candidates) -> None:
        legacy_id = self._legacy_id("portal", "team_member", row)
        user = self.member.get(row["member_id"])
        team = self.team_of.get(("portal", row["team_id"]))
        slug = PORTAL_ROLES.get(row.get("team_role") or "")
        if user is None or team is None or slug is None:
            self.report.reject("portal", "team_member", legacy_id, (
                f"its member {row['member_id']} does not exist in Portal (or was rejected)"
                if user is None else
                f"its team {row['team_id']} does not exist in Portal" if team is None else
                f"unknown Portal team role {row.get('team_role')!r}"))
            return
        company = self.team_company[team]
        values = {"user_id": user, "company_id": company, "team_id": team,
                  "created_at": berlin_to_utc(row["added"]) or self.now}
        candidates[(user, company, team)].append(_RoleCandidate(
            "portal", "team_member", Planned(legacy_id, row, (user, company, team), values),
            self.roles[slug].rank, slug))

    # direct grants -------------------------------------------------------------------------

    def load_grants(self) -> None:
        if not self.portal:
            return
        targets: dict[str, tuple[type[models.Model], type[models.Model], Callable]] = {
            "company": (Company, CompanyUserObjectPermission,
                        lambda i: self.company_of.get(("portal", i))),
            "team": (Team, TeamUserObjectPermission, lambda i: self.team_of.get(("portal", i))),
            "file": (Document, DocumentUserObjectPermission, self.file_of.get),
        }
        permissions = {
            (model, bit): Permission.objects.get(
                content_type=self.prov.content_type(model),
                codename=f"{action}_{model._meta.model_name}",
            ).pk
            for model, _, _ in targets.values() for bit, action in PERMISSION_BITS.items()
        }
        counts = self.report.table("portal", "permission_grant")
        for batch in self._batches(self.portal, "permission_grant"):
            rows = self._read("portal", "permission_grant", batch)
            existing = self.prov.lookup("portal", "permission_grant",
                                        [str(r["grant_id"]) for r in rows])
            grants: dict[type[models.Model], list[tuple[int, int, int]]] = defaultdict(list)
            for row in rows:
                legacy_id = str(row["grant_id"])
                user = self.member.get(row["member_id"])
                target = targets.get(row["resource_type"])
                obj = target[2](row["resource_id"]) if target else None
                bits = row["perms"] or 0
                if user is None or obj is None or not bits & KNOWN_BITS:
                    self.report.reject("portal", "permission_grant", legacy_id, (
                        f"its member {row['member_id']} does not exist in Portal (or was rejected)"
                        if user is None else
                        f"its {row['resource_type']} {row['resource_id']} does not exist in Portal"
                        if obj is None else f"no known permission bit in {bits}"))
                    continue
                if bits & ~KNOWN_BITS:
                    self.report.conflict(
                        "unknown_permission_bits", row=f"portal.permission_grant #{legacy_id}",
                        perms=bits, ignored=bits & ~KNOWN_BITS,
                        rule="only 1 view, 2 change, 4 delete, 8 share are imported",
                    )
                fp = fingerprint(row)
                record = existing.get(legacy_id)
                if record is not None and record.fingerprint == fp:
                    counts.count("unchanged")
                    continue
                model, perm_model, _ = target
                for bit in PERMISSION_BITS:
                    if bits & bit:
                        grants[perm_model].append((user, obj, permissions[(model, bit)]))
                if record is None:
                    counts.count("created")
                    self.prov.add("portal", "permission_grant", legacy_id, model, obj, fp,
                                  origin=True)
                else:
                    # A changed grant adds the bits it gained; it does not take any away.
                    counts.count("updated")
                    self.prov.refresh(record, fp)
            for perm_model, rows in grants.items():
                bulk.insert_new(perm_model, ("user_id", "content_object_id", "permission_id"),
                                rows)
            self.prov.flush()


def _missing(kind: str, legacy_id: Any) -> str:
    if kind == "organization":
        return f"its organization {legacy_id} was not imported"
    return f"its {kind} {legacy_id} does not exist in Portal"


def _evidence(record: CompanyRecord) -> dict[str, Any]:
    return {
        "name": record.name, "legal_name": record.legal_name, "vat": record.vat,
        "country": record.country, "domain": record.domain, "deleted": record.deleted,
        "people": len(record.emails),
    }


# Every model an import writes: a first import checks their foreign keys in one go.
WRITTEN_MODELS: tuple[type[models.Model], ...] = (
    Company, Team, User, Project, Document, APIKey, Membership, CompanyUserObjectPermission,
    TeamUserObjectPermission, DocumentUserObjectPermission, LegacyRecord, ReviewPair,
)


# The tables of grants an import writes (their triggers move access versions).
GRANT_TABLES = tuple(model._meta.db_table for model in (
    Membership, CompanyUserObjectPermission, TeamUserObjectPermission,
    DocumentUserObjectPermission,
))


def written_tables() -> tuple[list[str], list[str]]:
    """The tables an import writes, and those of them it never reads (see bulk.bulk_load)."""
    written = [model._meta.db_table for model in WRITTEN_MODELS]
    history = [model.history.model._meta.db_table for model in WRITTEN_MODELS
               if hasattr(model, "history")]
    # VERSION_TABLE is written by the triggers of memberships and grants; LegacyRecord is
    # read through its unique key only.
    return [*written, *history, VERSION_TABLE], [*history, LegacyRecord._meta.db_table]


def import_legacy(
    *, core: LegacySource | None = None, portal: LegacySource | None = None,
    cognito: str | None = None, dry_run: bool = False, force: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE, progress: TextIO | None = None,
    history_user: User | None = None,
) -> ImportReport:
    """Import the given legacy sources in one transaction; roll it back for a dry run.

    When every input is as it was for the last successful import (`importers.digest`), no
    row is read and the report says so; `force` reads and compares every row regardless.
    """
    started = time.monotonic()
    inputs = source_digest(core, portal, cognito)
    previous = None if force else unchanged_since(inputs)
    if previous is not None:
        report = unchanged_report(previous, dry_run=dry_run)
    else:
        report = ImportReport(dry_run=dry_run)
        with transaction.atomic():
            bulk.analyze(LegacyRecord)  # the lookups of every batch rely on its statistics
            loader = Loader(core=core, portal=portal, cognito_path=cognito, report=report,
                            batch_size=batch_size, progress=progress,
                            history_user=history_user)
            # The first import writes every row anew: check its keys once, at the end, and
            # bump the access versions of the people it gave roles and grants once, too.
            first = not LegacyRecord.objects.exists()
            load = bulk.bulk_load(*written_tables()) if first else nullcontext()
            grants = holders_bumped_once(connection, GRANT_TABLES) if first else nullcontext()
            with load:
                with grants:
                    with bulk.background_writes():
                        loader.run()
                    keys_started = time.monotonic()
            if first:
                report.phases["keys_and_indexes"] = time.monotonic() - keys_started
            report.digest = with_records(inputs)
            if dry_run:
                transaction.set_rollback(True)
            commit_started = time.monotonic()
        # Deferred foreign-key checks run here, for every row written.
        report.phases["commit"] = time.monotonic() - commit_started
    report.duration_s = time.monotonic() - started
    return report
