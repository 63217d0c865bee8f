"""Finding 6: nobody grants or revokes a direct permission their own role does not hold.

An admin (rank 4) administers the company's grants but does not hold delete_company
(only owners do): granting it, or revoking it from someone an owner gave it to, is 403
through the API and PermissionDenied in the service the admin's pages call too.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from backoffice.api.grants import grant_rows
from rbac import services

pytestmark = pytest.mark.django_db


def _grant(client, person, resource_type, resource_id, permission):
    return client.post("/api/v1/grants/", {
        "user": person.pk, "resource_type": resource_type, "resource_id": resource_id,
        "permission": permission,
    })


def test_finding6_an_admin_granting_delete_on_the_company_gets_403(world, api):
    response = _grant(api(world.ours.people["admin"]), world.ours.people["viewer"],
                      "company", world.ours.company.pk, "delete")
    assert response.status_code == 403
    body = response.json()
    assert body["error"]["code"] == "permission_denied"
    assert "delete_company" in body["error"]["message"]
    assert not world.ours.people["viewer"].has_perm("rbac.delete_company", world.ours.company)


def test_finding6_an_owner_may_grant_delete_on_the_company(world, api):
    response = _grant(api(world.ours.people["owner"]), world.ours.people["viewer"],
                      "company", world.ours.company.pk, "delete")
    assert response.status_code == 201, response.content


def test_finding6_an_admin_may_still_grant_what_their_role_holds(world, api):
    response = _grant(api(world.ours.people["admin"]), world.ours.people["viewer"],
                      "company", world.ours.company.pk, "share")
    assert response.status_code == 201, response.content


def test_finding6_an_admin_revoking_an_owners_delete_grant_gets_403(world, api):
    services.grant_object_permission(user=world.ours.people["viewer"], obj=world.ours.company,
                                     action="delete", granted_by=world.ours.people["owner"])
    row = grant_rows("company", company_ids=None, user_id=world.ours.people["viewer"].pk).get(
        permission__codename="delete_company")
    response = api(world.ours.people["admin"]).delete(f"/api/v1/grants/company-{row['id']}/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert world.ours.people["viewer"].has_perm("rbac.delete_company", world.ours.company)


def test_finding6_the_service_refuses_a_permission_outside_the_granters_role(world):
    with pytest.raises(PermissionDenied, match="does not hold it"):
        services.grant_object_permission(
            user=world.ours.people["viewer"], obj=world.ours.company, action="delete_company",
            granted_by=world.ours.people["admin"],
        )
    with pytest.raises(PermissionDenied):
        services.revoke_object_permission(
            user=world.ours.people["viewer"], obj=world.ours.company, action="delete",
            revoked_by=world.ours.people["admin"],
        )


def test_finding6_a_direct_grant_of_the_granter_does_not_widen_what_they_may_grant(world):
    admin = world.ours.people["admin"]
    services.grant_object_permission(user=admin, obj=world.ours.company, action="delete")
    with pytest.raises(PermissionDenied):
        services.grant_object_permission(
            user=world.ours.people["viewer"], obj=world.ours.company, action="delete",
            granted_by=admin,
        )


def test_finding6_a_superuser_and_the_system_grant_anything(world, django_user_model):
    superuser = django_user_model.objects.create_superuser(
        email="root@example.test", password="x" * 16)
    services.grant_object_permission(user=world.ours.people["viewer"], obj=world.ours.company,
                                     action="delete", granted_by=superuser)
    services.grant_object_permission(user=world.ours.people["editor"], obj=world.ours.company,
                                     action="delete")
    assert world.ours.people["viewer"].has_perm("rbac.delete_company", world.ours.company)
    assert world.ours.people["editor"].has_perm("rbac.delete_company", world.ours.company)


def test_finding6_an_admin_key_grants_within_its_company_only(world, api):
    response = _grant(api(world.ours.keys["admin"]), world.ours.people["viewer"],
                      "document", world.ours.document.pk, "delete")
    assert response.status_code == 201, response.content
