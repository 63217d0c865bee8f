"""The admin site's gate (rbac.admin_site) and the scoped admin's actions."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from rbac.admin_site import GatedAdminSite, is_history_url, object_id_of
from rbac.models import Role
from tests.factories import APIKeyFactory, CompanyFactory, StaffUserFactory, member


def test_the_default_admin_site_is_the_gated_one():
    assert isinstance(admin.site, GatedAdminSite)


@pytest.mark.parametrize(("args", "kwargs", "expected"), [
    ((), {"object_id": "7"}, "7"),  # Django's change, delete, history
    ((), {"object_pk": "7", "user_id": "3"}, "7"),  # django-guardian
    ((), {"pk": 7}, "7"),  # our CSV downloads
    ((), {"id": "7"}, "7"),  # contrib.auth's password page
    (("7", "12"), {}, "7"),  # django-simple-history's version page
    ((), {}, None),  # a list or add page
])
def test_object_id_is_found_whichever_package_named_it(args, kwargs, expected):
    assert object_id_of(args, kwargs) == expected


def test_history_urls_are_recognised():
    assert is_history_url("rbac_user_history")
    assert is_history_url("rbac_user_simple_history")
    assert not is_history_url("rbac_user_change")
    assert not is_history_url(None)


@pytest.mark.django_db
def test_an_action_runs_only_where_the_person_holds_its_permission(client):
    own, other = CompanyFactory(name="Own"), CompanyFactory(name="Other")
    reader = Role.objects.create(slug="key-reader", name="Key reader", rank=0)
    reader.permissions.add(Permission.objects.get(codename="view_apikey"))
    person = StaffUserFactory()
    member(person, own, "owner")
    member(person, other, "key-reader")  # sees the other company's keys, may not change them
    own_key, other_key = APIKeyFactory(company=own), APIKeyFactory(company=other)
    client.force_login(person)
    client.post(reverse("admin:rbac_apikey_changelist"), {
        "action": "revoke_api_keys", "_selected_action": [own_key.pk, other_key.pk],
    })
    own_key.refresh_from_db()
    other_key.refresh_from_db()
    assert own_key.revoked_at is not None
    assert other_key.revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "fields"), [
    ("user", {"is_active", "is_staff", "is_superuser", "groups", "user_permissions"}),
    ("role", {"slug", "rank", "permissions"}),
])
def test_what_holds_everywhere_is_read_only_but_for_superusers(rf, superuser, model, fields):
    model_admin = next(ma for m, ma in admin.site._registry.items()
                       if m._meta.label_lower == f"rbac.{model}")
    request = rf.get("/")
    request.user = StaffUserFactory()
    member(request.user, CompanyFactory(), "owner")
    assert fields <= set(model_admin.get_readonly_fields(request))
    request.user = superuser
    assert not fields & set(model_admin.get_readonly_fields(request))
