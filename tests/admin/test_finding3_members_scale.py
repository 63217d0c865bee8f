"""Finding 3: a company's page is the same size, and as cheap, whatever its member count."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rbac.admin_members import members_url
from rbac.models import Membership, User
from tests import factories

pytestmark = pytest.mark.django_db


def _company_with_members(name: str, count: int):
    company = factories.CompanyFactory(name=name)
    team = factories.TeamFactory(company=company, name="Warehouse")
    viewer, editor = factories.role("viewer"), factories.role("editor")
    users = User.objects.bulk_create(
        User(email=f"m{index}@{name.lower()}.test") for index in range(count)
    )
    Membership.objects.bulk_create(
        Membership(user=user, company=company, role=editor if index % 2 else viewer,
                   team=team if index % 3 == 0 else None)
        for index, user in enumerate(users)
    )
    return company


def _queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def _posted_fields(html: str) -> set[str]:
    form = html[html.index('id="company_form"'):]
    return set(re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', form))


def test_the_company_page_runs_as_many_queries_for_60_members_as_for_5(client, superuser):
    client.force_login(superuser)
    small, large = _company_with_members("Small", 5), _company_with_members("Large", 60)
    url = "admin:rbac_company_change"
    client.get(reverse(url, args=[small.pk]))  # warm the per-process caches
    small_count, small_html = _queries(client, reverse(url, args=[small.pk]))
    large_count, large_html = _queries(client, reverse(url, args=[large.pk]))
    assert large_count == small_count
    assert "Members (60)" in large_html
    assert len(_posted_fields(large_html)) == len(_posted_fields(small_html)) < 40


def test_the_members_list_runs_as_many_queries_for_150_members_as_for_60(client, superuser):
    # Both lists have several pages (a list on one page skips the query of the page's ids).
    client.force_login(superuser)
    small, large = _company_with_members("Small", 60), _company_with_members("Large", 150)
    client.get(members_url(small))
    small_count, _ = _queries(client, members_url(small))
    large_count, html = _queries(client, members_url(large))
    assert large_count == small_count
    assert html.count('name="form-') < 60 * 2  # one page of rows, not every member


def test_a_company_with_300_members_is_saved(client, superuser):
    company = _company_with_members("Big", 300)
    client.force_login(superuser)
    url = reverse("admin:rbac_company_change", args=[company.pk])
    legacy = "importers-legacyrecord-content_type-object_id"
    response = client.post(url, {
        "name": "Big Renamed", "legal_name": "", "status": company.status,
        "vat_number": "", "country": "DE", "domain": company.domain,
        f"{legacy}-TOTAL_FORMS": "0", f"{legacy}-INITIAL_FORMS": "0", "_continue": "Save",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    company.refresh_from_db()
    assert company.name == "Big Renamed"
    assert Membership.objects.filter(company=company).count() == 300


def test_the_members_list_searches_and_filters_by_role_and_team(client, superuser):
    company = _company_with_members("Filtered", 12)
    client.force_login(superuser)
    team = company.teams.get()
    url = f"{reverse('admin:rbac_membership_changelist')}?company__id__exact={company.pk}&"
    found = client.get(url + "q=m7%40").context["cl"].result_list
    assert [m.user.email for m in found] == ["m7@filtered.test"]
    editors = client.get(url + f"role__id__exact={factories.role('editor').pk}")
    assert {m.role.slug for m in editors.context["cl"].result_list} == {"editor"}
    in_team = client.get(url + f"team__id__exact={team.pk}").context["cl"].result_list
    assert len(in_team) == 4 and {m.team_id for m in in_team} == {team.pk}
    company_wide = client.get(url + "team__id__exact=none").context["cl"].result_list
    assert len(company_wide) == 8 and all(m.team_id is None for m in company_wide)
    by_email = client.get(url + "o=1").context["cl"].result_list
    assert [m.user.email for m in by_email] == sorted(f"m{i}@filtered.test" for i in range(12))
    team_alone = client.get(reverse("admin:rbac_membership_changelist"),
                            {"team__id__exact": team.pk}).context["cl"].result_list
    assert len(team_alone) == 4


def test_add_a_member_from_the_filtered_list_starts_in_that_company(client, superuser):
    company = _company_with_members("Start", 1)
    client.force_login(superuser)
    page = client.get(reverse("admin:rbac_membership_add"),
                      {"_changelist_filters": f"company__id__exact={company.pk}"})
    assert page.context["adminform"].form.initial["company"] == str(company.pk)


def test_the_role_picker_has_no_buttons_to_edit_the_global_roles(client, superuser):
    company = _company_with_members("Plain", 2)
    client.force_login(superuser)
    html = client.get(members_url(company)).content.decode()
    assert 'name="form-0-role"' in html
    assert 'id="add_id_form-0-role"' not in html and 'id="change_id_form-0-role"' not in html
    add_page = client.get(reverse("admin:rbac_membership_add")).content.decode()
    assert 'id="add_id_user"' in add_page  # the people picker keeps its button
    assert 'id="add_id_role"' not in add_page
