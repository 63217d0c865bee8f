"""In a real browser: roles changed on the members list of a company or team, one refused."""

from __future__ import annotations

import os
import shutil

import pytest
from django.db import connections

from backoffice.projects.demo import demo_setup
from rbac.models import Company, Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("needs Chromium (apt-get install chromium) for the browser test")
    return path


@pytest.fixture
def browser_page():
    executable = _chromium()
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
    # test around it are ordinary synchronous ones.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            browser.close()
            # While Playwright's loop runs, the test's queries go through a connection of
            # their own (Django keeps connections per context); left open, it would keep
            # the test database from being dropped at the end of the session.
            connections.close_all()


def _log_in(page, live_server, email: str, password: str) -> None:
    """Log in; a superuser lands on the dashboard, a company's admin on their company."""
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/admin/login/" not in url)


def _set_role_on_members_list(page, email: str, role: str) -> None:
    row = page.locator("#result_list tbody tr", has_text=email)
    row.locator("select[name$='-role']").select_option(label=role)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist, .errornote")


def test_company_admin_grants_a_role_and_sees_it_in_the_access_view(live_server, browser_page):
    logins = demo_setup()
    company = Company.objects.get(name="Acme", country="DE")
    page = browser_page
    _log_in(page, live_server, *logins.scoped_staff)

    page.goto(f"{live_server.url}/admin/rbac/company/{company.pk}/change/")
    page.click("a.members-link")
    _set_role_on_members_list(page, "viewer@acme.de", "Editor")
    assert "changed successfully" in page.locator(".messagelist").inner_text()

    page.goto(f"{live_server.url}/admin/rbac/company/{company.pk}/change/")
    access_row = page.locator(".access-view tr", has_text="viewer@acme.de")
    assert "Editor role in the whole company" in access_row.inner_text()
    membership = Membership.objects.get(user__email="viewer@acme.de", company=company, team=None)
    assert membership.role.slug == "editor"


def test_finding1_superuser_changes_a_members_role_from_the_team_page(
    live_server, browser_page
):
    logins = demo_setup()
    company = Company.objects.get(name="Acme", country="DE")
    platform = company.teams.get(name="Platform")
    page = browser_page
    _log_in(page, live_server, *logins.superuser)

    page.goto(f"{live_server.url}/admin/rbac/team/{platform.pk}/change/")
    link = page.locator("a.members-link")
    assert link.inner_text() == "Members (2)"
    link.click()
    assert "Members of Acme (DE) › Platform" in page.locator("h1").inner_text()
    _set_role_on_members_list(page, "editor@acme.de", "Viewer")
    assert "changed successfully" in page.locator(".messagelist").inner_text()
    membership = Membership.objects.get(user__email="editor@acme.de", team=platform)
    assert membership.role.slug == "viewer"


def test_finding4_company_admins_refused_grant_is_one_error_and_nothing_saved(
    live_server, browser_page
):
    logins = demo_setup()
    company = Company.objects.get(name="Acme", country="DE")
    page = browser_page
    _log_in(page, live_server, *logins.scoped_staff)

    page.goto(f"{live_server.url}/admin/rbac/company/{company.pk}/change/")
    page.click("a.members-link")
    _set_role_on_members_list(page, "viewer@acme.de", "Owner")
    errors = page.locator(".errornote, .errorlist").all_inner_texts()
    assert any("You cannot grant Owner (rank 5)" in text for text in errors)
    assert page.locator(".messagelist .success").count() == 0
    membership = Membership.objects.get(user__email="viewer@acme.de", company=company, team=None)
    assert membership.role.slug == "viewer"
