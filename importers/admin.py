"""Import runs, the company review queue, and where each imported object came from."""

from __future__ import annotations

import csv

from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from backoffice.projects.models import Document, Project
from rbac.models import APIKey, Company, Membership, Team, User

from .admin_csv import LegacyCSVImportViews
from .dashboard import add_to_dashboard
from .exports import escape_formula
from .merging import apply_same_decision
from .models import ImportRun, LegacyRecord, ReviewPair
from .report import readable_duration
from .resources import add_export_actions

IMPORTED_MODELS = (Company, Team, User, Membership, Project, Document, APIKey)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# Colours of the outcomes in the per-table bar chart.
_OUTCOME_COLOURS = {"created": "#2e7d32", "merged": "#1565c0", "updated": "#f9a825",
                    "unchanged": "#9e9e9e", "rejected": "#c62828"}
# Long lists are cut on the page; the CSV downloads hold every row.
SHOWN_ROWS = 100


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("started_at", "status", "started_by_name", "duration", "rejected_rows")
    list_filter = ("status",)
    fields = ("started_at", "status", "started_by_name", "duration", "options", "error",
              "outcome_chart", "table_counts", "phases", "reject_list", "conflict_list")
    readonly_fields = fields

    def get_urls(self) -> list:
        admin_view = self.admin_site.admin_view
        return [
            *LegacyCSVImportViews(self).urls(),
            path("<int:pk>/rejects.csv", admin_view(self.rejects_csv),
                 name="importers_importrun_rejects_csv"),
            path("<int:pk>/conflicts.csv", admin_view(self.conflicts_csv),
                 name="importers_importrun_conflicts_csv"),
            *super().get_urls(),
        ]

    @admin.display(description="duration", ordering="duration_s")
    def duration(self, run: ImportRun) -> str:
        return readable_duration(run.duration_s)

    @admin.display(description="rejected rows")
    def rejected_rows(self, run: ImportRun) -> int:
        return len(run.report.get("rejects", []))

    @admin.display(description="outcome per table")
    def outcome_chart(self, run: ImportRun) -> str:
        legend = format_html_join(
            " ", '<span style="color:{}">■</span> {}',
            ((colour, outcome) for outcome, colour in _OUTCOME_COLOURS.items()),
        )
        bars = format_html_join("", "{}", (
            (self._bar(name, counts),) for name, counts in run.report.get("tables", {}).items()
        ))
        return format_html('<div style="min-width:40em">{}<table>{}</table></div>', legend, bars)

    @staticmethod
    def _bar(name: str, counts: dict[str, int]) -> str:
        read = counts.get("read") or 0
        segments = format_html_join("", '<span title="{} {}" style="display:inline-block;'
                                        'height:1em;width:{}%;background:{}"></span>', (
            (counts.get(outcome, 0), outcome, f"{100 * counts.get(outcome, 0) / read:.2f}",
             colour)
            for outcome, colour in _OUTCOME_COLOURS.items() if read and counts.get(outcome)
        ))
        return format_html('<tr><td>{}</td><td style="width:30em">{}</td><td>{}</td></tr>',
                           name, segments, read)

    @admin.display(description="per table")
    def table_counts(self, run: ImportRun) -> str:
        columns = ("read", "created", "updated", "merged", "unchanged", "rejected")
        header = format_html_join("", "<th>{}</th>", ((c,) for c in ("table", *columns)))
        body = format_html_join(
            "", "<tr><td>{}</td>" + "<td>{}</td>" * len(columns) + "</tr>",
            ((name, *(counts.get(c, 0) for c in columns))
             for name, counts in run.report.get("tables", {}).items()),
        )
        since = run.report.get("unchanged_since_run")
        note = format_html(
            "<p>Every input was as for import run #{}: no row was read.</p>", since
        ) if since else ""
        return format_html("{}<table><tr>{}</tr>{}</table>", note, header, body)

    @admin.display(description="time per step")
    def phases(self, run: ImportRun) -> str:
        return format_html_join(", ", "{} {}", (
            (name, readable_duration(seconds))
            for name, seconds in run.report.get("phases_s", {}).items()
        ))

    def _capped(self, run: ImportRun, items: list, kind: str, line) -> str:
        link = reverse(f"admin:importers_importrun_{kind}_csv", args=[run.pk])
        shown = format_html_join("", "<li>{}</li>", ((line(item),) for item in
                                                    items[:SHOWN_ROWS]))
        more = f"the first {SHOWN_ROWS} of " if len(items) > SHOWN_ROWS else ""
        return format_html('<p>{}{} — <a href="{}">download all as CSV</a></p><ul>{}</ul>',
                           more, len(items), link, shown)

    @admin.display(description="rejects")
    def reject_list(self, run: ImportRun) -> str:
        return self._capped(
            run, run.report.get("rejects", []), "rejects",
            lambda r: f"{r['source']}.{r['table']} #{r['legacy_id']}: {r['reason']}",
        )

    @admin.display(description="conflicts")
    def conflict_list(self, run: ImportRun) -> str:
        return self._capped(
            run, run.report.get("conflicts", []), "conflicts",
            lambda c: "; ".join(f"{key}: {value}" for key, value in c.items()),
        )

    def _csv(self, request: HttpRequest, pk: int, kind: str, columns: list[str]):
        run = self.get_object(request, str(pk))
        if run is None or not self.has_view_permission(request, run):
            raise PermissionDenied
        rows = run.report.get(kind, [])
        # Conflicts carry details of their own kind: each becomes a column after the fixed ones.
        columns = [*columns, *sorted({key for row in rows for key in row} - set(columns))]
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{pk}-{kind}.csv"'
        writer = csv.writer(response)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([escape_formula(str(row.get(c, ""))) for c in columns])
        return response

    def rejects_csv(self, request: HttpRequest, pk: int):
        return self._csv(request, pk, "rejects", ["source", "table", "legacy_id", "reason"])

    def conflicts_csv(self, request: HttpRequest, pk: int):
        return self._csv(request, pk, "conflicts", ["kind", "row", "rule"])


@admin.register(ReviewPair)
class ReviewPairAdmin(admin.ModelAdmin):
    list_display = ("__str__", "left_name", "right_name", "reason", "status", "decided_by")
    list_filter = ("status",)
    readonly_fields = ("left_source", "left_table", "left_legacy_id", "left_evidence",
                       "right_source", "right_table", "right_legacy_id", "right_evidence",
                       "reason", "decided_by", "decided_at", "first_seen_at", "evidence")
    fields = ("status", "evidence", "reason", "decided_by", "decided_at", "first_seen_at")
    actions = ("decide_same", "decide_different", "reopen")

    @admin.display(description="left")
    def left_name(self, pair: ReviewPair) -> str:
        return pair.left_evidence.get("name", "")

    @admin.display(description="right")
    def right_name(self, pair: ReviewPair) -> str:
        return pair.right_evidence.get("name", "")

    @admin.display(description="evidence side by side")
    def evidence(self, pair: ReviewPair) -> str:
        keys = sorted(set(pair.left_evidence) | set(pair.right_evidence))
        rows = format_html_join(
            "", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((k, pair.left_evidence.get(k), pair.right_evidence.get(k)) for k in keys),
        )
        return format_html(
            "<table><tr><th></th><th>{}</th><th>{}</th></tr>{}</table>",
            f"{pair.left_source}.{pair.left_table} #{pair.left_legacy_id}",
            f"{pair.right_source}.{pair.right_table} #{pair.right_legacy_id}", rows,
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == ReviewPair.Status.SAME:
            return (*self.readonly_fields, "status")  # merged: a decision cannot undo it
        return self.readonly_fields

    def save_model(self, request, obj: ReviewPair, form, change) -> None:
        if "status" in form.changed_data:
            obj.decided_by = request.user if obj.status != ReviewPair.Status.OPEN else None
            obj.decided_at = timezone.now() if obj.status != ReviewPair.Status.OPEN else None
        super().save_model(request, obj, form, change)
        if "status" in form.changed_data and obj.status == ReviewPair.Status.SAME:
            self._merge(request, obj)

    def _merge(self, request: HttpRequest, pair: ReviewPair) -> None:
        result = apply_same_decision(pair, request.user)
        if result is None:
            self.message_user(
                request, f"{pair}: not two imported companies (yet); the next import "
                "merges them.", messages.INFO)
        else:
            self.message_user(
                request, f"{pair}: merged company #{result.dropped_pk} "
                f"({result.dropped_name}) into #{result.kept.pk} ({result.kept.name}).",
                messages.SUCCESS)

    def _decide(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        open_status = status == ReviewPair.Status.OPEN
        # A merge cannot be taken back by a decision: those pairs stay as they are.
        merged = queryset.filter(status=ReviewPair.Status.SAME)
        if status != ReviewPair.Status.SAME and merged.exists():
            self.message_user(
                request, f"{merged.count()} pair(s) already merged were left as they are; "
                "split such a company by hand.", messages.WARNING)
        pairs = list(queryset.exclude(status=ReviewPair.Status.SAME))
        for pair in pairs:
            pair.status = status
            pair.decided_by = None if open_status else request.user
            pair.decided_at = None if open_status else timezone.now()
            pair.save(update_fields=["status", "decided_by", "decided_at"])
            if status == ReviewPair.Status.SAME:
                self._merge(request, pair)
        if pairs and status != ReviewPair.Status.SAME:
            self.message_user(request, f"{len(pairs)} pair(s) marked {status}; imports keep "
                              "to the decision.", messages.SUCCESS)

    @admin.action(description="Same company (merge them now)")
    def decide_same(self, request, queryset) -> None:
        self._decide(request, queryset, ReviewPair.Status.SAME)

    @admin.action(description="Different companies (keep apart)")
    def decide_different(self, request, queryset) -> None:
        self._decide(request, queryset, ReviewPair.Status.DIFFERENT)

    @admin.action(description="Reopen")
    def reopen(self, request, queryset) -> None:
        self._decide(request, queryset, ReviewPair.Status.OPEN)


@admin.register(LegacyRecord)
class LegacyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("source", "table", "legacy_id", "content_type", "object_id", "is_origin",
                    "updated_at")
    list_filter = ("source", "table", "is_origin")
    search_fields = ("legacy_id",)
    list_select_related = ("content_type",)


class LegacyOriginInline(ReadOnlyAdminMixin, GenericTabularInline):
    model = LegacyRecord
    verbose_name = "legacy origin"
    verbose_name_plural = "legacy origin"
    fields = ("source", "table", "legacy_id", "is_origin", "imported_at", "updated_at")
    readonly_fields = fields
    extra = 0


def add_legacy_origin_inlines() -> None:
    """Show the legacy rows on the admin page of every imported model.

    rbac and projects must not import importers, so the inline is added from here, to
    admin classes they registered already (importers comes after them in INSTALLED_APPS).
    """
    for model in IMPORTED_MODELS:
        model_admin = admin.site._registry.get(model)
        if model_admin is None or LegacyOriginInline in model_admin.inlines:
            continue
        model_admin.inlines = [*model_admin.inlines, LegacyOriginInline]


add_legacy_origin_inlines()
add_export_actions()
add_to_dashboard(admin.site)
