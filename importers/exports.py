"""Spreadsheet exports of unified data that a spreadsheet cannot turn into formulas.

django-import-export's own escaping (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT) only drops
a leading "=", and it changes the value. Spreadsheets also run cells that start with
+, -, @, a tab or a carriage return, so every such text cell gets a leading apostrophe
instead: the value stays readable and nothing is executed (OWASP "CSV injection").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from import_export import resources, widgets
from import_export.fields import Field
from import_export.formats.base_formats import CSV, XLSX, TablibFormat

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XLSX needs openpyxl (django-import-export's "xlsx" extra); without it the action is
# left out rather than failing on click.
EXPORT_FORMATS: dict[str, type[TablibFormat]] = {
    name: file_format for name, file_format in (("csv", CSV), ("xlsx", XLSX))
    if file_format.is_available()
}


def escape_formula(value: Any) -> Any:
    """Return a text value that a spreadsheet would run as a formula with a ' in front."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


class SafeModelResource(resources.ModelResource):
    """A resource whose every exported text cell goes through `escape_formula`.

    Numbers keep their sign: a negative budget is a number in the spreadsheet, not text.
    """

    # Related objects read by the exported columns, fetched with the rows.
    select_related: tuple[str, ...] = ()

    def export_field(self, field: Field, instance: Any, **kwargs: Any) -> Any:
        value = super().export_field(field, instance, **kwargs)
        if isinstance(field.widget, widgets.NumberWidget):
            return value
        return escape_formula(value)

    def export_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related(*self.select_related).order_by("pk")


def export_response(
    resource: SafeModelResource, queryset: QuerySet, file_format: str
) -> HttpResponse:
    """Return the rows of `queryset` as a CSV or XLSX download."""
    exporter = EXPORT_FORMATS[file_format]()
    dataset = resource.export(resource.export_queryset(queryset))
    response = HttpResponse(
        exporter.export_data(dataset), content_type=exporter.get_content_type()
    )
    name = resource._meta.model._meta.verbose_name_plural.replace(" ", "-")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{stamp}.{exporter.get_extension()}"'
    )
    return response


def export_action(
    resource_class: type[SafeModelResource], file_format: str
) -> Callable[[admin.ModelAdmin, HttpRequest, QuerySet], HttpResponse]:
    """Return an admin action that exports the selected rows in one format.

    The admin hands an action its changelist queryset, which a scoped admin has already
    limited to what the user may view; the export never widens it.
    """

    @admin.action(description=f"Export selected as {file_format.upper()}",
                  permissions=["view"])
    def export_selected(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse:
        return export_response(resource_class(), queryset, file_format)

    export_selected.__name__ = f"export_selected_{file_format}"
    return export_selected
