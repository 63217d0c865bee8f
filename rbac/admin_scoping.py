"""Admin base classes that show each staff user only what their roles allow.

Superusers see everything. Other staff see list pages filtered by the rbac selectors,
get a 404 for anything else (the admin answers a missing object and a hidden one alike),
may change or delete only where `has_perm` says so, and choose foreign keys only among
objects they may see.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms.models import construct_instance
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from . import selectors
from .access import access_profile
from .models import Company, Role, Team, User
from .pagination import IdsFirstPaginator
from .scopes import scope_lookups, scope_of
from .search import IndexedSearchMixin


def _perm(model: type[models.Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def holds_anywhere(user, perm: str) -> bool:
    """Return whether the user holds a permission in at least one company or team."""
    profile = access_profile(user)
    return bool(profile.companies_with(perm) or profile.teams_with(perm))


class ScopedAdminMixin(IndexedSearchMixin):
    """Scope an admin for a company-governed model (one with a company foreign key);
    searches use the trigram indexes (rbac.search)."""

    show_full_result_count = False  # no second COUNT over the whole table
    list_per_page = 50
    paginator = IdsFirstPaginator

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return selectors.objects_for_user(user=request.user, queryset=queryset, action="view")

    def _allowed(self, request, action: str, obj=None) -> bool:
        user = request.user
        if user.is_superuser:
            return True
        if not user.is_active or not user.is_staff:
            return False
        perm = _perm(self.model, action)
        if obj is not None:
            return user.has_perm(perm, obj)
        return holds_anywhere(user, perm)

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request, "view", obj) or self._allowed(request, "change", obj)

    def has_add_permission(self, request, *args) -> bool:
        return self._allowed(request, "add")

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request, "change", obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request, "delete", obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = visible_choices(request.user, db_field.related_model)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_actions(self, request):
        # The selection comes from the list, which shows what the person may view; an
        # action runs only on the selected objects where they hold its permissions.
        actions = super().get_actions(request)
        if request.user.is_superuser:
            return actions
        return {name: (_narrowed_action(func), name, description)
                for name, (func, name, description) in actions.items()}

    def save_model(self, request, obj, form, change) -> None:
        # The chosen company (or team) must be one where the user may write: a form posted
        # with another company's id is refused, whatever the choices offered.
        if not may_save(request.user, obj, change=change):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


def _narrowed_action(func):
    @wraps(func)
    def narrowed(modeladmin, request, queryset):
        for action in getattr(func, "allowed_permissions", ()):
            queryset = selectors.objects_for_user(user=request.user, queryset=queryset,
                                                  action=action)
        return func(modeladmin, request, queryset)

    return narrowed


def may_save(user, obj: models.Model, *, change: bool) -> bool:
    """Return whether the user may save this object: change it, or add it where it would live.

    An object not saved yet has no permissions of its own (the backend answers nothing for
    it); adding one is decided by the team or company the form put it in.
    """
    if user.is_superuser:
        return True
    perm = _perm(type(obj), "change" if change else "add")
    if change:
        return user.has_perm(perm, obj)
    company_id, team_id = scope_of(obj)
    if team_id is not None and not isinstance(obj, Team):
        return user.has_perm(perm, Team.objects.filter(pk=team_id).first() or obj)
    if company_id is not None:
        return user.has_perm(perm, Company.objects.filter(pk=company_id).first() or obj)
    return False


def visible_choices(user, model: type[models.Model]):
    """Return the objects of a related model the user may pick, or None to leave it alone."""
    if user.is_superuser:
        return None
    if model is User:
        return selectors.users_for_user(user=user)
    if model is Role:
        return Role.objects.all()  # the rank rule is checked when the role is granted
    company_lookup, _ = scope_lookups(model)
    if company_lookup is not None or model is Company:
        return selectors.objects_for_user(user=user, queryset=model._default_manager.all())
    return None


class ChangeFormHistoryAdmin(SimpleHistoryAdmin):
    """simple-history's history pages, reverting through the change form only.

    simple-history saves the whole historical row, fields the change form hides from the
    person included (flags, rank, a key's revocation). Here a revert applies the fields of
    the change form the person gets (`get_form` for them and the object) to the current
    object; everything else stays as it is. Who may open these pages at all is decided by
    the site's gate (rbac.admin_site): change permission on the object.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        request._rbac_reverting_object_id = object_id
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_form(self, request, form, change):
        reverted = super().save_form(request, form, change)
        object_id = getattr(request, "_rbac_reverting_object_id", None)
        if object_id is None:
            return reverted
        current = self.get_object(request, unquote(object_id))
        if current is None:
            raise Http404
        construct_instance(form, current, form._meta.fields, form._meta.exclude)
        form.instance = current  # save_m2m writes the form's own many-to-many fields only
        return current


class ScopedModelAdmin(ScopedAdminMixin, ChangeFormHistoryAdmin):
    pass
