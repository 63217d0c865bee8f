"""What the importers add to the admin's dashboard: the last import and its rejects over time.

Every number comes from the ImportRuns' recorded reports, never from counting the legacy
rows: one query for the last runs, reading only each report's per-table counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from rbac.dashboard import DashboardCount, DashboardPanel

from .models import ImportRun, ReviewPair
from .report import readable_duration

RUNS_CHARTED = 20
CHART_WIDTH, CHART_HEIGHT, BAR_GAP = 400, 80, 2


@dataclass(frozen=True)
class RunSummary:
    pk: int
    started_at: datetime
    status: str
    status_label: str
    duration: str
    read: int
    rejected: int


def recent_runs(limit: int = RUNS_CHARTED) -> list[RunSummary]:
    """Return the last `limit` import runs, newest first, with their read and rejected totals.

    Only the report's "tables" key leaves the database: the lists of rejects and conflicts
    can hold thousands of rows.
    """
    rows = ImportRun.objects.order_by("-started_at", "-pk").values(
        "pk", "started_at", "status", "duration_s", "report__tables")[:limit]
    labels = dict(ImportRun.Status.choices)
    return [
        RunSummary(
            pk=row["pk"], started_at=row["started_at"], status=row["status"],
            status_label=labels.get(row["status"], row["status"]),
            duration=readable_duration(row["duration_s"]),
            read=sum(t.get("read", 0) for t in (row["report__tables"] or {}).values()),
            rejected=sum(t.get("rejected", 0) for t in (row["report__tables"] or {}).values()),
        )
        for row in rows
    ]


def rejects_chart(runs: list[RunSummary]) -> str:
    """Return an SVG bar chart of the rejected rows per run, oldest on the left.

    Drawn here, not in the browser: the policy admits no inline script.
    """
    oldest_first = list(reversed(runs))
    most = max((run.rejected for run in oldest_first), default=0) or 1
    width = CHART_WIDTH / max(len(oldest_first), 1)
    bars = format_html_join("", (
        '<rect class="{}" x="{}" y="{}" width="{}" height="{}">'
        "<title>{}: {} rejected of {} read ({})</title></rect>"
    ), (
        ("bar-failed" if run.status == ImportRun.Status.FAILED else "bar-rejects",
         f"{index * width:.1f}", f"{CHART_HEIGHT - height:.1f}",
         f"{max(width - BAR_GAP, 1):.1f}", f"{height:.1f}",
         f"{timezone.localtime(run.started_at):%Y-%m-%d %H:%M}", run.rejected, run.read,
         run.status_label)
        for index, run in enumerate(oldest_first)
        # A run without rejects still shows: a sliver on the axis.
        for height in (max(CHART_HEIGHT * run.rejected / most, 1),)
    ))
    return format_html(
        '<svg class="dashboard-chart" role="img" viewBox="0 -12 {} {}" width="{}" height="{}">'
        "<title>Rejected rows in the last {} imports, oldest first</title>"
        '<text x="0" y="-2">{} rejected</text>{}</svg>',
        CHART_WIDTH, CHART_HEIGHT + 12, CHART_WIDTH, CHART_HEIGHT + 12,
        len(oldest_first), most if runs else 0, bars,
    )


def imports_panel(request: HttpRequest) -> DashboardPanel | None:
    model_admin = admin.site._registry.get(ImportRun)
    if model_admin is None or not model_admin.has_view_permission(request):
        return None
    runs = recent_runs()
    last = runs[0] if runs else None
    return DashboardPanel("Imports", "admin/dashboard/imports.html", {
        "last": last,
        "last_url": reverse("admin:importers_importrun_change", args=[last.pk]) if last else None,
        "chart": rejects_chart(runs) if runs else "",
        "runs_charted": len(runs),
    })


def review_pair_counts(request: HttpRequest) -> list[DashboardCount]:
    model_admin = admin.site._registry.get(ReviewPair)
    if model_admin is None or not model_admin.has_view_permission(request):
        return []
    value = ReviewPair.objects.filter(status=ReviewPair.Status.OPEN).count()
    url = reverse("admin:importers_reviewpair_changelist") + "?status__exact=open"
    return [DashboardCount("open review pairs", value, url)]


def add_to_dashboard(site: admin.AdminSite) -> None:
    """Add the import panel and the open review pairs to the site's dashboard, if it has one."""
    if hasattr(site, "add_dashboard_panel"):
        site.add_dashboard_count(review_pair_counts)
        site.add_dashboard_panel(imports_panel)

