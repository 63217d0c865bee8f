"""Team pickers that cannot be confused: "Company › Parent › Team", limited to the company
already chosen on the form.

Django's autocomplete sends only the search term; the team picker's own view
(/admin/rbac/team/autocomplete/) also reads `company`, which static/rbac/js/team_picker.js
adds from the form's company field, or from the page's company for inlines. The script is a
file, not inline: the Content-Security-Policy allows scripts from this origin only.
"""

from __future__ import annotations

from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.urls import path

from . import selectors
from .models import Company, Team

TEAM_PICKER_SCRIPT = "rbac/js/team_picker.js"


class TeamLabels:
    """label_from_instance for team pickers: each company's teams are labelled in one go."""

    def __init__(self) -> None:
        self.labels: dict[int, str] = {}
        self.companies_loaded: set[int] = set()

    def __call__(self, team: Team) -> str:
        if team.pk not in self.labels and team.company_id not in self.companies_loaded:
            self.companies_loaded.add(team.company_id)
            teams = Team.objects.filter(company_id=team.company_id).select_related("company")
            self.labels.update(selectors.team_path_labels(teams=teams.only(
                "pk", "name", "ancestry", "company_id", "company__name", "company__country")))
        return self.labels.get(team.pk, team.name)


def company_id_param(request) -> int | None:
    value = request.GET.get("company", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


class TeamAutocompleteView(AutocompleteJsonView):
    """Django's autocomplete for teams, filtered by `?company=` and labelled with the path."""

    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(request)
        if source_field.remote_field.model is not Team:
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name

    def get_queryset(self):
        queryset = super().get_queryset()
        company_id = company_id_param(self.request)
        if company_id is not None:
            queryset = queryset.filter(company_id=company_id)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        self.labels = selectors.team_path_labels(teams=context["object_list"])
        return context

    def serialize_result(self, obj, to_field_name):
        return {"id": str(getattr(obj, to_field_name)), "text": self.labels.get(obj.pk, obj.name)}


class TeamAutocompleteSelect(AutocompleteSelect):
    url_name = "%s:rbac_team_autocomplete"

    def __init__(self, field, admin_site, *, company_field: str | None = None, **kwargs):
        super().__init__(field, admin_site, **kwargs)
        self.company_field = company_field

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        # Not "admin-autocomplete": Django's script would start it without the company.
        classes = [c for c in attrs["class"].split() if c != "admin-autocomplete"]
        attrs["class"] = " ".join([*classes, "team-autocomplete"])
        if self.company_field and "data-company-id" not in attrs:
            attrs["data-company-field"] = self.company_field
        return attrs

    @property
    def media(self):
        return super().media + type(super().media)(js=[TEAM_PICKER_SCRIPT])


class TeamAutocompleteUrlMixin:
    """For the Team ModelAdmin: serve the team pickers' autocomplete."""

    def get_urls(self):
        view = TeamAutocompleteView.as_view(admin_site=self.admin_site)
        return [
            path("autocomplete/", self.admin_site.admin_view(view), name="rbac_team_autocomplete"),
            *super().get_urls(),
        ]


class TeamPickerMixin:
    """For ModelAdmins and inlines with a foreign key to Team: path labels, company filter."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is not Team:
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in self.get_autocomplete_fields(request) and "widget" not in kwargs:
            has_company = any(f.name == "company" for f in db_field.model._meta.fields)
            kwargs["widget"] = TeamAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using"),
                company_field="company" if has_company else None,
            )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None:
            field.label_from_instance = TeamLabels()
        return field

    def get_formset(self, request, obj=None, **kwargs):
        """On an inline, the page's object fixes the company: its teams only."""
        formset = super().get_formset(request, obj, **kwargs)
        company_id = obj.pk if isinstance(obj, Company) else getattr(obj, "company_id", None)
        if company_id is None:
            return formset
        for field in formset.form.base_fields.values():
            widget = getattr(field.widget, "widget", field.widget)
            if isinstance(widget, TeamAutocompleteSelect):
                widget.attrs["data-company-id"] = str(company_id)
                widget.attrs.pop("data-company-field", None)
        return formset
