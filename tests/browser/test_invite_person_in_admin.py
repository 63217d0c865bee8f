"""In a real browser: a company administrator invites a new person from the company page."""

from __future__ import annotations

import pytest
from django.core import mail

from backoffice.projects.demo import demo_setup
from rbac.models import Company, Membership
from tests.browser.test_grant_role_in_admin import browser_page  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_company_admin_invites_a_person_into_a_team(live_server, browser_page):  # noqa: F811
    logins = demo_setup()
    email, password = logins.scoped_staff
    company = Company.objects.get(name="Acme", country="DE")
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    # A company's admin lands on their company's page.
    page.wait_for_url(f"{live_server.url}/admin/rbac/company/{company.pk}/change/")

    page.click("a.invitelink")
    page.wait_for_selector("#invite_form")
    assert "Owner" not in page.locator("#id_role").inner_text()
    page.fill("#id_email", "new.colleague@example.com")
    page.select_option("#id_role", label="Editor (rank 2)")
    page.select_option("#id_team", label="Engineering › Platform")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")

    message = page.locator(".messagelist").inner_text()
    assert "Invited new.colleague@example.com as Editor" in message
    assert page.url.endswith(f"/admin/rbac/company/{company.pk}/change/")
    membership = Membership.objects.get(user__email="new.colleague@example.com")
    assert (membership.team.name, membership.role.slug) == ("Platform", "editor")
    assert [message.to for message in mail.outbox] == [["new.colleague@example.com"]]
