"""The review desk: one pair at a time, Same (after a confirmation) / Different / Skip."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from importers.models import LegacyRecord, ReviewPair
from importers.review import ReviewDecisionError, review_pair_decide, review_pair_next_open
from rbac.models import Company
from tests.factories import CompanyFactory, StaffUserFactory, TeamFactory, UserFactory, member


def _record(company: Company, source: str, table: str, legacy_id: str) -> None:
    LegacyRecord.objects.create(
        source=source, table=table, legacy_id=legacy_id, object_id=company.pk,
        content_type=ContentType.objects.get_for_model(Company), fingerprint="x")


def _pair(left_id: str, right_id: str, **evidence) -> ReviewPair:
    return ReviewPair.objects.create(
        left_source="core", left_table="organizations", left_legacy_id=left_id,
        right_source="portal", right_table="company", right_legacy_id=right_id,
        reason="insufficient: similar names",
        left_evidence={"name": "Acme", "vat": None, "country": "DE", **evidence.get("left", {})},
        right_evidence={"name": "ACME GmbH", "vat": "DE123456789", "country": "DE",
                        **evidence.get("right", {})},
    )


@pytest.fixture
def queue(db):
    """Two imported company pairs waiting in the queue: (first pair, second pair, companies)."""
    companies = [CompanyFactory(name=name) for name in ("Acme", "ACME GmbH", "Borg", "Borg AG")]
    for index, company in enumerate(companies):
        _record(company, "core" if index % 2 == 0 else "portal",
                "organizations" if index % 2 == 0 else "company", str(index + 1))
    return _pair("1", "2"), _pair("3", "4"), companies


@pytest.fixture
def staff_client(client, db):
    client.force_login(StaffUserFactory(is_superuser=True))
    return client


def _desk(pair: ReviewPair) -> str:
    return reverse("admin:importers_reviewpair_desk_pair", args=[pair.pk])


def test_the_desk_opens_on_the_first_open_pair(queue, staff_client):
    first, second, _ = queue
    first.status = ReviewPair.Status.DIFFERENT
    first.save()
    response = staff_client.get(reverse("admin:importers_reviewpair_desk"))
    assert response.status_code == 302 and response.url == _desk(second)


def test_the_desk_shows_both_rows_with_differences_marked_and_both_companies(
    queue, staff_client
):
    first, _, companies = queue
    page = staff_client.get(_desk(first)).content.decode()
    assert '<tr class="differs" data-field="name">' in page
    assert '<tr class="differs" data-field="vat">' in page
    assert '<tr class="same" data-field="country">' in page
    for company in companies[:2]:
        assert reverse("admin:rbac_company_change", args=[company.pk]) in page
    assert reverse("admin:rbac_company_change", args=[companies[2].pk]) not in page


def test_same_asks_for_confirmation_before_it_merges(queue, staff_client):
    first, second, companies = queue
    response = staff_client.post(_desk(first), {"decision": "same"})
    confirm = reverse("admin:importers_reviewpair_desk_confirm", args=[first.pk])
    assert response.url == confirm
    assert Company.objects.count() == 4  # nothing merged yet
    first.refresh_from_db()
    assert first.status == ReviewPair.Status.OPEN

    page = staff_client.get(confirm).content.decode()
    assert "cannot be undone" in page and f"#{companies[1].pk}" in page

    response = staff_client.post(confirm, follow=True)
    assert response.redirect_chain[-1][0] == _desk(second)
    assert not Company.objects.filter(pk=companies[1].pk).exists()
    first.refresh_from_db()
    assert first.status == ReviewPair.Status.SAME and first.decided_by is not None
    assert f"merged company #{companies[1].pk}" in response.content.decode()


def test_different_records_the_decision_and_goes_to_the_next_pair(queue, staff_client):
    first, second, _ = queue
    response = staff_client.post(_desk(first), {"decision": "different"}, follow=True)
    assert response.redirect_chain[-1][0] == _desk(second)
    first.refresh_from_db()
    assert first.status == ReviewPair.Status.DIFFERENT and first.decided_at is not None
    assert Company.objects.count() == 4


def test_skip_goes_to_the_next_pair_and_changes_nothing(queue, staff_client):
    first, second, _ = queue
    skip = reverse("admin:importers_reviewpair_desk") + f"?after={first.pk}"
    page = staff_client.get(_desk(first)).content.decode()
    assert f'href="{skip}" class="button skip-link"' in page
    assert staff_client.get(skip).url == _desk(second)
    # Skipping the last one wraps round to the first still open.
    skip = reverse("admin:importers_reviewpair_desk") + f"?after={second.pk}"
    assert staff_client.get(skip).url == _desk(first)
    assert set(ReviewPair.objects.values_list("status", flat=True)) == {"open"}


def test_an_empty_queue_says_so(db, staff_client):
    page = staff_client.get(reverse("admin:importers_reviewpair_desk")).content.decode()
    assert "review queue is empty" in page


def test_a_merged_pair_cannot_be_decided_again_on_the_desk(queue, staff_client):
    first, _, companies = queue
    staff_client.post(reverse("admin:importers_reviewpair_desk_confirm", args=[first.pk]))
    staff_client.post(_desk(first), {"decision": "different"})
    staff_client.post(reverse("admin:importers_reviewpair_desk_confirm", args=[first.pk]))
    first.refresh_from_db()
    assert first.status == ReviewPair.Status.SAME
    assert Company.objects.filter(pk=companies[0].pk).exists()


def test_the_desk_page_runs_a_bounded_number_of_queries(
    queue, staff_client, django_assert_max_num_queries
):
    first, _, companies = queue
    for company in companies[:2]:
        for _ in range(20):
            member(UserFactory(), company, "viewer", team=TeamFactory(company=company))
    with django_assert_max_num_queries(10):
        staff_client.get(_desk(first))
    with django_assert_max_num_queries(13):
        staff_client.get(reverse("admin:importers_reviewpair_desk_confirm", args=[first.pk]))


def test_no_add_review_pair(db, staff_client):
    assert staff_client.get(reverse("admin:importers_reviewpair_add")).status_code == 403
    page = staff_client.get(reverse("admin:importers_reviewpair_changelist")).content.decode()
    assert reverse("admin:importers_reviewpair_add") not in page
    assert reverse("admin:importers_reviewpair_desk") in page


def test_staff_who_may_only_view_pairs_see_the_desk_but_cannot_decide(queue, client):
    first, _, _ = queue
    person = StaffUserFactory()
    person.user_permissions.add(Permission.objects.get(codename="view_reviewpair"))
    client.force_login(person)
    page = client.get(_desk(first)).content.decode()
    assert "skip-link" in page and 'value="different"' not in page
    assert client.post(_desk(first), {"decision": "different"}).status_code == 403
    confirm = reverse("admin:importers_reviewpair_desk_confirm", args=[first.pk])
    assert client.post(confirm).status_code == 403
    first.refresh_from_db()
    assert first.status == ReviewPair.Status.OPEN


def test_the_decision_service_records_who_and_when_and_refuses_to_undo_a_merge(queue):
    first, _, companies = queue
    person = UserFactory()
    assert review_pair_decide(pair=first, status="different", user=person) is None
    first.refresh_from_db()
    assert (first.decided_by, first.status) == (person, "different")
    review_pair_decide(pair=first, status="open", user=person)
    first.refresh_from_db()
    assert first.decided_by is None and first.decided_at is None
    result = review_pair_decide(pair=first, status="same", user=person)
    assert result.dropped_pk == companies[1].pk
    with pytest.raises(ReviewDecisionError):
        review_pair_decide(pair=first, status="different", user=person)


def test_next_open_pair_wraps_round(queue):
    first, second, _ = queue
    assert review_pair_next_open(after_pk=first.pk) == second
    assert review_pair_next_open(after_pk=second.pk) == first
    assert review_pair_next_open() == first
