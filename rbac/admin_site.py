"""The admin site, with one gate in front of every view a ModelAdmin serves.

Django's change, delete and history views, django-simple-history's history and revert
views, django-guardian's object-permission views, django-import-export's views and our
own each used to check what they thought of. Here every URL a registered ModelAdmin adds,
whatever package wrote it, passes `object_gate` first, with the same object rules:

- an object outside the person's scope (not in the ModelAdmin's `get_queryset`) is a
  404, as if it did not exist: a 403 would tell them it does;
- reading an object's page needs view or change permission on it; its history (list and
  single versions, which can revert it) and any request that is not a read need change
  permission on it.

Superusers pass: they see and may change everything anyway. A person who is not active
staff is sent to the log-in by the view itself (`AdminSite.admin_view`).

The index is a dashboard (rbac.dashboard); a person who administers one company lands on
that company's page after logging in.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, reverse

from . import dashboard

# URL keyword arguments that carry the id of the ModelAdmin's own object.
# ("id": django.contrib.auth's password change page.)
OBJECT_ID_KWARGS = ("object_id", "object_pk", "pk", "id")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def object_id_of(args: tuple, kwargs: dict) -> str | None:
    """Return the id of the object a ModelAdmin URL is about, or None for a list or add page.

    Named arguments come first; a regular-expression URL (simple-history's) passes the
    object's id as its first positional argument.
    """
    for name in OBJECT_ID_KWARGS:
        if kwargs.get(name) is not None:
            return str(kwargs[name])
    if args:
        return str(args[0])
    return None


def is_history_url(name: str | None) -> bool:
    """Return whether a URL shows an object's history (Django's or simple-history's)."""
    return bool(name) and (name.endswith("_history") or name.endswith("_simple_history"))


def gated_object(request, model_admin, object_id: str, *, needs_change: bool):
    """Return the object a request is about, or refuse it: 404 outside scope, 403 without
    the permission the request needs."""
    obj = model_admin.get_object(request, unquote(object_id))
    if obj is None:
        raise Http404(f"No {model_admin.model._meta.verbose_name} with that id.")
    if needs_change:
        allowed = model_admin.has_change_permission(request, obj)
    else:
        allowed = model_admin.has_view_or_change_permission(request, obj)
    if not allowed:
        raise PermissionDenied
    return obj


def _gate_applies(request) -> bool:
    user = request.user
    # Anonymous and non-staff people are sent to the log-in by admin_view; superusers pass.
    return user.is_active and user.is_staff and not user.is_superuser


def object_gate(view, model_admin, url_name: str | None):
    """Wrap one ModelAdmin view in the object rules (see the module's docstring)."""

    @wraps(view)
    def gated(request, *args, **kwargs):
        if _gate_applies(request):
            object_id = object_id_of(args, kwargs)
            if object_id is not None:
                needs_change = request.method not in SAFE_METHODS or is_history_url(url_name)
                gated_object(request, model_admin, object_id, needs_change=needs_change)
        return view(request, *args, **kwargs)

    gated.gated_by = model_admin
    return gated


def _gate_patterns(patterns, model_admin) -> list:
    gated = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            gated.append(URLResolver(
                entry.pattern, _gate_patterns(entry.url_patterns, model_admin),
                entry.default_kwargs, entry.app_name, entry.namespace,
            ))
        else:
            gated.append(URLPattern(
                entry.pattern, object_gate(entry.callback, model_admin, entry.name),
                entry.default_args, entry.name,
            ))
    return gated


class GatedAdminSite(admin.AdminSite):
    """The project's admin site: every registered ModelAdmin's URLs behind `object_gate`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._dashboard_counts: list[dashboard.CountProvider] = [dashboard.rbac_counts]
        self._dashboard_panels: list[dashboard.PanelProvider] = [dashboard.your_companies_panel]

    def add_dashboard_count(self, provider: dashboard.CountProvider) -> None:
        """Add counts to the dashboard: `provider(request)` returns a list of DashboardCount."""
        if provider not in self._dashboard_counts:
            self._dashboard_counts.append(provider)

    def add_dashboard_panel(self, provider: dashboard.PanelProvider) -> None:
        """Add a panel to the dashboard: `provider(request)` returns one, or None to hide it."""
        if provider not in self._dashboard_panels:
            self._dashboard_panels.append(provider)

    def index(self, request, extra_context=None):
        panels = [panel for provider in self._dashboard_panels
                  if (panel := provider(request)) is not None]
        context = {
            "dashboard_counts": [count for provider in self._dashboard_counts
                                 for count in provider(request)],
            "dashboard_panels": panels,
            "recent_changes": dashboard.recent_changes_panel(request, self._registry),
            **(extra_context or {}),
        }
        return super().index(request, context)

    def login(self, request, extra_context=None):
        """Log in; with no page asked for but the index, a company's admin lands on it."""
        response = super().login(request, extra_context)
        index = reverse("admin:index", current_app=self.name)
        if (request.method == "POST" and isinstance(response, HttpResponseRedirect)
                and response.url == index and request.user.is_authenticated):
            landing = dashboard.company_landing_url(request.user)
            if landing is not None:
                return HttpResponseRedirect(landing)
        return response

    def get_urls(self):
        by_prefix = {
            f"{model._meta.app_label}/{model._meta.model_name}/": model_admin
            for model, model_admin in self._registry.items()
        }
        urls = []
        for entry in super().get_urls():
            model_admin = by_prefix.get(str(entry.pattern))
            if isinstance(entry, URLResolver) and model_admin is not None:
                entry = URLResolver(
                    entry.pattern, _gate_patterns(entry.url_patterns, model_admin),
                    entry.default_kwargs, entry.app_name, entry.namespace,
                )
            elif isinstance(entry, URLPattern) and entry.name == "view_on_site":
                entry = URLPattern(entry.pattern, self._gated_view_on_site(entry.callback),
                                   entry.default_args, entry.name)
            urls.append(entry)
        return urls

    def _gated_view_on_site(self, view):
        """Send to an object's public page only when the person may see the object."""

        @wraps(view)
        def gated(request, content_type_id, object_id):
            if _gate_applies(request):
                try:
                    model = ContentType.objects.get_for_id(content_type_id).model_class()
                except ContentType.DoesNotExist:
                    raise Http404 from None
                model_admin = self._registry.get(model)
                if model_admin is None:
                    raise Http404
                gated_object(request, model_admin, object_id, needs_change=False)
            return view(request, content_type_id, object_id)

        return gated
