"""In a real browser: a team picker offers only the teams of the company on the form."""

from __future__ import annotations

import pytest

from backoffice.projects.demo import demo_setup
from backoffice.projects.models import Project
from tests.browser.test_grant_role_in_admin import browser_page  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_team_picker_offers_the_forms_company_teams_by_their_path(
    live_server, browser_page  # noqa: F811
):
    logins = demo_setup()
    email, password = logins.superuser
    project = Project.objects.filter(company__name="Acme", company__country="DE").first()
    page = browser_page
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/projects/project/{project.pk}/change/")
    page.click(".field-team .select2-selection")
    page.fill(".select2-search__field", "Platform")
    page.wait_for_selector(".select2-results__option:not(.loading-results)")
    page.wait_for_function(
        "() => !document.querySelector('.select2-results__option.loading-results')")
    options = page.locator(".select2-results__option").all_inner_texts()
    assert options == ["Acme (DE) › Engineering › Platform"]
    page.click(".select2-results__option")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    project.refresh_from_db()
    assert project.team.name == "Platform" and project.team.company_id == project.company_id
    assert not [e for e in errors if "Content Security Policy" in e], errors
