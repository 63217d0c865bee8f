"""Team pickers: "Company › Parent › Team" labels, filtered by the company on the form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from backoffice.projects.demo import demo_setup
from backoffice.projects.models import Project
from rbac import selectors
from rbac.models import Company, Team, User

pytestmark = pytest.mark.django_db
AUTOCOMPLETE = "/admin/rbac/team/autocomplete/"


@pytest.fixture
def demo():
    return demo_setup()


@pytest.fixture
def acme(demo):
    return Company.objects.get(name="Acme", country="DE")


def login(client, email):
    client.force_login(User.objects.get(email=email))
    return client


def search(client, term="", **params):
    query = {"app_label": "projects", "model_name": "project", "field_name": "team",
             "term": term, **params}
    response = client.get(AUTOCOMPLETE, query)
    assert response.status_code == 200, response.content
    return [row["text"] for row in response.json()["results"]]


def test_labels_name_the_company_and_the_parents(acme):
    labels = selectors.team_path_labels(teams=Team.objects.filter(company=acme))
    assert sorted(labels.values()) == [
        "Acme (DE) › Engineering", "Acme (DE) › Engineering › Mobile",
        "Acme (DE) › Engineering › Platform", "Acme (DE) › Sales",
    ]


def test_the_autocomplete_offers_the_chosen_companys_teams_with_their_paths(client, demo, acme):
    login(client, demo.superuser[0])
    everywhere = search(client, "Platform")
    assert sorted(everywhere) == [
        "Acme (DE) › Engineering › Platform", "Acme (GB) › Engineering › Platform",
        "Nordlicht Logistik (DE) › Engineering › Platform",
    ]
    assert search(client, "Platform", company=acme.pk) == ["Acme (DE) › Engineering › Platform"]
    assert search(client, "Platform", company="not a number") == everywhere


def test_a_company_admin_gets_no_other_companys_teams_even_when_asking(client, demo):
    login(client, demo.scoped_staff[0])
    nordlicht = Company.objects.get(name="Nordlicht Logistik")
    assert search(client, "Platform", company=nordlicht.pk) == []
    assert search(client, "Platform") == ["Acme (DE) › Engineering › Platform"]


def test_the_autocomplete_serves_team_fields_only(client, demo):
    login(client, demo.superuser[0])
    response = client.get(AUTOCOMPLETE, {"app_label": "projects", "model_name": "project",
                                         "field_name": "company", "term": ""})
    assert response.status_code == 403


def test_a_form_with_a_company_field_sends_it_and_shows_the_chosen_team_by_its_path(
    client, demo, acme
):
    login(client, demo.superuser[0])
    project = Project.objects.filter(company=acme, team__name="Platform").first()
    html = client.get(reverse("admin:projects_project_change", args=[project.pk])).content.decode()
    assert 'data-company-field="company"' in html
    assert "team-autocomplete" in html and "rbac/js/team_picker.js" in html
    assert ">Acme (DE) › Engineering › Platform</option>" in html
    assert f'data-ajax--url="{AUTOCOMPLETE}"' in html


def test_adding_a_member_from_a_company_page_ties_the_team_picker_to_that_company(
    client, demo, acme, django_assert_max_num_queries
):
    # The company page links to "Add a member" with the company filled in; the team picker
    # on that form sends the chosen company with each search.
    login(client, demo.superuser[0])
    html = client.get(reverse("admin:rbac_company_change", args=[acme.pk])).content.decode()
    add_url = f"{reverse('admin:rbac_membership_add')}?company={acme.pk}"
    assert reverse("admin:rbac_membership_add") in html
    with django_assert_max_num_queries(60):
        html = client.get(add_url).content.decode()
    assert 'data-company-field="company"' in html
    assert f'<option value="{acme.pk}" selected>' in html
    assert "rbac/js/team_picker.js" in html
