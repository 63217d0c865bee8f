"""The members of a company or team: a paged, searchable list instead of an inline.

An inline of every member made a company of hundreds of members post more fields than
Django accepts, and its page ran a query per member. The company and team pages link
here instead, to the memberships changelist filtered to them: fifty rows a page, a role
to change on each, add and remove, in a fixed number of queries whatever the size.
Every write goes through rbac.services, and a refused one is a form error: nothing saved.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.utils import flatatt
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from . import selectors, services
from .admin_access import PersonHereMixin
from .admin_scoping import ScopedModelAdmin
from .admin_teams import TeamPickerMixin
from .models import Company, Membership, Role, Team
from .pagination import IdsFirstQuerySetPaginator

COMPANY_PARAM = "company__id__exact"
TEAM_PARAM = "team__id__exact"
WHOLE_COMPANY = "none"


def members_url(obj: Company | Team) -> str:
    """Return the members list filtered to a company or a team."""
    if isinstance(obj, Team):
        query = {COMPANY_PARAM: obj.company_id, TEAM_PARAM: obj.pk}
    else:
        query = {COMPANY_PARAM: obj.pk}
    return f"{reverse('admin:rbac_membership_changelist')}?{urlencode(query)}"


def members_link(obj: Company | Team) -> str:
    """Return "Members (N)" linking to the members list, and a link to add one."""
    count = obj.memberships.count()
    place = {"company": obj.company_id, "team": obj.pk} if isinstance(obj, Team) else {
        "company": obj.pk}
    add_url = f"{reverse('admin:rbac_membership_add')}?{urlencode(place)}"
    return format_html(
        '<a class="members-link" href="{}">Members ({})</a> · <a href="{}">Add a member</a>',
        members_url(obj), count, add_url,
    )


class PlainSelect(forms.Select):
    """A select rendered in Python: through the template engine, the fifty role pickers of
    a list page took half a second."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = "" if value is None else str(value)
        options = format_html_join("", "<option value=\"{}\"{}>{}</option>", (
            (key, SELECTED if str(key) == chosen else "", label) for key, label in self.choices
        ))
        return format_html("<select name=\"{}\"{}>{}</select>", name,
                           flatatt(self.build_attrs(self.attrs, attrs)), options)


SELECTED = mark_safe(" selected")  # noqa: S308 - a constant attribute, no input


class MembershipForm(forms.ModelForm):
    """A membership form whose validation asks the service whether the actor may save it."""

    actor = None  # the request's user, set by MembershipAdmin for each request
    role_choices = None  # the roles, read once for all the rows of a list page

    class Meta:
        model = Membership
        fields = ("user", "company", "team", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.role_choices is not None and "role" in self.fields:
            role = self.fields["role"]
            role.widget = PlainSelect(attrs=role.widget.attrs)
            role.choices = self.role_choices

    def _value(self, name: str):
        if name in self.fields:
            return self.cleaned_data.get(name)
        return getattr(self.instance, name) if getattr(self.instance, f"{name}_id") else None

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not self.has_changed():
            return cleaned  # a row of the list left as it was: nothing to allow or refuse
        user, company, role = self._value("user"), self._value("company"), self._value("role")
        if user is None or company is None or role is None:
            return cleaned  # the missing field has its own error already
        try:
            services.membership_check_save(
                membership=self.instance if self.instance.pk else None, user=user,
                company=company, team=self._value("team"), role=role, actor=self.actor,
            )
        except PermissionDenied as refusal:
            raise ValidationError(str(refusal) or "You are not allowed to do that.") from None
        except ValidationError as invalid:
            if not hasattr(invalid, "error_dict"):
                raise
            for field, errors in invalid.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return cleaned


class TeamOfCompanyFilter(admin.SimpleListFilter):
    """Teams of the company the list is filtered to; hidden until one company is chosen."""

    title = "team"
    parameter_name = TEAM_PARAM

    def lookups(self, request, model_admin):
        visible = selectors.teams_for_user(user=request.user)
        company_id = request.GET.get(COMPANY_PARAM, "")
        if not company_id.isdigit() and (self.value() or "").isdigit():
            # A team's own link without its company: offer that team's company's teams.
            company_id = str(visible.filter(pk=self.value()).values_list(
                "company_id", flat=True).first() or "")
        if not company_id.isdigit():
            return []
        teams = visible.filter(company_id=company_id)
        return [(WHOLE_COMPANY, "Whole company (no team)"),
                *((str(team.pk), team.name) for team in teams.order_by("name")[:200])]

    def queryset(self, request, queryset):
        value = self.value()
        if value == WHOLE_COMPANY:
            return queryset.filter(team__isnull=True)
        if value and value.isdigit():
            return queryset.filter(team_id=value)
        return queryset


class MembershipAdmin(PersonHereMixin, TeamPickerMixin, ScopedModelAdmin):
    form = MembershipForm
    list_display = ("member", "team", "role", "company", "created_at")
    list_display_links = ("member",)
    list_editable = ("role",)
    list_select_related = ("user", "company", "team", "role")
    list_filter = ("role", TeamOfCompanyFilter)
    search_fields = ("user__email", "company__name", "team__name")
    autocomplete_fields = ("user", "company", "team")
    sortable_by = ("member", "team", "role", "company", "created_at")
    paginator = IdsFirstQuerySetPaginator

    @admin.display(description="member", ordering="user__email")
    def member(self, obj: Membership) -> str:
        name = obj.user.get_full_name()
        return f"{obj.user.email} ({name})" if name else obj.user.email

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", MembershipForm)
        form = super().get_changelist_form(request, **kwargs)
        # Every row's role picker offers the same few roles: read them once, not per row.
        roles = [("", "---------"), *((role.pk, str(role)) for role in Role.objects.all())]
        return type(form.__name__, (form,), {"actor": request.user, "role_choices": roles})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "role":
            kwargs["queryset"] = Role.objects.all()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        # Roles are global definitions: no add, change or delete buttons beside each picker.
        if db_field.name == "role" and isinstance(field.widget, RelatedFieldWidgetWrapper):
            field.widget = field.widget.widget
        return field

    def get_changeform_initial_data(self, request):
        # "Add a member" from a list filtered to a company or team starts in that place.
        initial = super().get_changeform_initial_data(request)
        filters = QueryDict(request.GET.get("_changelist_filters", ""))
        for field, param in (("company", COMPANY_PARAM), ("team", TEAM_PARAM)):
            value = filters.get(param, "")
            if value.isdigit():
                initial.setdefault(field, value)
        return initial

    def changelist_view(self, request, extra_context=None):
        company_id = request.GET.get(COMPANY_PARAM, "")
        if company_id.isdigit():
            company = selectors.companies_for_user(user=request.user).filter(
                pk=company_id).first()
            if company is not None:
                place = str(company)
                team_id = request.GET.get(TEAM_PARAM, "")
                team = team_id.isdigit() and company.teams.filter(pk=team_id).first()
                if team:
                    place = f"{company} › {team.name}"
                extra_context = {"title": f"Members of {place}", **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        saved = services.membership_save(
            membership=obj if change else None, user=obj.user, company=obj.company,
            team=obj.team, role=obj.role, actor=request.user,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        services.membership_delete(membership=obj, actor=request.user)

    # A removal the service refuses (a role above the actor's own) is a 403 and, for the
    # bulk action, removes none of the selected rows.
    @transaction.atomic
    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset.select_related("company", "role", "user"):
            services.membership_delete(membership=membership, actor=request.user)

