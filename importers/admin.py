"""Import runs, the company review queue, and where each imported object came from."""

from __future__ import annotations

import csv

from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from backoffice.projects.models import Document, Project
from rbac.models import APIKey, Company, Membership, Team, User
from rbac.pagination import IdsFirstPaginator
from rbac.search import IndexedSearchMixin

from .admin_csv import LegacyCSVImportViews
from .dashboard import add_to_dashboard
from .exports import escape_formula
from .list_filters import LegacyTableFilter
from .models import ImportRun, LegacyRecord, ReviewPair
from .report import readable_duration
from .resources import add_export_actions
from .review import (
    ReviewDecisionError,
    review_company_contents,
    review_pair_companies,
    review_pair_decide,
    review_pair_evidence_rows,
    review_pair_next_open,
    review_pair_open_count,
)

IMPORTED_MODELS = (Company, Team, User, Membership, Project, Document, APIKey)


class LargeListMixin:
    """Lists of up to a million rows: one capped count, pages chosen by id first."""

    show_full_result_count = False
    paginator = IdsFirstPaginator


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
class ImportRunAdmin(LargeListMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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
class ReviewPairAdmin(LargeListMixin, admin.ModelAdmin):
    list_display = ("__str__", "left_name", "right_name", "reason", "status", "decided_by",
                    "desk_link")
    list_filter = ("status",)
    list_select_related = ("decided_by",)
    readonly_fields = ("left_source", "left_table", "left_legacy_id", "left_evidence",
                       "right_source", "right_table", "right_legacy_id", "right_evidence",
                       "reason", "decided_by", "decided_at", "first_seen_at", "evidence")
    fields = ("status", "evidence", "reason", "decided_by", "decided_at", "first_seen_at")
    actions = ("decide_same", "decide_different", "reopen")
    change_list_template = "admin/importers/reviewpair/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # pairs come from imports only

    @admin.display(description="left")
    def left_name(self, pair: ReviewPair) -> str:
        return pair.left_evidence.get("name", "")

    @admin.display(description="right")
    def right_name(self, pair: ReviewPair) -> str:
        return pair.right_evidence.get("name", "")

    @admin.display(description="desk")
    def desk_link(self, pair: ReviewPair) -> str:
        return format_html('<a href="{}">review</a>',
                           reverse("admin:importers_reviewpair_desk_pair", args=[pair.pk]))

    @admin.display(description="evidence side by side")
    def evidence(self, pair: ReviewPair) -> str:
        rows = format_html_join(
            "", '<tr class="{}"><th>{}</th><td>{}</td><td>{}</td></tr>',
            (("differs" if row.differs else "", row.field, row.left, row.right)
             for row in review_pair_evidence_rows(pair=pair)),
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
        if "status" not in form.changed_data:
            return  # every other field is read-only
        self._apply(request, obj, obj.status)

    def _apply(self, request: HttpRequest, pair: ReviewPair, status: str) -> bool:
        """Take the decision through the service and say what happened; False if refused."""
        try:
            result = review_pair_decide(pair=pair, status=status, user=request.user)
        except ReviewDecisionError as error:
            self.message_user(request, str(error), messages.WARNING)
            return False
        if status != ReviewPair.Status.SAME:
            return True
        if result is None:
            self.message_user(
                request, f"{pair}: not two imported companies (yet); the next import "
                "merges them.", messages.INFO)
        else:
            self.message_user(
                request, f"{pair}: merged company #{result.dropped_pk} "
                f"({result.dropped_name}) into #{result.kept.pk} ({result.kept.name}).",
                messages.SUCCESS)
        return True

    def _decide(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        # A merge cannot be taken back by a decision: those pairs stay as they are.
        merged = queryset.filter(status=ReviewPair.Status.SAME)
        if merged.exists():
            self.message_user(
                request, f"{merged.count()} pair(s) already merged were left as they are; "
                "split such a company by hand.", messages.WARNING)
        pairs = list(queryset.exclude(status=ReviewPair.Status.SAME))
        for pair in pairs:
            self._apply(request, pair, status)
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

    # The review desk: one open pair at a time.

    def get_urls(self) -> list:
        admin_view = self.admin_site.admin_view
        # The pair's id is `object_id`: the admin site's gate checks it like a change page.
        return [
            path("desk/", admin_view(self.desk_next), name="importers_reviewpair_desk"),
            path("<path:object_id>/desk/", admin_view(self.desk_pair),
                 name="importers_reviewpair_desk_pair"),
            path("<path:object_id>/desk/confirm/", admin_view(self.desk_confirm),
                 name="importers_reviewpair_desk_confirm"),
            *super().get_urls(),
        ]

    def _desk_pair_or_refuse(self, request: HttpRequest, object_id: str) -> ReviewPair:
        pair = self.get_object(request, object_id)
        if pair is None:
            raise Http404("No review pair with that id.")
        needs_change = request.method not in ("GET", "HEAD")
        allowed = (self.has_change_permission(request, pair) if needs_change
                   else self.has_view_or_change_permission(request, pair))
        if not allowed:
            raise PermissionDenied
        return pair

    def _next_url(self, pair: ReviewPair) -> str:
        return f"{reverse('admin:importers_reviewpair_desk')}?after={pair.pk}"

    def desk_next(self, request: HttpRequest) -> HttpResponse:
        """Send to the next open pair (after `?after=`), or say the queue is empty."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        after = request.GET.get("after", "")
        pair = review_pair_next_open(after_pk=int(after) if after.isdigit() else None)
        if pair is not None:
            return redirect("admin:importers_reviewpair_desk_pair", pair.pk)
        return TemplateResponse(request, "admin/importers/reviewpair/desk.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": "Review desk", "pair": None,
        })

    def desk_pair(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Show one pair side by side; Same asks for confirmation, Different and Skip go on."""
        pair = self._desk_pair_or_refuse(request, object_id)
        if request.method == "POST":
            decision = request.POST.get("decision")
            if pair.status != ReviewPair.Status.OPEN:
                self.message_user(request, f"{pair}: already decided.", messages.WARNING)
                return redirect("admin:importers_reviewpair_desk_pair", pair.pk)
            if decision == "same":
                return redirect("admin:importers_reviewpair_desk_confirm", pair.pk)
            if decision == "different":
                if self._apply(request, pair, ReviewPair.Status.DIFFERENT):
                    self.message_user(request, f"{pair}: different companies; imports keep "
                                      "them apart.", messages.SUCCESS)
                return redirect(self._next_url(pair))
            self.message_user(request, "Choose Same or Different.", messages.ERROR)
            return redirect("admin:importers_reviewpair_desk_pair", pair.pk)
        left, right = review_pair_companies(pair=pair)
        return TemplateResponse(request, "admin/importers/reviewpair/desk.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": "Review desk", "pair": pair,
            "rows": review_pair_evidence_rows(pair=pair),
            "left_company": left, "right_company": right,
            "open_count": review_pair_open_count(),
            "can_decide": self.has_change_permission(request, pair),
            "skip_url": self._next_url(pair),
        })

    def desk_confirm(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Ask before the merge, which cannot be undone; on POST merge and go on."""
        pair = self._desk_pair_or_refuse(request, object_id)
        if pair.status != ReviewPair.Status.OPEN:
            self.message_user(request, f"{pair}: already decided.", messages.WARNING)
            return redirect("admin:importers_reviewpair_desk_pair", pair.pk)
        if request.method == "POST":
            self._apply(request, pair, ReviewPair.Status.SAME)
            return redirect(self._next_url(pair))
        left, right = review_pair_companies(pair=pair)
        both = left is not None and right is not None and left.pk != right.pk
        keep, drop = sorted((left, right), key=lambda c: c.pk) if both else (None, None)
        return TemplateResponse(request, "admin/importers/reviewpair/desk_confirm.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": "Merge these companies?", "pair": pair, "keep": keep, "drop": drop,
            "drop_counts": review_company_contents(company=drop) if drop else None,
        })


@admin.register(LegacyRecord)
class LegacyRecordAdmin(IndexedSearchMixin, LargeListMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("source", "table", "legacy_id", "content_type", "object_id", "is_origin",
                    "updated_at")
    list_filter = ("source", LegacyTableFilter, "is_origin")
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
