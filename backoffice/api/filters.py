"""Query filters. Ids are plain numbers, never checked for existence: an unknown id and
another company's id both give an empty list, so filters cannot probe."""

from __future__ import annotations

from django import forms
from django_filters import rest_framework as filters
from rest_framework.filters import OrderingFilter, SearchFilter

from backoffice.projects.models import Document, Project
from rbac.models import Company, Membership, Team
from rbac.search import indexed_search, searches_whole_tables


class StableOrderingFilter(OrderingFilter):
    """`?ordering=`, with the id breaking ties: rows of equal size or name keep one order
    from page to page, so paging neither repeats nor skips any of them."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering = [*ordering, "id"]
        return ordering


class IndexedSearchFilter(SearchFilter):
    """`?search=`: every word must appear in one of the view's `search_fields`, as in the
    admin, through the same trigram-indexed search (rbac.search) where the list is a
    whole table."""

    def filter_queryset(self, request, queryset, view):
        search_fields = self.get_search_fields(view, request)
        terms = self.get_search_terms(request)
        if not search_fields or not terms:
            return queryset
        if not searches_whole_tables(request.user):
            return super().filter_queryset(request, queryset, view)
        searched = indexed_search(queryset, search_fields, " ".join(terms))
        if searched is None:
            return super().filter_queryset(request, queryset, view)
        return searched

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = ", ".join(field.lstrip("^=@$").replace("__", " ")
                           for field in getattr(view, "search_fields", None) or ())
        for parameter in parameters:
            parameter["description"] = (
                f"Words, each of which must appear (any case) in one of: {fields}."
            )
        return parameters


class IdField(forms.IntegerField):
    """A database id: out-of-range numbers are a 400, not an overflow in the database driver."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IdFilter(filters.NumberFilter):
    field_class = IdField


class CompanyFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="iexact")
    name_contains = filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Company
        fields = ["name", "country", "status", "vat_number", "domain"]


class TeamFilter(filters.FilterSet):
    company = IdFilter()
    parent = IdFilter()
    name = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Team
        fields = ["company", "parent", "name"]


class MembershipFilter(filters.FilterSet):
    company = IdFilter()
    team = IdFilter()
    user = IdFilter()
    role = filters.CharFilter(field_name="role__slug")
    company_scope = filters.BooleanFilter(
        field_name="team",
        lookup_expr="isnull",
        label="Only company-wide roles (true) or only team roles (false).",
    )

    class Meta:
        model = Membership
        fields = ["company", "team", "user", "role", "company_scope"]


class ProjectFilter(filters.FilterSet):
    company = IdFilter()
    team = IdFilter()
    code = filters.CharFilter()

    class Meta:
        model = Project
        fields = ["company", "team", "code", "status", "archived"]


class DocumentFilter(filters.FilterSet):
    company = IdFilter()
    team = IdFilter()
    project = IdFilter()
    uploaded_after = filters.IsoDateTimeFilter(field_name="uploaded_at", lookup_expr="gte")
    uploaded_before = filters.IsoDateTimeFilter(field_name="uploaded_at", lookup_expr="lt")

    class Meta:
        model = Document
        fields = ["company", "team", "project", "content_type", "uploaded_after", "uploaded_before"]
