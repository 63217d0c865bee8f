"""The admin's index as a dashboard: counts, panels the apps contribute, recent changes.

rbac imports nothing of ours, so the apps above it (projects, importers) add their own
counts and panels to the site from their admin modules (`GatedAdminSite.add_dashboard_count`
and `add_dashboard_panel`). Every count and panel runs a fixed number of queries whatever
the size of the data: counts over what the person may see, never over the legacy rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .access import access_profile
from .models import Company, User
from .selectors import companies_for_user, users_for_user

RECENT_CHANGES_SHOWN = 10
ADMINISTERS = "rbac.manage_permissions"


@dataclass(frozen=True)
class DashboardCount:
    label: str
    value: int
    url: str | None = None


@dataclass(frozen=True)
class DashboardPanel:
    """A box on the dashboard: a title and a template rendered with `context`.

    A prominent panel comes first, above the counts, framed.
    """

    title: str
    template: str
    context: dict = field(default_factory=dict)
    prominent: bool = False


CountProvider = Callable[[HttpRequest], "list[DashboardCount]"]
PanelProvider = Callable[[HttpRequest], "DashboardPanel | None"]


def _changelist_url(model) -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    except NoReverseMatch:
        return None


def model_count(request: HttpRequest, model_admin, label: str) -> list[DashboardCount]:
    """Return the count of what the person sees in a ModelAdmin's list, or nothing without
    the permission to see that list.

    One COUNT over the admin's own queryset, so the number is the list's, scope included.
    """
    if not model_admin.has_view_or_change_permission(request):
        return []
    value = model_admin.get_queryset(request).order_by().count()
    return [DashboardCount(label, value, _changelist_url(model_admin.model))]


def administered_companies(user, *, limit: int = 2) -> list[Company]:
    """Return up to `limit` of the companies whose access the user manages (not superusers)."""
    if user.is_superuser or not user.is_active:
        return []
    ids = access_profile(user).companies_with(ADMINISTERS)
    return list(Company.objects.filter(pk__in=ids).order_by("name", "pk")[:limit])


def company_landing_url(user) -> str | None:
    """Return the admin page of the one company a person administers, None otherwise."""
    companies = administered_companies(user, limit=2)
    if len(companies) != 1:
        return None
    return reverse("admin:rbac_company_change", args=[companies[0].pk])


def rbac_counts(request: HttpRequest) -> list[DashboardCount]:
    user = request.user
    companies = companies_for_user(user=user).order_by().count()
    people = users_for_user(user=user).order_by().count()
    return [
        DashboardCount("companies", companies, _changelist_url(Company)),
        DashboardCount("people", people, _changelist_url(User)),
    ]


def your_companies_panel(request: HttpRequest) -> DashboardPanel | None:
    """The companies a company's admin administers, first on their dashboard."""
    companies = administered_companies(request.user, limit=20)
    if not companies:
        return None
    links = [
        (company, reverse("admin:rbac_company_change", args=[company.pk]))
        for company in companies
    ]
    return DashboardPanel(
        "Your company" if len(links) == 1 else "Your companies",
        "admin/dashboard/your_companies.html", {"links": links}, prominent=True,
    )


def _visible_log_entries(request: HttpRequest, registry: dict):
    """Return the LogEntries about objects the person may see, newest first.

    One condition per registered model the person may see, each a subquery over the
    ModelAdmin's own (scoped) queryset: one query whatever the number of entries. Entries
    about deleted objects are shown to superusers only: nothing tells whose they were.
    """
    entries = LogEntry.objects.select_related("content_type", "user").order_by("-action_time")
    if request.user.is_superuser:
        return entries
    content_types = ContentType.objects.get_for_models(*registry)
    conditions = []
    for model, model_admin in registry.items():
        if not model_admin.has_view_or_change_permission(request):
            continue
        # LogEntry.object_id is text: compare it with the ids as text.
        ids = model_admin.get_queryset(request).order_by().annotate(
            dashboard_id=Cast("pk", CharField())).values("dashboard_id")
        conditions.append(Q(content_type=content_types[model], object_id__in=ids))
    if not conditions:
        return entries.none()
    return entries.filter(reduce(or_, conditions))


def recent_changes_panel(request: HttpRequest, registry: dict) -> DashboardPanel:
    entries = list(_visible_log_entries(request, registry)[:RECENT_CHANGES_SHOWN])
    return DashboardPanel("Recent changes", "admin/dashboard/recent_changes.html",
                          {"entries": entries})
