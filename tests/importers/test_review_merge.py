"""A "same company" decision in the review queue merges the two companies at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from backoffice.projects.models import Document, Project
from importers.merging import apply_same_decision, merge_companies
from importers.models import LegacyRecord, ReviewPair
from rbac.models import APIKey, Company, CompanyUserObjectPermission, Membership, Team
from tests.factories import (
    APIKeyFactory,
    CompanyFactory,
    DocumentFactory,
    ProjectFactory,
    StaffUserFactory,
    TeamFactory,
    UserFactory,
    member,
)

from .test_loader import run_sample_import


def _record(company: Company, source: str, table: str, legacy_id: str) -> None:
    LegacyRecord.objects.create(
        source=source, table=table, legacy_id=legacy_id, object_id=company.pk,
        content_type=ContentType.objects.get_for_model(Company), fingerprint="x",
        is_origin=True,
    )


@pytest.fixture
def two(db):
    keep = CompanyFactory(name="Acme", vat_number=None, domain="")
    drop = CompanyFactory(name="ACME GmbH", vat_number="DE123456789", domain="acme.de")
    _record(keep, "core", "organizations", "1")
    _record(drop, "portal", "company", "7")
    return keep, drop


def test_merge_moves_everything_onto_the_kept_company(two):
    keep, drop = two
    sales_kept, sales_dropped = TeamFactory(company=keep, name="Sales"), TeamFactory(
        company=drop, name="sales ")
    child = TeamFactory(company=drop, name="Inside sales", parent=sales_dropped)
    ops = TeamFactory(company=drop, name="Ops")
    person, other = UserFactory(), UserFactory()
    member(person, keep, "viewer")
    member(person, drop, "admin")
    member(other, drop, "editor", team=sales_dropped)
    ProjectFactory(company=keep, code="P-1")
    clashing = ProjectFactory(company=drop, code="P-1")
    document = DocumentFactory(company=drop, team=sales_dropped)
    key = APIKeyFactory(company=drop)
    grant = CompanyUserObjectPermission.objects.create(
        user=other, content_object=drop,
        permission=Permission.objects.get(codename="view_company"))

    merge_companies(keep=keep, drop=drop)

    assert not Company.objects.filter(pk=drop.pk).exists()
    keep.refresh_from_db()
    assert (keep.vat_number, keep.domain) == ("DE123456789", "acme.de")
    assert set(Team.objects.filter(company=keep).values_list("name", flat=True)) == {
        "Sales", "Inside sales", "Ops"}
    assert Team.objects.get(pk=child.pk).parent_id == sales_kept.pk
    assert Team.objects.get(pk=child.pk).ancestry == f"/{sales_kept.pk}/"
    assert Team.objects.get(pk=ops.pk).company_id == keep.pk
    company_roles = Membership.objects.filter(user=person, team__isnull=True)
    assert [(m.company_id, m.role.slug) for m in company_roles] == [(keep.pk, "admin")]
    assert Membership.objects.get(user=other).team_id == sales_kept.pk
    assert Project.objects.get(pk=clashing.pk).code == f"P-1-{drop.pk}"
    assert Document.objects.get(pk=document.pk).team_id == sales_kept.pk
    assert APIKey.objects.get(pk=key.pk).company_id == keep.pk
    assert CompanyUserObjectPermission.objects.get(pk=grant.pk).content_object_id == keep.pk
    assert set(LegacyRecord.objects.values_list("object_id", flat=True)) == {keep.pk}
    assert Membership.history.filter(history_change_reason__startswith="merged").exists()


def test_deciding_same_in_the_admin_merges_at_once(two, client):
    keep, drop = two
    pair = ReviewPair.objects.create(
        left_source="core", left_table="organizations", left_legacy_id="1",
        right_source="portal", right_table="company", right_legacy_id="7", reason="name")
    client.force_login(StaffUserFactory(is_superuser=True))
    response = client.post(reverse("admin:importers_reviewpair_changelist"),
                           {"action": "decide_same", "_selected_action": [pair.pk]},
                           follow=True)
    assert f"merged company #{drop.pk}" in response.content.decode()
    assert list(Company.objects.values_list("pk", flat=True)) == [keep.pk]
    pair.refresh_from_db()
    assert pair.status == ReviewPair.Status.SAME and pair.decided_at is not None
    # A merge is not undone by a later decision.
    client.post(reverse("admin:importers_reviewpair_changelist"),
                {"action": "decide_different", "_selected_action": [pair.pk]})
    pair.refresh_from_db()
    assert pair.status == ReviewPair.Status.SAME


def test_an_import_after_the_merge_changes_nothing(db):
    run_sample_import()
    content_type = ContentType.objects.get_for_model(Company)
    core_id, portal_id = "3", "5"
    left = LegacyRecord.objects.get(source="core", table="organizations", legacy_id=core_id)
    right = LegacyRecord.objects.get(source="portal", table="company", legacy_id=portal_id)
    assert left.object_id != right.object_id and left.content_type == content_type
    pair = ReviewPair.objects.create(
        left_source="core", left_table="organizations", left_legacy_id=core_id,
        right_source="portal", right_table="company", right_legacy_id=portal_id,
        reason="test", status=ReviewPair.Status.SAME)
    assert apply_same_decision(pair) is not None
    again = run_sample_import()
    for name, counts in again.tables.items():
        assert (counts.created, counts.updated, counts.merged) == (0, 0, 0), name
