"""The migration board: which legacy API clients have moved, which still call what, when last.

Read-only; counts come from the cache (`usage.usage_flush`, run when the board opens).
"""

from __future__ import annotations

import csv

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from importers.exports import escape_formula

from .board import moved_before, usage_board, usage_status
from .models import LegacyUsage
from .usage import usage_flush

CSV_COLUMNS = ["company", "credential kind", "credential id", "credential", "api", "endpoint",
               "calls", "first call (UTC)", "last call (UTC)", "credential's last legacy call",
               "status"]


class MovedFilter(admin.SimpleListFilter):
    title = "client status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("calling", "still calling"), ("moved", "moved")]

    def queryset(self, request, queryset):
        if self.value() == "calling":
            return queryset.filter(credential_last_call__gte=moved_before())
        if self.value() == "moved":
            return queryset.filter(credential_last_call__lt=moved_before())
        return queryset


@admin.register(LegacyUsage)
class LegacyUsageAdmin(admin.ModelAdmin):
    list_display = ("credential_label", "credential_kind", "company", "endpoint", "calls",
                    "last_call_at", "status")
    list_filter = (MovedFilter, "api", "credential_kind")
    search_fields = ("credential_label", "endpoint", "company__name")
    list_select_related = ("company",)
    ordering = ("company__name", "credential_label", "endpoint")
    readonly_fields = [f.name for f in LegacyUsage._meta.fields]

    def get_queryset(self, request):
        return usage_board(super().get_queryset(request))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        urls = [path("export.csv", self.admin_site.admin_view(self.export_csv),
                     name="legacy_api_legacyusage_export")]
        return urls + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context=None):
        usage_flush()  # the board shows every call counted so far
        extra_context = {**(extra_context or {}), "title": format_html(
            'Legacy API migration board — <a href="{}">export CSV</a>',
            reverse("admin:legacy_api_legacyusage_export"))}
        return super().changelist_view(request, extra_context)

    @admin.display(description="status")
    def status(self, usage: LegacyUsage) -> str:
        return usage_status(usage)

    def export_csv(self, request: HttpRequest) -> HttpResponse:
        """The board as CSV for the account managers, one row per credential and endpoint."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        usage_flush()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="legacy-api-usage.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        rows = usage_board().order_by("company__name", "credential_label", "endpoint")
        for usage in rows:
            writer.writerow([escape_formula(str(value)) for value in (
                usage.company.name if usage.company else "", usage.credential_kind,
                usage.credential_id, usage.credential_label, usage.api, usage.endpoint,
                usage.calls, usage.first_call_at.isoformat(), usage.last_call_at.isoformat(),
                usage.credential_last_call.isoformat(), usage_status(usage),
            )])
        return response
