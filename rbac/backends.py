"""The object-permission backend: roles through memberships, plus direct grants."""

from __future__ import annotations

from django.db import models

from .access import access_profile
from .direct import direct_perms_on
from .scopes import scope_of


class RolePermissionBackend:
    """Answer `user.has_perm(perm, obj)` from the user's roles and direct object grants.

    A company-scope role covers the company and everything in it; a team-scope role covers
    that team, its sub-teams and their content; a direct guardian grant covers one object.
    Model-level questions (obj=None) are left to Django's ModelBackend.
    """

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def get_all_permissions(self, user_obj, obj: models.Model | None = None) -> set[str]:
        if obj is None or not user_obj.is_active or user_obj.is_anonymous or obj.pk is None:
            return set()
        profile = access_profile(user_obj)
        company_id, team_id = scope_of(obj)
        perms = set(profile.scope_perms(company_id, team_id))
        key = (obj._meta.label_lower, obj.pk)
        if key not in profile.direct_cache:
            profile.direct_cache[key] = direct_perms_on(user_obj, obj)
        return perms | profile.direct_cache[key]

    def has_perm(self, user_obj, perm: str, obj: models.Model | None = None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)
