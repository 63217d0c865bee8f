"""Every admin changelist, add and change page renders for a superuser and for scoped staff."""

import pytest
from django.contrib import admin
from django.urls import reverse

from backoffice.projects.demo import demo_setup
from rbac.models import Company, User

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)
# Pages a company admin is refused by design: global definitions and other people's grants.
SCOPED_APPS = {"rbac", "projects"}
SUPERUSER_ONLY_ADD = {
    "rbac.accesstoken", "rbac.company", "rbac.user", "rbac.role",
    "rbac.companyuserobjectpermission", "rbac.teamuserobjectpermission",
    "projects.projectuserobjectpermission", "projects.documentuserobjectpermission",
}
SUPERUSER_ONLY_LIST = {
    "rbac.accesstoken", "rbac.companyuserobjectpermission", "rbac.teamuserobjectpermission",
    "projects.projectuserobjectpermission", "projects.documentuserobjectpermission",
}


@pytest.fixture
def demo():
    return demo_setup()


def _client_for(client, email):
    client.force_login(User.objects.get(email=email))
    return client


def _url(model, name, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label_lower)
def test_superuser_sees_every_changelist_add_and_change_page(client, demo, model):
    _client_for(client, demo.superuser[0])
    assert client.get(_url(model, "changelist")).status_code == 200
    assert client.get(_url(model, "add")).status_code in (200, 403)
    obj = model._default_manager.first()
    if obj is not None:
        assert client.get(_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label_lower)
def test_scoped_staff_pages_render_or_are_refused_by_design(client, demo, model):
    _client_for(client, demo.scoped_staff[0])
    label = model._meta.label_lower
    if model._meta.app_label not in SCOPED_APPS:
        # Third-party and import pages (groups, lock-outs, devices, runs) are for superusers.
        assert client.get(_url(model, "changelist")).status_code == 403
        return
    expected_list = 403 if label in SUPERUSER_ONLY_LIST else 200
    assert client.get(_url(model, "changelist")).status_code == expected_list
    expected_add = 403 if label in SUPERUSER_ONLY_ADD else 200
    assert client.get(_url(model, "add")).status_code == expected_add


def test_scoped_staff_change_page_of_own_company_shows_members_and_access(client, demo):
    _client_for(client, demo.scoped_staff[0])
    own = Company.objects.get(name="Acme", country="DE")
    page = client.get(_url(Company, "change", own.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "owner@acme.de" in html and "access-view" in html and "Platform" in html


def test_scoped_staff_gets_no_page_of_the_namesake_company(client, demo):
    _client_for(client, demo.scoped_staff[0])
    namesake = Company.objects.get(name="Acme", country="GB")
    response = client.get(_url(Company, "change", namesake.pk))
    # Outside the person's scope is a 404, as for an id that does not exist.
    assert response.status_code == 404
    assert "acme.co.uk" not in response.content.decode()
    listing = client.get(_url(Company, "changelist")).content.decode()
    assert "Acme (GB)" not in listing and "acme.co.uk" not in listing
