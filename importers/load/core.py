"""What each row of Core (PostgreSQL) becomes: pure functions, no database.

    organizations   → Company      (matched with Portal's companies: `importers.matching`)
    departments     → Team         (nested through parent_id; `department_values`)
    users           → User         (by e-mail, merged with Portal's member; `user_values`)
    user_roles      → Membership   (`ROLES`, the highest rank per scope wins: `importers.roles`);
                      SUPER_ADMIN → User.is_staff and is_superuser
    projects        → Project      (`project_values`)
    documents       → Document     (`document_values`)
    api_clients     → APIKey       (`api_client_values`)

The steps in `load.companies`, `load.people`, `load.content` and `load.access` read the
rows, look up the unified pks these functions take, and write what they return.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from importers.load.engine import Row, unusable_password
from importers.load.state import PersonFacts, ProjectPlace
from importers.normalize import normalize_vat, plain_text, split_full_name
from importers.records import CompanyRecord
from rbac.models import APIKey

DOCUMENT_BUCKET = "core-documents"
SUPER_ADMIN = "SUPER_ADMIN"
# Core role → (unified role slug, scope). "department" falls back to the company for MEMBER.
ROLES: dict[str, tuple[str, str]] = {
    "ORG_ADMIN": ("admin", "company"),
    "DEPT_MANAGER": ("manager", "department"),
    "MEMBER": ("editor", "department_or_company"),
    "READ_ONLY": ("viewer", "company"),
    "BILLING": ("billing", "company"),
}


def company_record(row: Row, emails: frozenset[str]) -> CompanyRecord:
    """Return what matching compares of an organization."""
    return CompanyRecord(
        source="core", legacy_id=row["id"], name=row["name"],
        legal_name=row.get("legal_name"), vat=row.get("vat_number"),
        country=row.get("country"), domain=row.get("domain"),
        deleted=row.get("deleted_at") is not None, emails=emails,
    )


def company_values(row: Row, status: str) -> dict[str, Any]:
    country = (row.get("country") or "").strip().upper()
    return {
        "name": plain_text(row["name"]),
        "legal_name": plain_text(row.get("legal_name")),
        "vat_number": normalize_vat(row.get("vat_number"), country or None),
        "country": country if len(country) == 2 else "",
        "domain": (row.get("domain") or "").strip().lower(),
        "status": status,
        "created_at": row["created_at"],
    }


def department_name(row: Row) -> str:
    return plain_text(row["name"])


def department_values(row: Row, company: int, parent: int | None,
                      parent_ancestry: str) -> dict[str, Any]:
    """Return a department's team; `parent` is its parent's team, if in the same company."""
    return {
        "company_id": company, "name": department_name(row), "parent_id": parent,
        "ancestry": f"{parent_ancestry}{parent}/" if parent else "/",
        "created_at": row["created_at"],
    }


def user_values(row: Row, key: str, person: dict[str, Any]) -> dict[str, Any]:
    """Return a Core user's values; `person` holds what every system says (`person_values`)."""
    first, last = split_full_name(row.get("full_name"))
    hashed = row.get("password_hash")
    return {
        "email": key, "first_name": first[:150], "last_name": last[:150],
        "password": f"bcrypt${hashed}" if hashed else unusable_password(),
        "date_joined": row["created_at"], **person,
    }


def person_values(facts: PersonFacts) -> dict[str, Any]:
    """Return the user fields that every legacy row of a person decides together."""
    return {
        "is_active": facts.active,
        "email_verified": facts.email_verified,
        "cognito_sub": facts.sub,
        "is_staff": facts.superuser,
        "is_superuser": facts.superuser,
    }


def project_values(row: Row, company: int, team: int | None) -> dict[str, Any]:
    cents = row.get("budget_cents")
    return {
        "company_id": company, "team_id": team, "code": row["code"],
        "name": plain_text(row["name"])[:255], "status": row["status"],
        "budget": Decimal(cents) / 100 if cents is not None else None,
        "archived": bool(row["archived"]), "created_at": row["created_at"],
    }


def document_values(row: Row, project: ProjectPlace, uploader: int | None) -> dict[str, Any]:
    return {
        "company_id": project.company, "team_id": project.team, "project_id": project.pk,
        "original_name": plain_text(row["filename"])[:255],
        "content_type": row.get("content_type") or "", "size": row.get("size_bytes"),
        "uploaded_by_id": uploader, "uploaded_at": row["uploaded_at"],
        "legacy_bucket": DOCUMENT_BUCKET, "legacy_key": row["s3_key"],
    }


def api_client_values(row: Row, company: int) -> dict[str, Any]:
    return {
        "company_id": company, "name": plain_text(row["name"])[:200],
        "prefix": row["client_id"], "hashed_key": row["client_secret_hash"],
        "hash_scheme": APIKey.Scheme.BCRYPT,
        "scopes": " ".join((row.get("scopes") or "read").split()),
        "revoked_at": row.get("revoked_at"), "created_at": row["created_at"],
    }


def role_granted_at(row: Row, now: datetime) -> datetime:
    return row.get("granted_at") or now
