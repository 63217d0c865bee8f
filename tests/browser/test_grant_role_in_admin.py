"""In a real browser: a company administrator grants a role and sees it in the access view."""

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


def test_company_admin_grants_a_role_and_sees_it_in_the_access_view(live_server, browser_page):
    logins = demo_setup()
    email, password = logins.scoped_staff
    company = Company.objects.get(name="Acme", country="DE")
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/rbac/company/{company.pk}/change/")
    row = page.locator("tr.form-row", has_text="viewer@acme.de")
    row.locator("select[name$='-role']").select_option(label="Editor")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")

    access_row = page.locator(".access-view tr", has_text="viewer@acme.de")
    assert "Editor (company)" in access_row.inner_text()
    membership = Membership.objects.get(user__email="viewer@acme.de", company=company, team=None)
    assert membership.role.slug == "editor"
