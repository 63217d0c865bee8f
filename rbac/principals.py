"""Who acts when a request carries an API key instead of a person's credentials."""

from __future__ import annotations

from django.db import models

from .scopes import scope_of

# The scope a key needs for each action. "admin" covers people, roles, grants and keys.
ADMIN_MODELS = {"membership", "apikey", "userobjectpermission"}
ACTION_SCOPE = {
    "view": "read", "add": "write", "change": "write", "delete": "write", "share": "write",
}


def scope_needed(perm: str) -> str:
    """Return the key scope ("read", "write" or "admin") a permission needs."""
    codename = perm.split(".", 1)[-1]
    action, _, model_name = codename.partition("_")
    if codename == "manage_permissions" or (model_name in ADMIN_MODELS and action != "view"):
        return "admin"
    if model_name == "company" and action != "view":
        return "admin"
    return ACTION_SCOPE.get(action, "admin")


class APIKeyPrincipal:
    """A company's API key, acting for that company only and within its scopes.

    Quacks like a user where permission checks and selectors look, so the same code
    serves people and keys.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key) -> None:
        self.api_key = api_key
        self.company_id = api_key.company_id
        self.scopes = api_key.scope_set

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}… of company {self.company_id}"

    def allows(self, perm: str) -> bool:
        needed = scope_needed(perm)
        return needed in self.scopes or "admin" in self.scopes

    def has_perm(self, perm: str, obj: models.Model | None = None) -> bool:
        if not self.allows(perm):
            return False
        if obj is None:
            return True
        company_id, _ = scope_of(obj)
        return company_id == self.company_id

    def has_perms(self, perms, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perms)

    def has_module_perms(self, app_label: str) -> bool:
        return False
