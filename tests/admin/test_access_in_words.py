"""Access in words: who can see an object and why, and what a person can do."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.projects.demo import demo_setup
from backoffice.projects.models import Document, Project
from rbac import selectors, services
from rbac.models import Company, Team, User
from tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return demo_setup()


@pytest.fixture
def acme(demo):
    return Company.objects.get(name="Acme", country="DE")


def reasons_by_email(obj):
    return {r.user.email: r.because for r in selectors.who_can_access(obj=obj).reasons}


def test_who_can_see_a_document_names_each_role_and_grant(acme):
    platform = Team.objects.get(company=acme, name="Platform")
    document = Document.objects.filter(company=acme, team=platform).first()
    outsider = User.objects.get(email="viewer@acme.co.uk")
    services.grant_object_permission(user=outsider, obj=document, action="view")
    reasons = reasons_by_email(document)
    assert reasons["viewer@acme.de"] == "Viewer in Acme (DE), company-wide"
    assert reasons["editor@acme.de"] == "Editor of the team Platform in Acme (DE)"
    assert reasons["viewer@acme.co.uk"] == "a direct grant of view on this document"
    assert "billing@acme.de" not in reasons  # Billing's role reads no content
    assert "owner@acme.co.uk" not in reasons  # another company's owner


def test_a_role_on_a_parent_team_says_it_includes_the_team(acme):
    engineering = Team.objects.get(company=acme, name="Engineering")
    platform = Team.objects.get(company=acme, name="Platform")
    person = UserFactory(email="lead@acme.de")
    member(person, acme, "manager", team=engineering)
    document = Document.objects.filter(company=acme, team=platform).first()
    assert reasons_by_email(document)["lead@acme.de"] == (
        "Manager of the team Engineering in Acme (DE), which includes Platform"
    )
    sales_doc = Document.objects.filter(company=acme, team__name="Sales").first()
    assert "lead@acme.de" not in reasons_by_email(sales_doc)


def test_a_suspended_companys_roles_give_nothing(acme):
    project = Project.objects.filter(company=acme).first()
    assert reasons_by_email(project)
    Company.objects.filter(pk=acme.pk).update(status=Company.Status.SUSPENDED)
    project.refresh_from_db()
    assert reasons_by_email(project) == {}


def test_what_a_person_can_do_here_in_sentences(acme):
    editor = User.objects.get(email="editor@acme.de")
    sentences = selectors.person_access_in_company(user=editor, company=acme)
    assert sentences[0].startswith("As Editor of the team Platform in Acme (DE): ")
    assert "view, add and change documents" in sentences[0]
    assert "delete" not in sentences[0]


@pytest.mark.parametrize("model", [Team, Project, Document])
def test_change_pages_show_who_can_see_with_bounded_queries(
    client, demo, acme, model, django_assert_max_num_queries
):
    client.force_login(User.objects.get(email=demo.superuser[0]))
    obj = model.objects.filter(company=acme).order_by("pk").first()
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    for slug in ("viewer", "editor"):  # more members must not mean more queries
        for n in range(5):
            member(UserFactory(email=f"{slug}{n}@acme.de"), acme, slug)
        with django_assert_max_num_queries(40):
            page = client.get(url)
    html = page.content.decode()
    assert "Who can see this, and why" in html
    assert "viewer4@acme.de</a> can see this" in html


def test_a_persons_page_shows_roles_in_words_two_factor_tokens_and_last_login(
    client, demo, acme, django_assert_max_num_queries
):
    admin_user = User.objects.get(email="admin@acme.de")
    TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    client.force_login(User.objects.get(email=demo.superuser[0]))
    with django_assert_max_num_queries(40):
        page = client.get(reverse("admin:rbac_user_change", args=[admin_user.pk]))
    html = page.content.decode()
    assert "What they can do" in html
    assert "Admin company-wide: can " in html
    assert "manage roles and object permissions" in html
    assert "phone (TOTP device)" in html
    assert "Bearer tokens: 0 active" in html
    assert "Last log-in: never" in html
    assert 'name="user_permissions"' in html  # the raw picker: superusers only


def test_staff_see_only_companies_they_can_see_and_no_raw_permission_picker(client, demo, acme):
    person = User.objects.get(email="viewer@acme.de")
    elsewhere = Company.objects.get(name="Nordlicht Logistik")
    member(person, elsewhere, "viewer")
    client.force_login(User.objects.get(email=demo.scoped_staff[0]))
    page = client.get(reverse("admin:rbac_user_change", args=[person.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Acme (DE)" in html and "Nordlicht" not in html
    assert "user_permissions" not in html and "Superuser status" not in html


def test_a_membership_page_says_what_the_person_can_do_in_that_company(client, demo, acme):
    editor = User.objects.get(email="editor@acme.de")
    services.grant_object_permission(
        user=editor, obj=Project.objects.filter(company=acme).first(), action="delete")
    membership = editor.memberships.get(company=acme)
    client.force_login(User.objects.get(email=demo.scoped_staff[0]))
    url = reverse("admin:rbac_membership_change", args=[membership.pk])
    html = client.get(url).content.decode()
    assert "What this person can do here" in html
    assert "As Editor of the team Platform in Acme (DE): " in html
    assert "By a direct grant: delete on project" in html


def test_who_can_see_stops_at_the_limit_and_says_there_is_more(acme):
    project = Project.objects.filter(company=acme).first()
    everyone = selectors.who_can_access(obj=project)
    assert not everyone.more and len(everyone.reasons) > 3
    first = selectors.who_can_access(obj=project, limit=3)
    assert first.more
    assert [r.user.email for r in first.reasons] == [r.user.email for r in everyone.reasons][:3]
    exact = selectors.who_can_access(obj=project, limit=len(everyone.reasons))
    assert not exact.more


def test_a_long_who_can_see_list_is_cut_with_a_link_to_the_members(
    client, demo, acme, monkeypatch
):
    monkeypatch.setattr("rbac.admin_access.WHO_CAN_SEE_LINES", 2)
    client.force_login(User.objects.get(email=demo.superuser[0]))
    project = Project.objects.filter(company=acme).first()
    html = client.get(reverse("admin:projects_project_change", args=[project.pk])).content.decode()
    assert html.count("</a> can see this project") == 2
    assert f"?company__id__exact={acme.pk}" in html and "… and more" in html
