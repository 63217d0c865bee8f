"""Factories for the unified model; roles come from the seeded migration."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backoffice.projects.models import Document, Project
from rbac import services
from rbac.models import APIKey, Company, Role, Team, User

DEFAULT_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(DEFAULT_PASSWORD)


class StaffUserFactory(UserFactory):
    is_staff = True


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    country = "DE"
    domain = factory.Sequence(lambda n: f"company{n}.example")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.team_save(team=model_class(*args, **kwargs))


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    company = factory.SubFactory(CompanyFactory)
    team = None
    code = factory.Sequence(lambda n: f"PRJ-{n:05d}")
    name = factory.Faker("catch_phrase")


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    company = factory.SubFactory(CompanyFactory)
    team = None
    project = None
    original_name = factory.Sequence(lambda n: f"document-{n}.pdf")
    content_type = "application/pdf"
    size = 1024
    uploaded_at = factory.LazyFunction(timezone.now)


class APIKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = APIKey

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"key {n}")
    prefix = factory.Sequence(lambda n: f"pk_{n:05x}")
    hashed_key = "0" * 64


def role(slug: str) -> Role:
    return Role.objects.get(slug=slug)


def member(user: User, company: Company, slug: str, team: Team | None = None):
    """Give a user a built-in role through the service, as every caller must."""
    return services.grant_role(user=user, company=company, role=role(slug), team=team)


# --- legacy credentials, stored exactly as the importer stores them ---------------------

LEGACY_SAMPLE = Path(__file__).parent / "data" / "legacy_sample"


def legacy_truth() -> dict:
    return json.loads((LEGACY_SAMPLE / "truth.json").read_text(encoding="utf-8"))


def legacy_rows(system: str, table: str) -> list[dict]:
    """Rows of a sample CSV: Core is "," and UTF-8, Portal ";" and UTF-8 with a BOM."""
    path = LEGACY_SAMPLE / "csv" / system / f"{table}.csv"
    delimiter = ";" if system == "portal" else ","
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def core_user(*, email: str, password_hash: str) -> User:
    """A Core user: the jBCrypt hash behind Django's "bcrypt$" algorithm prefix."""
    return User.objects.create(email=email.strip().lower(), password=f"bcrypt${password_hash}")


def portal_user(*, email: str, cognito_sub: str) -> User:
    """A Portal-only user: no usable password, the Cognito sub to check it against."""
    user = User(email=email.strip().lower(), cognito_sub=cognito_sub)
    user.set_unusable_password()
    user.save()
    return user


def core_api_client(*, company: Company, row: dict) -> APIKey:
    """A Core api_clients row: prefix = client_id, the bcrypt hash kept as it is."""
    return APIKey.objects.create(
        company=company, name=row["name"], prefix=row["client_id"],
        hashed_key=row["client_secret_hash"], hash_scheme=APIKey.Scheme.BCRYPT,
        scopes=row["scopes"],
        revoked_at=parse_datetime(row["revoked_at"]) if row["revoked_at"] else None,
    )


def portal_api_key(*, company: Company, row: dict) -> APIKey:
    """A Portal api_key row: its 8-character prefix and SHA-256; expiry is Berlin wall time."""
    expires_at = None
    if row["expires"]:
        naive = datetime.fromisoformat(row["expires"])
        expires_at = naive.replace(tzinfo=ZoneInfo("Europe/Berlin"))
    return APIKey.objects.create(
        company=company, name=row["label"], prefix=row["key_prefix"], hashed_key=row["key_sha256"],
        hash_scheme=APIKey.Scheme.SHA256, scopes="read write", expires_at=expires_at,
    )
