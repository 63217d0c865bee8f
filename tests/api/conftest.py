"""A small world for API tests: our company, a namesake in another country, a stranger."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient

from rbac import services
from rbac.principals import APIKeyPrincipal
from tests.factories import (
    APIKeyFactory,
    CompanyFactory,
    DocumentFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
    member,
)

ROLES = ("owner", "admin", "manager", "editor", "viewer", "billing")
KEY_SCOPES = ("read", "read write", "admin")


@dataclass
class CompanyObjects:
    company: object
    team: object
    sub_team: object
    project: object
    document: object
    people: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)


def populate(company) -> CompanyObjects:
    """Give a company teams, content, one person per role, one key per scope, a direct grant."""
    team = TeamFactory(company=company, name="Engineering")
    sub_team = TeamFactory(company=company, name="Platform", parent=team)
    project = ProjectFactory(company=company, team=team, code="P-1")
    document = DocumentFactory(company=company, team=sub_team, project=project)
    objects = CompanyObjects(company, team, sub_team, project, document)
    for slug in ROLES:
        person = UserFactory(email=f"{slug}.{company.country.lower()}{company.pk}@example.test")
        # The manager runs a team; everybody else holds a company-wide role.
        member(person, company, slug, team=team if slug == "manager" else None)
        objects.people[slug] = person
    for scope in KEY_SCOPES:
        objects.keys[scope] = APIKeyFactory(company=company, scopes=scope)
    services.grant_object_permission(
        user=objects.people["viewer"], obj=document, action="change"
    )
    return objects


@dataclass
class World:
    ours: CompanyObjects
    namesake: CompanyObjects  # "Acme" too, in France
    stranger: CompanyObjects

    def foreign(self) -> list[CompanyObjects]:
        return [self.namesake, self.stranger]


@pytest.fixture
def world(db) -> World:
    return World(
        ours=populate(CompanyFactory(name="Acme", country="DE")),
        namesake=populate(CompanyFactory(name="Acme", country="FR")),
        stranger=populate(CompanyFactory(name="Globex", country="GB")),
    )


def client_for(caller) -> APIClient:
    """Return an API client authenticated as a person or as an API key."""
    client = APIClient()
    if hasattr(caller, "scope_set"):
        client.force_authenticate(user=APIKeyPrincipal(caller), token=caller)
    else:
        client.force_authenticate(user=caller)
    return client


@pytest.fixture
def api():
    return client_for
