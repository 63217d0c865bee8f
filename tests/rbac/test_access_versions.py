"""The database moves a user's access version with every change to what they may do, by
any path (services, bulk writes, plain updates), and a kept profile is used only while the
version stays."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.models import UserObjectPermission, UserObjectPermissionBase
from guardian.utils import get_direct_obj_perms_models

from backoffice.projects.models import Document, Project
from rbac import services
from rbac.access import access_profile
from rbac.models import AccessVersion, Company, Membership, Role, Team, User
from rbac.selectors import objects_for_user
from rbac.services import team_save
from tests.factories import (
    CompanyFactory,
    DocumentFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
    member,
    role,
)

pytestmark = pytest.mark.django_db

GRANT_MODELS = [
    *get_direct_obj_perms_models(UserObjectPermissionBase, UserObjectPermission),
    UserObjectPermission,
]


def version(user) -> int:
    row = AccessVersion.objects.filter(user_id=user.pk).first()
    return row.version if row else 0


def fresh(user) -> User:
    """The user as a new request loads them."""
    return User.objects.get(pk=user.pk)


@pytest.fixture
def person(company):
    person = UserFactory()
    member(person, company, "viewer")
    return person


def test_every_direct_permission_table_has_its_triggers():
    # A new direct-permission model needs install_operation in its app's migration.
    tables = {model._meta.db_table for model in GRANT_MODELS}
    assert {"rbac_companyuserobjectpermission", "projects_documentuserobjectpermission"} <= tables
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT event_object_table FROM information_schema.triggers")
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        with_triggers = {row[0] for row in cursor.fetchall()}
    assert tables | {"rbac_membership", "rbac_team", "rbac_role_permissions"} <= with_triggers


def test_granting_and_revoking_a_role_move_the_version(company):
    person = UserFactory()
    before = version(person)
    membership = member(person, company, "viewer")
    granted = version(person)
    services.revoke_role(membership=membership)
    assert before < granted < version(person)


def test_bulk_writes_move_the_version_too(company, person):
    other = CompanyFactory()
    before = version(person)
    Membership.objects.bulk_create(
        [Membership(user=person, company=other, role=role("viewer"))]
    )
    created = version(person)
    Membership.objects.filter(user=person, company=other).update(role=role("admin"))
    updated = version(person)
    Membership.objects.filter(user=person, company=other).delete()
    assert before < created < updated < version(person)


@pytest.mark.parametrize("model", GRANT_MODELS, ids=lambda m: m._meta.db_table)
def test_a_direct_permission_in_any_table_moves_the_version(company, person, model):
    target_model = model._meta.get_field("content_object").related_model
    if target_model is not None:
        target = {Company: lambda: company, Team: lambda: TeamFactory(company=company),
                  Project: lambda: ProjectFactory(company=company),
                  Document: lambda: DocumentFactory(company=company)}[target_model]()
        codename = f"view_{target_model._meta.model_name}"
        fields = {"content_object": target}
    else:  # guardian's generic table
        codename, target_model = "view_membership", Membership
        fields = {"object_pk": "1", "content_type_id": Permission.objects.get(
            codename=codename).content_type_id}
    permission = Permission.objects.get(
        codename=codename, content_type__app_label=target_model._meta.app_label
    )
    before = version(person)
    model.objects.bulk_create([model(user=person, permission=permission, **fields)])
    granted = version(person)
    model.objects.filter(user=person).delete()
    assert before < granted < version(person)


def test_a_new_sub_team_moves_the_version_of_who_holds_a_role_above_it(company):
    team = TeamFactory(company=company)
    lead, bystander = UserFactory(), UserFactory()
    member(lead, company, "manager", team=team)
    member(bystander, company, "viewer", team=TeamFactory(company=company))
    before_lead, before_bystander = version(lead), version(bystander)
    TeamFactory(company=company, parent=team)
    assert version(lead) > before_lead
    assert version(bystander) == before_bystander


def test_moving_a_team_moves_the_versions_of_both_old_and_new_ancestors(company):
    old_parent, new_parent = TeamFactory(company=company), TeamFactory(company=company)
    moved = TeamFactory(company=company, parent=old_parent)
    old_lead, new_lead = UserFactory(), UserFactory()
    member(old_lead, company, "manager", team=old_parent)
    member(new_lead, company, "manager", team=new_parent)
    before = version(old_lead), version(new_lead)
    moved.parent = new_parent
    team_save(team=moved)
    assert version(old_lead) > before[0]
    assert version(new_lead) > before[1]


def test_renaming_a_team_moves_no_version(company):
    team = TeamFactory(company=company)
    lead = UserFactory()
    member(lead, company, "manager", team=team)
    before = version(lead)
    Team.objects.filter(pk=team.pk).update(name="Renamed")
    assert version(lead) == before


def test_changing_a_role_moves_the_version_of_its_holders(company, person):
    viewer = Role.objects.get(slug="viewer")
    permission = Permission.objects.get(codename="change_document")
    before = version(person)
    viewer.permissions.add(permission)
    added = version(person)
    viewer.permissions.remove(permission)
    removed = version(person)
    Role.objects.filter(pk=viewer.pk).update(rank=viewer.rank + 1)
    assert before < added < removed < version(person)


def test_a_kept_profile_serves_the_next_request_while_the_version_stays(company, person):
    access_profile(fresh(person))
    next_request = fresh(person)
    with CaptureQueriesContext(connection) as captured:
        profile = access_profile(next_request)
    assert len(captured) == 1  # the version; no membership, role or team query
    assert company.pk in profile.company_perms


def test_a_change_by_any_path_reaches_the_next_request(company, person):
    document = DocumentFactory(company=company)
    documents = Document.objects.all()
    assert list(objects_for_user(user=fresh(person), queryset=documents)) == [document]
    # Not through the services: nothing in this process is told, only the database knows.
    Membership.objects.filter(user=person).delete()
    assert list(objects_for_user(user=fresh(person), queryset=documents)) == []


@pytest.mark.postgres_db
def test_a_bulk_load_bumps_each_holder_once_at_its_end_and_leaves_the_triggers_on(company):
    from rbac.access_versions import holders_bumped_once

    person, bystander = UserFactory(), UserFactory()
    member(bystander, company, "viewer")
    before = version(person), version(bystander)
    with holders_bumped_once(connection, ["rbac_membership"]):
        Membership.objects.bulk_create([
            Membership(user=person, company=company, role=role("viewer")),
            Membership(user=person, company=CompanyFactory(), role=role("admin")),
        ])
        assert version(person) == before[0]  # nothing per statement meanwhile
    # One bump for the new holder; the one who held a row before is bumped too (harmless).
    assert (version(person), version(bystander)) == (before[0] + 1, before[1] + 1)
    Membership.objects.filter(user=person).delete()
    assert version(person) == before[0] + 2
    member(person, company, "viewer")  # the insert trigger is back
    assert version(person) == before[0] + 3
