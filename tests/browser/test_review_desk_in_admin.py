"""In a real browser: a superuser works through the review desk, Different then Same."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from backoffice.projects.demo import demo_setup
from importers.models import LegacyRecord, ReviewPair
from rbac.models import Company
from tests.browser.test_grant_role_in_admin import _log_in, browser_page  # noqa: F401
from tests.factories import CompanyFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _imported_pair(left: Company, right: Company, left_id: str, right_id: str) -> ReviewPair:
    content_type = ContentType.objects.get_for_model(Company)
    for company, source, table, legacy_id in ((left, "core", "organizations", left_id),
                                              (right, "portal", "company", right_id)):
        LegacyRecord.objects.create(source=source, table=table, legacy_id=legacy_id,
                                    content_type=content_type, object_id=company.pk,
                                    fingerprint="x")
    return ReviewPair.objects.create(
        left_source="core", left_table="organizations", left_legacy_id=left_id,
        right_source="portal", right_table="company", right_legacy_id=right_id,
        reason="insufficient: similar names",
        left_evidence={"name": left.name, "country": "DE"},
        right_evidence={"name": right.name, "country": "DE"},
    )


def test_superuser_decides_different_then_same_on_the_review_desk(
    live_server, browser_page  # noqa: F811
):
    logins = demo_setup()
    borg, borg_ag = CompanyFactory(name="Borg"), CompanyFactory(name="Borg AG")
    zeta, zeta_gmbh = CompanyFactory(name="Zeta"), CompanyFactory(name="Zeta GmbH")
    apart = _imported_pair(borg, borg_ag, "901", "902")
    same = _imported_pair(zeta, zeta_gmbh, "903", "904")
    page = browser_page
    _log_in(page, live_server, *logins.superuser)

    page.goto(f"{live_server.url}/admin/importers/reviewpair/")
    page.click("a.review-desk-link")
    assert "Borg AG" in page.locator("#review-desk").inner_text()
    assert page.locator("#review-desk tr.differs[data-field=name]").count() == 1
    assert page.locator("#review-desk tr.same[data-field=country]").count() == 1
    assert page.locator("a.right-company").inner_text() == f"#{borg_ag.pk} {borg_ag}"

    page.click("button[value=different]")
    page.wait_for_selector(".messagelist")
    assert "Zeta GmbH" in page.locator("#review-desk").inner_text()

    page.click("button[value=same]")
    summary = page.locator("#merge-summary").inner_text()
    assert f"#{zeta_gmbh.pk}" in summary and "cannot be undone" in summary
    page.click("#confirm-merge")
    page.wait_for_selector("#desk-empty")
    assert f"merged company #{zeta_gmbh.pk}" in page.locator(".messagelist").inner_text()

    apart.refresh_from_db()
    same.refresh_from_db()
    assert (apart.status, same.status) == (ReviewPair.Status.DIFFERENT, ReviewPair.Status.SAME)
    assert not Company.objects.filter(pk=zeta_gmbh.pk).exists()
    assert Company.objects.filter(pk__in=[borg.pk, borg_ag.pk]).count() == 2
