"""In a real browser: the dashboard, and the CSV upload's button disabled while it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.projects.demo import demo_setup
from rbac.models import Company
from tests.browser.test_grant_role_in_admin import _log_in, browser_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_STATE_AFTER_SUBMIT = """() => document.addEventListener("submit", () => {
    setTimeout(() => {
        const button = document.querySelector("input[type=submit]");
        sessionStorage.setItem("state_after_submit", JSON.stringify({
            disabled: button.disabled, value: button.value,
            note_shown: !document.querySelector(".submit-once-note").hidden,
        }));
    }, 100);
})"""
PORTAL_CSV = Path(__file__).resolve().parents[1] / "data" / "legacy_sample" / "csv" / "portal"


def test_a_company_admin_lands_on_their_company_and_the_dashboard_links_back_to_it(
    live_server, browser_page  # noqa: F811
):
    logins = demo_setup()
    company = Company.objects.get(name="Acme", country="DE")
    page = browser_page

    _log_in(page, live_server, *logins.scoped_staff)
    assert page.url == f"{live_server.url}/admin/rbac/company/{company.pk}/change/"

    page.goto(f"{live_server.url}/admin/")
    page.click(".dashboard-landing a")
    page.wait_for_url(f"{live_server.url}/admin/rbac/company/{company.pk}/change/")


def test_the_upload_button_is_disabled_while_the_preview_runs(
    live_server, browser_page  # noqa: F811
):
    logins = demo_setup()
    page = browser_page
    _log_in(page, live_server, *logins.superuser)
    assert "companies" in page.locator("#dashboard-counts").inner_text()

    page.goto(f"{live_server.url}/admin/importers/importrun/upload/")
    page.select_option("#id_table", value="portal.team")
    page.set_input_files("#id_file", str(PORTAL_CSV / "team.csv"))
    # The page cannot be read while its form is being sent: it notes what it looked like
    # then, a moment after the submit, where the next page can read it.
    page.evaluate(RECORD_STATE_AFTER_SUBMIT)
    held = []
    # Hold the upload for a while: a small file previews quickly.
    page.route("**/admin/importers/importrun/upload/",
               lambda route: held.append(route) if route.request.method == "POST"
               else route.continue_())
    page.click("input[type=submit]", no_wait_after=True)
    page.wait_for_timeout(500)
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_selector("#preview-counts")

    state = page.evaluate("() => JSON.parse(sessionStorage.getItem('state_after_submit'))")
    assert state == {"disabled": True, "value": "Reading the file…", "note_shown": True}
    assert "Nothing has been written yet" in page.content()
