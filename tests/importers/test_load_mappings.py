"""What a legacy row becomes: the pure mappings of load.core and load.portal, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from importers.load import core, portal
from importers.load.state import CognitoFacts, PersonFacts, ProjectPlace

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PERSON = core.person_values(PersonFacts(core_active=True, sub="sub-1", email_verified=True))


def portal_member(**changes) -> dict:
    row = {"member_id": 7, "cognito_sub": "sub-1", "email": "Anna@Example.test",
           "first_name": "JÃ¼rgen ", "last_name": "  MÃ¼ller", "phone": "",
           "company_id": 3, "status": "active", "created": datetime(2023, 7, 1, 14, 0),
           "last_seen": None}
    return row | changes


def test_a_portal_member_becomes_a_user_with_repaired_names_and_utc_dates() -> None:
    values = portal.member_values(portal_member(), "anna@example.test", PERSON, NOW)
    assert values["email"] == "anna@example.test"
    assert (values["first_name"], values["last_name"]) == ("Jürgen", "Müller")
    # 14:00 in Berlin in July is 12:00 UTC.
    assert values["date_joined"] == datetime(2023, 7, 1, 12, 0, tzinfo=UTC)
    assert values["password"].startswith("!")  # no Portal password is ever usable here
    assert values["is_active"] is True and values["cognito_sub"] == "sub-1"


def test_a_portal_member_without_a_creation_date_joined_at_the_import() -> None:
    values = portal.member_values(portal_member(created=None), "a@example.test", PERSON, NOW)
    assert values["date_joined"] == NOW


def test_a_member_is_active_only_when_active_or_invited_and_enabled_in_cognito() -> None:
    assert portal.member_active(portal_member(status="invited"), None)
    assert not portal.member_active(portal_member(status="disabled"), None)
    assert not portal.member_active(portal_member(), CognitoFacts(email_verified=True,
                                                                  enabled=False))


def test_the_person_fields_follow_every_system_together() -> None:
    values = core.person_values(PersonFacts(portal_active=True, superuser=True))
    assert values == {"is_active": True, "email_verified": False, "cognito_sub": None,
                      "is_staff": True, "is_superuser": True}


def test_a_core_user_keeps_its_bcrypt_hash_and_splits_its_name() -> None:
    row = {"id": 1, "email": "x@example.test", "full_name": "Lois van der Laan",
           "password_hash": "$2a$10$abc", "created_at": NOW}
    values = core.user_values(row, "x@example.test", PERSON)
    assert values["password"] == "bcrypt$$2a$10$abc"
    assert (values["first_name"], values["last_name"]) == ("Lois", "van der Laan")


def test_a_core_organization_keeps_a_two_letter_country_and_normalises_the_vat() -> None:
    row = {"id": 5, "name": "  ACME   GmbH ", "legal_name": None, "vat_number": "de 136 695 976",
           "country": "de", "domain": " ACME.de ", "created_at": NOW}
    values = core.company_values(row, "active")
    assert values["name"] == "ACME GmbH"
    assert values["country"] == "DE" and values["vat_number"] == "DE136695976"
    assert values["domain"] == "acme.de"
    assert core.company_values(row | {"country": "Germany"}, "active")["country"] == ""


def test_a_portal_company_takes_its_country_from_the_name_or_the_domain() -> None:
    row = {"company_id": 2, "company_name": "Bright Peak Retail Ltd.", "vat": None,
           "website": "www.brightpeakretail.co.uk", "country": "", "is_deleted": 0,
           "created": None}
    values = portal.company_values(row, "active", NOW)
    assert values["country"] == "GB" and values["domain"] == "brightpeakretail.co.uk"
    assert values["created_at"] == NOW
    assert portal.company_values(row | {"country": "Netherlands"}, "active",
                                 NOW)["country"] == "NL"


def test_a_nested_department_records_its_parent_in_the_ancestry() -> None:
    row = {"id": 9, "name": "Sales", "created_at": NOW}
    assert core.department_values(row, 1, None, "")["ancestry"] == "/"
    assert core.department_values(row, 1, 4, "/2/")["ancestry"] == "/2/4/"


def test_a_project_budget_is_in_euros_and_a_document_sits_where_its_project_does() -> None:
    row = {"id": 3, "code": "P-1", "name": "Roll-out", "status": "active",
           "budget_cents": 123456, "archived": 0, "created_at": NOW}
    assert core.project_values(row, 1, 2)["budget"] == Decimal("1234.56")
    document = {"id": 8, "filename": "a.pdf", "content_type": None, "size_bytes": 10,
                "uploaded_at": NOW, "s3_key": "k/a.pdf"}
    values = core.document_values(document, ProjectPlace(pk=30, company=1, team=None), 5)
    assert (values["project_id"], values["company_id"], values["team_id"]) == (30, 1, None)
    assert values["legacy_bucket"] == core.DOCUMENT_BUCKET and values["content_type"] == ""


def test_core_roles_map_to_a_unified_role_and_a_scope() -> None:
    assert core.ROLES["DEPT_MANAGER"] == ("manager", "department")
    assert core.ROLES["ORG_ADMIN"] == ("admin", "company")
    assert core.SUPER_ADMIN not in core.ROLES


def test_a_portal_grant_keeps_only_its_known_permission_bits() -> None:
    assert portal.granted_actions(1 | 4 | 32) == [1, 4]
    assert portal.granted_actions(32) == []


def test_a_portal_api_key_is_sha256_with_a_lower_case_hash() -> None:
    row = {"key_id": 1, "label": "CI", "key_prefix": "pk_1", "key_sha256": "ABCDEF",
           "expires": None, "created": None}
    values = portal.api_key_values(row, 4, NOW)
    assert values["hashed_key"] == "abcdef" and values["scopes"] == "read write"
    assert values["expires_at"] is None and values["created_at"] == NOW
