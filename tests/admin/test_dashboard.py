"""The admin's index as a dashboard, for a superuser and for a company's admin (issue 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.projects.demo import demo_setup
from backoffice.projects.models import Document
from importers.models import ImportRun, ReviewPair
from rbac.models import Company, User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return demo_setup()


@pytest.fixture
def acme():
    return Company.objects.get(name="Acme", country="DE")


@pytest.fixture
def nordlicht():
    return Company.objects.get(name="Nordlicht Logistik")


def as_user(client, email):
    client.force_login(User.objects.get(email=email))
    return client


def logged_change(obj, *, by: User, message: str) -> LogEntry:
    return LogEntry.objects.create(
        user=by, content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk),
        object_repr=str(obj), action_flag=CHANGE, change_message=message,
    )


def import_run(*, rejected: int, read: int = 100, status=ImportRun.Status.SUCCEEDED,
               minutes_ago: int = 0, duration_s: float = 75.0) -> ImportRun:
    return ImportRun.objects.create(
        status=status, duration_s=duration_s,
        started_at=timezone.now() - timedelta(minutes=minutes_ago),
        report={"tables": {"core.users": {"read": read, "rejected": rejected}},
                "rejects": [{"reason": "bad"}] * rejected},
    )


def review_pair(number: int, status=ReviewPair.Status.OPEN) -> ReviewPair:
    return ReviewPair.objects.create(
        left_source="core", left_table="organizations", left_legacy_id=str(number),
        right_source="portal", right_table="company", right_legacy_id=str(number),
        status=status,
    )


def counts(page) -> dict[str, int]:
    return {count.label: count.value for count in page.context["dashboard_counts"]}


def test_the_superuser_dashboard_counts_everything_and_shows_the_last_import(
    client, demo, acme
):
    review_pair(1)
    review_pair(2)
    review_pair(3, status=ReviewPair.Status.DIFFERENT)
    import_run(rejected=4, minutes_ago=60)
    import_run(rejected=7, read=250, duration_s=75.4)

    page = as_user(client, demo.superuser[0]).get(reverse("admin:index"))

    assert page.status_code == 200
    assert counts(page) == {
        "companies": Company.objects.count(), "people": User.objects.count(),
        "documents": Document.objects.count(), "open review pairs": 2,
    }
    html = page.content.decode()
    start = html.index('id="last-import"')
    last_import = html[start:html.index("</p>", start)]
    assert "Succeeded" in last_import and "250 rows read, 7 rejected, in 1 min 15 s" in last_import
    assert html.count('class="bar-rejects"') == 2
    assert "?status__exact=open" in html
    # The app list stays below the dashboard.
    assert reverse("admin:rbac_company_changelist") in html and page.context["app_list"]


def test_the_rejects_chart_draws_failed_runs_apart_and_scales_to_the_largest(client, demo):
    import_run(rejected=10, minutes_ago=30)
    import_run(rejected=0, status=ImportRun.Status.FAILED, minutes_ago=20)
    import_run(rejected=5, minutes_ago=10)

    page = as_user(client, demo.superuser[0]).get(reverse("admin:index"))

    chart = page.context["dashboard_panels"][-1].context["chart"]
    assert chart.count('class="bar-rejects"') == 2 and chart.count('class="bar-failed"') == 1
    # Oldest on the left: the 10-rejects run is the first bar, full height; 5 is half.
    assert chart.index("10 rejected of 100") < chart.index("5 rejected of 100")
    assert 'height="80.0"' in chart and 'height="40.0"' in chart


def test_a_dashboard_without_imports_says_so(client, demo):
    page = as_user(client, demo.superuser[0]).get(reverse("admin:index"))
    assert "No import has run yet." in page.content.decode()


def test_a_company_admin_sees_their_company_first_and_counts_of_what_they_may_see(
    client, demo, acme
):
    review_pair(1)
    import_run(rejected=3)

    page = as_user(client, demo.scoped_staff[0]).get(reverse("admin:index"))

    assert page.status_code == 200
    html = page.content.decode()
    company_url = reverse("admin:rbac_company_change", args=[acme.pk])
    assert html.index(company_url) < html.index('id="dashboard-counts"')
    assert counts(page) == {
        "companies": 1,
        "people": User.objects.filter(memberships__company=acme).distinct().count(),
        "documents": Document.objects.filter(company=acme).count(),
    }
    # Imports and the review queue are the operators', not a company's.
    assert 'id="last-import"' not in html


def test_recent_changes_show_a_company_admin_nothing_of_another_company(
    client, demo, acme, nordlicht
):
    root = User.objects.get(email=demo.superuser[0])
    acme_document = Document.objects.filter(company=acme).first()
    logged_change(acme, by=root, message="Renamed the Acme billing address")
    logged_change(acme_document, by=root, message="Moved the Acme plan")
    logged_change(nordlicht, by=root, message="Renamed the Nordlicht billing address")
    logged_change(Document.objects.filter(company=nordlicht).first(), by=root,
                  message="Moved the Nordlicht plan")

    scoped = as_user(client, demo.scoped_staff[0]).get(reverse("admin:index"))
    shown = {entry.change_message for entry in scoped.context["recent_changes"].context["entries"]}
    assert shown == {"Renamed the Acme billing address", "Moved the Acme plan"}
    assert "Nordlicht" not in scoped.content.decode().split('id="recent-changes"')[1]

    everything = as_user(client, demo.superuser[0]).get(reverse("admin:index"))
    assert len(everything.context["recent_changes"].context["entries"]) == 4


def test_recent_changes_are_the_newest_ten(client, demo, acme):
    root = User.objects.get(email=demo.superuser[0])
    for number in range(12):
        logged_change(acme, by=root, message=f"change {number}")

    page = as_user(client, demo.scoped_staff[0]).get(reverse("admin:index"))

    shown = [entry.change_message for entry in page.context["recent_changes"].context["entries"]]
    assert shown == [f"change {number}" for number in range(11, 1, -1)]


def _grow(acme, nordlicht, root: User, *, size: int) -> None:
    """Add `size` of everything the dashboard counts or lists, in both companies."""
    for company in (acme, nordlicht):
        for number in range(size):
            person = factories.UserFactory()
            factories.member(person, company, "viewer")
            document = factories.DocumentFactory(company=company)
            logged_change(document, by=root, message=f"edit {number}")
        factories.CompanyFactory.create_batch(size)
    for number in range(size):
        import_run(rejected=number, minutes_ago=number)
        review_pair(1000 * size + number)


@pytest.mark.parametrize("who", ["superuser", "scoped_staff"])
def test_the_dashboard_runs_as_many_queries_for_more_data(client, demo, acme, nordlicht, who):
    root = User.objects.get(email=demo.superuser[0])
    as_user(client, getattr(demo, who)[0])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("admin:index")).status_code == 200
        return len(captured)

    _grow(acme, nordlicht, root, size=2)
    queries()  # the first page of a session fills the caches (content types, access)
    small = queries()
    _grow(acme, nordlicht, root, size=25)
    assert queries() == small


def test_a_company_admin_logging_in_lands_on_their_company(client, demo, acme):
    email, password = demo.scoped_staff
    response = client.post(
        f"{reverse('admin:login')}?next={reverse('admin:index')}",
        {"username": email, "password": password},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rbac_company_change", args=[acme.pk])


def test_a_company_admin_asking_for_a_page_is_sent_there_not_to_their_company(client, demo):
    email, password = demo.scoped_staff
    wanted = reverse("admin:rbac_team_changelist")
    response = client.post(f"{reverse('admin:login')}?next={wanted}",
                           {"username": email, "password": password})
    assert response["Location"] == wanted


def test_a_superuser_logging_in_lands_on_the_dashboard(client, demo):
    email, password = demo.superuser
    response = client.post(f"{reverse('admin:login')}?next={reverse('admin:index')}",
                           {"username": email, "password": password})
    assert response["Location"] == reverse("admin:index")


def test_staff_without_any_scope_see_an_empty_dashboard_not_an_error(client, db):
    staff = factories.StaffUserFactory()
    client.force_login(staff)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert counts(page) == {"companies": 0, "people": 1}
    assert page.context["recent_changes"].context["entries"] == []


def test_an_apps_index_lists_its_models_without_the_dashboard(client, demo):
    page = as_user(client, demo.superuser[0]).get(
        reverse("admin:app_list", kwargs={"app_label": "rbac"}))
    assert page.status_code == 200
    assert 'id="dashboard"' not in page.content.decode()
