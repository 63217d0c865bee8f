"""Write checks. Reads need none: querysets already hold only what the caller may view."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from rbac.access import access_profile
from rbac.direct import direct_object_ids
from rbac.models import Company
from rbac.principals import APIKeyPrincipal

METHOD_ACTIONS = {"PUT": "change", "PATCH": "change", "DELETE": "delete"}


def permission_name(action: str, model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def require_permission(user, perm: str, obj: models.Model) -> None:
    """Raise 403 unless the caller holds `perm` on an object they can already see."""
    if not user.has_perm(perm, obj):
        raise PermissionDenied(f"You may not do this in {obj._meta.verbose_name} {obj}.")


class ObjectActionPermission(BasePermission):
    """Changes need change_<model>, deletions delete_<model>, on the object itself."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        action = METHOD_ACTIONS.get(request.method)
        if action is None:
            return False
        require_permission(request.user, permission_name(action, type(obj)), obj)
        return True


def administered_company_ids(user) -> list[int] | None:
    """Return ids of the companies whose roles and grants the caller manages; None = all.

    rbac.selectors.objects_for_user builds "<action>_<model>" codenames, so it cannot ask
    for rbac.manage_permissions; this combines the same rbac sources it uses.
    """
    if user.is_superuser:
        return None
    if isinstance(user, APIKeyPrincipal):
        return [user.company_id] if user.allows("rbac.manage_permissions") else []
    ids = set(access_profile(user).companies_with("rbac.manage_permissions"))
    ids.update(direct_object_ids(user, Company, "manage_permissions"))
    return sorted(ids)


class APIDocsAccess(BasePermission):
    """The schema and the Swagger UI: for anyone when API_DOCS_PUBLIC, else for a log-in."""

    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)
