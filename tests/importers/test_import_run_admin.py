"""The import run's admin page: chart, counts, capped lists, CSV downloads."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from importers.models import ImportRun
from tests.factories import StaffUserFactory

REPORT = {
    "tables": {"portal.member": {"read": 10, "created": 6, "updated": 0, "merged": 2,
                                 "unchanged": 0, "rejected": 2}},
    "rejects": [{"source": "portal", "table": "member", "legacy_id": "7",
                 "reason": '=HYPERLINK("x") is not an e-mail address'},
                {"source": "portal", "table": "member", "legacy_id": "8", "reason": "no company"}],
    "conflicts": [{"kind": "field", "row": f"portal.member #{n}", "rule": "first wins",
                   "field": "first_name"} for n in range(150)],
    "phases_s": {"load_users": 1.25, "commit": 0.5},
}


@pytest.fixture
def run(db) -> ImportRun:
    return ImportRun.objects.create(status=ImportRun.Status.SUCCEEDED, report=REPORT)


def test_the_run_page_charts_each_table_and_caps_long_lists(client, superuser, run):
    client.force_login(superuser)
    html = client.get(reverse("admin:importers_importrun_change", args=[run.pk])).content.decode()
    assert 'title="6 created"' in html and "width:60.00%" in html  # 6 of 10 read
    assert 'title="2 rejected"' in html
    assert "the first 100 of 150" in html and html.count("portal.member #") == 100 + 2
    assert "load_users 1.2" in html
    assert reverse("admin:importers_importrun_rejects_csv", args=[run.pk]) in html


def test_rejects_download_holds_every_row_with_formulas_escaped(client, superuser, run):
    client.force_login(superuser)
    response = client.get(reverse("admin:importers_importrun_rejects_csv", args=[run.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["source", "table", "legacy_id", "reason"]
    assert [row[2] for row in rows[1:]] == ["7", "8"]
    assert rows[1][3].startswith("'=")


def test_conflicts_download_has_a_column_per_detail(client, superuser, run):
    client.force_login(superuser)
    response = client.get(reverse("admin:importers_importrun_conflicts_csv", args=[run.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["kind", "row", "rule", "field"] and len(rows) == 151


def test_staff_without_view_permission_cannot_download(client, run):
    client.force_login(StaffUserFactory())
    response = client.get(reverse("admin:importers_importrun_rejects_csv", args=[run.pk]))
    assert response.status_code == 403
