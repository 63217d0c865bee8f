"""What each row of Portal (MariaDB) and the Cognito export becomes: pure functions.

    company           → Company      (matched with Core's organizations: `importers.matching`)
    team              → Team         (`team_values`)
    member            → User         (by e-mail, merged with Core's user; `member_values`;
                                      active per `member_active`, Cognito's facts included)
    team_member       → Membership   (`ROLES`, the highest rank per scope wins: `importers.roles`)
    file              → Document     (`file_values`)
    api_key           → APIKey       (`api_key_values`)
    permission_grant  → direct object permissions (`PERMISSION_BITS`)
    cognito users     → User         (email_verified, cognito_sub; found by sub, then e-mail)

Portal's timestamps are naive Europe/Berlin wall-clock times (`berlin_to_utc`), and its
text may be mojibake (`fix_mojibake`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from importers.load.engine import Row, unusable_password
from importers.load.state import CognitoFacts
from importers.normalize import (
    berlin_to_utc,
    country_code,
    country_from_tld,
    domain_from_url,
    fix_mojibake,
    normalize_vat,
    plain_text,
)
from importers.records import CompanyRecord
from rbac.models import APIKey

ROLES = {"owner": "owner", "admin": "admin", "editor": "editor", "viewer": "viewer"}
ACTIVE_STATUSES = frozenset({"active", "invited"})
PERMISSION_BITS: dict[int, str] = {1: "view", 2: "change", 4: "delete", 8: "share"}
KNOWN_BITS = sum(PERMISSION_BITS)


def company_record(row: Row, emails: frozenset[str]) -> CompanyRecord:
    """Return what matching compares of a company."""
    return CompanyRecord(
        source="portal", legacy_id=row["company_id"], name=row["company_name"],
        vat=row.get("vat"), country=row.get("country"), domain=row.get("website"),
        deleted=bool(row.get("is_deleted")), emails=emails,
    )


def company_values(row: Row, status: str, now: datetime) -> dict[str, Any]:
    domain = domain_from_url(row.get("website")) or ""
    country = country_code(row.get("country")) or country_from_tld(domain) or ""
    return {
        "name": plain_text(fix_mojibake(row["company_name"])),
        "legal_name": "",
        "vat_number": normalize_vat(row.get("vat"), country or row.get("country")),
        "country": country,
        "domain": domain,
        "status": status,
        "created_at": berlin_to_utc(row["created"]) or now,
    }


def team_name(row: Row) -> str:
    return plain_text(fix_mojibake(row["team_name"]))


def team_values(row: Row, company: int, now: datetime) -> dict[str, Any]:
    return {"company_id": company, "name": team_name(row), "parent_id": None, "ancestry": "/",
            "created_at": berlin_to_utc(row["created"]) or now}


def member_active(row: Row, pool_user: CognitoFacts | None) -> bool:
    """Tell whether a member row makes its person active.

    Disabled in Cognito: the person could not log in to Portal any more, so Portal's status
    no longer makes them active (Core still may).
    """
    enabled = pool_user.enabled if pool_user else True
    return row["status"] in ACTIVE_STATUSES and enabled


def member_values(row: Row, key: str, person: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Return a member's values; `person` holds what every system says (`person_values`)."""
    return {
        "email": key,
        "first_name": plain_text(fix_mojibake(row.get("first_name")))[:150],
        "last_name": plain_text(fix_mojibake(row.get("last_name")))[:150],
        "password": unusable_password(),
        "date_joined": berlin_to_utc(row["created"]) or now,
        **person,
    }


def cognito_facts(row: Row) -> CognitoFacts:
    return CognitoFacts(bool(row.get("email_verified")), row.get("enabled") is not False)


def file_values(row: Row, company: int, team: int, uploader: int | None,
                now: datetime) -> dict[str, Any]:
    return {
        "company_id": company, "team_id": team, "project_id": None,
        "original_name": plain_text(fix_mojibake(row["original_name"]))[:255],
        "content_type": row.get("mime") or "", "size": row.get("bytes"),
        "uploaded_by_id": uploader,
        "uploaded_at": berlin_to_utc(row["uploaded"]) or now,
        "legacy_bucket": row["bucket"], "legacy_key": row["object_key"],
    }


def api_key_values(row: Row, company: int, now: datetime) -> dict[str, Any]:
    return {
        "company_id": company, "name": plain_text(fix_mojibake(row["label"]))[:200],
        "prefix": row["key_prefix"], "hashed_key": row["key_sha256"].lower(),
        "hash_scheme": APIKey.Scheme.SHA256, "scopes": "read write",
        "expires_at": berlin_to_utc(row.get("expires")),
        "created_at": berlin_to_utc(row["created"]) or now,
    }


def membership_added_at(row: Row, now: datetime) -> datetime:
    return berlin_to_utc(row["added"]) or now


def granted_actions(bits: int) -> list[int]:
    """Return the known permission bits set in a grant's `perms`, in PERMISSION_BITS order."""
    return [bit for bit in PERMISSION_BITS if bits & bit]
