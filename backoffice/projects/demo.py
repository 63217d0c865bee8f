"""A small, believable data set for the embedded demo and the browser tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from rbac import services as rbac_services
from rbac.models import Company, Role, User

from . import services

DEMO_DOMAIN = "demo.example"


@dataclass(frozen=True)
class DemoLogins:
    superuser: tuple[str, str]
    scoped_staff: tuple[str, str]
    company: str


def _user(email: str, first: str, last: str, **flags) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email, None, first_name=first, last_name=last, **flags)
    return user


def _company(name: str, country: str, domain: str, vat: str) -> Company:
    company = Company.objects.filter(vat_number=vat).first()
    return company or rbac_services.company_create(
        name=name, legal_name=name, country=country, domain=domain, vat_number=vat
    )


@transaction.atomic
def demo_setup() -> DemoLogins:
    """Create the demo data once; on every run give the two log-ins fresh passwords."""
    roles = {role.slug: role for role in Role.objects.all()}
    acme_de = _company("Acme", "DE", "acme.de", "DE811907980")
    acme_gb = _company("Acme", "GB", "acme.co.uk", "GB980780684")
    nordlicht = _company("Nordlicht Logistik", "DE", "nordlicht.example", "DE136695976")

    for company in (acme_de, acme_gb, nordlicht):
        if company.teams.exists():
            continue
        engineering = rbac_services.team_create(company=company, name="Engineering")
        platform = rbac_services.team_create(company=company, name="Platform", parent=engineering)
        rbac_services.team_create(company=company, name="Mobile", parent=engineering)
        sales = rbac_services.team_create(company=company, name="Sales")
        slug = company.domain.split(".")[0]
        for number, team in enumerate((engineering, platform, sales), start=1):
            project = services.project_create(
                company=company, team=team, code=f"{slug.upper()}-{number:03d}",
                name=f"{team.name} roadmap",
            )
            for doc_number in range(1, 4):
                services.document_create(
                    company=company, team=team, project=project,
                    original_name=f"{team.name.lower()}-plan-{doc_number}.pdf",
                    content_type="application/pdf", size=12_000 * doc_number,
                )
        for slug_role in ("owner", "admin", "manager", "editor", "viewer", "billing"):
            person = _user(f"{slug_role}@{company.domain}", slug_role.title(), company.name)
            team = platform if slug_role in {"manager", "editor"} else None
            rbac_services.grant_role(user=person, company=company, role=roles[slug_role],
                                     team=team)

    superuser = _user(f"admin@{DEMO_DOMAIN}", "Demo", "Superuser", is_staff=True,
                      is_superuser=True)
    scoped = _user(f"staff@{DEMO_DOMAIN}", "Demo", "Company Admin", is_staff=True)
    rbac_services.grant_role(user=scoped, company=acme_de, role=roles["admin"])

    logins = []
    for user in (superuser, scoped):
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        logins.append((user.email, password))
    return DemoLogins(superuser=logins[0], scoped_staff=logins[1], company=str(acme_de))
