"""The tenant-isolation matrix: every role, at company and team scope, on every model.

Two companies share the name "Acme" (Germany and the United Kingdom). The actor holds one
role in the German one, either for the whole company or for team "Parent" (which has a
child team). Every action on every object must be allowed exactly where the role's
definition says, through has_perm, through the selectors and through the admin.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from backoffice.projects.models import Document, Project
from rbac import selectors
from rbac.models import APIKey, Company, Membership, Team
from rbac.roles import BUILT_IN_ROLES
from tests.factories import (
    APIKeyFactory,
    CompanyFactory,
    DocumentFactory,
    ProjectFactory,
    StaffUserFactory,
    TeamFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db

ROLES = {definition.slug: definition for definition in BUILT_IN_ROLES}
KIND_OF_MODEL = {Company: "company", Team: "team", Membership: "membership",
                 Project: "content", Document: "content", APIKey: "apikey"}
ACTIONS = ("view", "change", "delete")


def _tenant(country: str) -> dict[str, object]:
    company = CompanyFactory(name="Acme", country=country, domain=f"acme.{country.lower()}")
    parent = TeamFactory(company=company, name="Parent")
    child = TeamFactory(company=company, name="Child", parent=parent)
    sibling = TeamFactory(company=company, name="Sibling")
    colleague = UserFactory()
    return {
        "company": company,
        "team:parent": parent,
        "team:child": child,
        "team:sibling": sibling,
        "membership:child": member(colleague, company, "viewer", team=child),
        "membership:company": member(UserFactory(), company, "viewer"),
        "project:company": ProjectFactory(company=company),
        "project:child": ProjectFactory(company=company, team=child),
        "project:sibling": ProjectFactory(company=company, team=sibling),
        "document:company": DocumentFactory(company=company),
        "document:child": DocumentFactory(company=company, team=child),
        "document:sibling": DocumentFactory(company=company, team=sibling),
        "apikey": APIKeyFactory(company=company),
    }


@pytest.fixture
def world():
    return {"DE": _tenant("DE"), "GB": _tenant("GB")}


def _inside_parent_subtree(name: str) -> bool:
    return name.endswith(":parent") or name.endswith(":child")


def expected(role: str, scope: str, country: str, name: str, obj, action: str) -> bool:
    """The rule as the specification states it, independent of how it is resolved."""
    if country != "DE":
        return False
    if scope == "team" and not _inside_parent_subtree(name):
        return False
    actions = getattr(ROLES[role], f"{KIND_OF_MODEL[type(obj)]}_actions")
    return action in actions


def _perm(obj, action: str) -> str:
    return f"{obj._meta.app_label}.{action}_{obj._meta.model_name}"


def _actor(world, role: str, scope: str):
    actor = StaffUserFactory()
    tenant = world["DE"]
    member(actor, tenant["company"], role, team=tenant["team:parent"] if scope == "team" else None)
    return actor


def _cells(world):
    for country, tenant in world.items():
        for name, obj in tenant.items():
            yield country, name, obj


CASES = [(role, scope) for role in ROLES for scope in ("company", "team")]


@pytest.mark.parametrize(("role", "scope"), CASES)
def test_has_perm_allows_exactly_what_the_role_grants(world, role, scope):
    actor = _actor(world, role, scope)
    wrong = []
    for country, name, obj in _cells(world):
        for action in ACTIONS:
            want = expected(role, scope, country, name, obj, action)
            if actor.has_perm(_perm(obj, action), obj) != want:
                wrong.append((country, name, action, want))
    assert wrong == []


@pytest.mark.parametrize(("role", "scope"), CASES)
def test_selectors_list_exactly_what_the_role_grants(world, role, scope):
    actor = _actor(world, role, scope)
    wrong = []
    for country, name, obj in _cells(world):
        for action in ACTIONS:
            queryset = selectors.objects_for_user(
                user=actor, queryset=type(obj)._default_manager.all(), action=action
            )
            listed = queryset.filter(pk=obj.pk).exists()
            if listed != expected(role, scope, country, name, obj, action):
                wrong.append((country, name, action))
    assert wrong == []


@pytest.mark.parametrize(("role", "scope"), CASES)
def test_admin_opens_exactly_what_the_role_grants(client, world, role, scope):
    actor = _actor(world, role, scope)
    client.force_login(actor)
    wrong = []
    for country, name, obj in _cells(world):
        url_prefix = f"admin:{obj._meta.app_label}_{obj._meta.model_name}"
        change = client.get(reverse(f"{url_prefix}_change", args=[obj.pk]))
        may_see = any(expected(role, scope, country, name, obj, a) for a in ("view", "change"))
        # What the role does not show answers as if it did not exist (issue 13, finding 9).
        if change.status_code != (200 if may_see else 404):
            wrong.append((country, name, "open", change.status_code))
        delete = client.get(reverse(f"{url_prefix}_delete", args=[obj.pk]))
        if (delete.status_code == 200) != expected(role, scope, country, name, obj, "delete"):
            wrong.append((country, name, "delete", delete.status_code))
    assert wrong == []


def test_posting_a_change_to_the_namesake_company_is_refused(client, world):
    actor = _actor(world, "owner", "company")
    client.force_login(actor)
    foreign = world["GB"]["company"]
    response = client.post(
        reverse("admin:rbac_company_change", args=[foreign.pk]),
        {"name": "Hijacked", "status": "active", "country": "GB"},
    )
    foreign.refresh_from_db()
    assert foreign.name == "Acme"
    assert response.status_code == 404


def test_project_form_offers_only_the_actors_companies(client, world):
    actor = _actor(world, "admin", "company")
    client.force_login(actor)
    page = client.get(reverse("admin:projects_project_add")).content.decode()
    assert f'value="{world["DE"]["company"].pk}"' in page or "autocomplete" in page
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "projects", "model_name": "project", "field_name": "company", "term": "Acme"},
    )
    ids = {int(row["id"]) for row in response.json()["results"]}
    assert ids == {world["DE"]["company"].pk}


def test_granting_a_role_above_ones_own_rank_is_refused(world):
    from django.core.exceptions import PermissionDenied

    from rbac import services
    from tests.factories import role

    actor = _actor(world, "admin", "company")
    target = UserFactory()
    with pytest.raises(PermissionDenied):
        services.grant_role(user=target, company=world["DE"]["company"], role=role("owner"),
                            granted_by=actor)
    with pytest.raises(PermissionDenied):
        services.grant_role(user=target, company=world["GB"]["company"], role=role("viewer"),
                            granted_by=actor)
    granted = services.grant_role(user=target, company=world["DE"]["company"],
                                  role=role("admin"), granted_by=actor)
    assert granted.role.slug == "admin"
