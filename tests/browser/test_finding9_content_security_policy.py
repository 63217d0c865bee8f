"""Finding 9 (CSP): in a real browser the admin and the API docs work under the policy.

Every page sends a Content-Security-Policy; Chromium reports each violation to the page
(a `securitypolicyviolation` event) and to the console. None may occur on the admin's
pages, those of the admin's packages (history, object permissions, export, upload) and
the Swagger UI, which must still render the schema.
"""

from __future__ import annotations

import pytest

from backoffice.projects.demo import demo_setup
from rbac.models import Company

from .test_grant_role_in_admin import browser_page  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def _pages(company: Company) -> list[str]:
    return [
        "/admin/",
        "/admin/rbac/company/",
        f"/admin/rbac/company/{company.pk}/change/",
        f"/admin/rbac/company/{company.pk}/history/",
        f"/admin/rbac/company/{company.pk}/permissions/",
        "/admin/rbac/user/",
        "/admin/rbac/user/add/",
        "/admin/importers/importrun/upload/",
        "/api/docs/",
    ]


def test_finding9_admin_and_api_docs_run_without_csp_violations(
    live_server, browser_page,  # noqa: F811 - the fixture imported above
):
    logins = demo_setup()
    company = Company.objects.get(name="Acme", country="DE")
    page = browser_page
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)

    page.goto(f"{live_server.url}/admin/login/")
    email, password = logins.superuser
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    violations: dict[str, list[str]] = {}
    for url in _pages(company):
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 200, url
        assert "Content-Security-Policy" in {k.title(): v for k, v in response.headers.items()}
        if url == "/api/docs/":
            # The UI fetched the schema and rendered its title and operations.
            page.wait_for_selector(".swagger-ui .info .title")
            page.wait_for_selector(".opblock")
        else:
            page.wait_for_load_state("load")
        found = page.evaluate("window.__cspViolations")
        if found:
            violations[url] = found
    assert violations == {}
    assert [text for text in console if "Content Security Policy" in text] == []
