"""The built-in roles and the permissions each one carries, as data.

Apps declare which of their models roles act on (`attach_role_permissions` in a data
migration); the rank-based action levels below decide what each role may do there, so a
new app needs no edit here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoleDefinition:
    slug: str
    name: str
    rank: int
    description: str
    content_actions: tuple[str, ...]  # on projects, documents and other company content
    team_actions: tuple[str, ...]
    company_actions: tuple[str, ...]  # codenames on rbac.Company (extra permissions included)
    membership_actions: tuple[str, ...]
    apikey_actions: tuple[str, ...]


ALL = ("view", "add", "change", "delete")

BUILT_IN_ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        "owner", "Owner", 5, "Everything in the company, including deleting it.",
        content_actions=(*ALL, "share"), team_actions=(*ALL, "share"),
        company_actions=("view", "change", "delete", "share", "manage_permissions", "view_billing"),
        membership_actions=ALL, apikey_actions=ALL,
    ),
    RoleDefinition(
        "admin", "Admin", 4, "Runs the company: teams, people, roles and content.",
        content_actions=(*ALL, "share"), team_actions=(*ALL, "share"),
        company_actions=("view", "change", "share", "manage_permissions", "view_billing"),
        membership_actions=ALL, apikey_actions=ALL,
    ),
    RoleDefinition(
        "manager", "Manager", 3, "Runs a team: its sub-teams and all of its content.",
        content_actions=(*ALL, "share"), team_actions=("view", "add", "change"),
        company_actions=("view",), membership_actions=("view",), apikey_actions=(),
    ),
    RoleDefinition(
        "editor", "Editor", 2, "Creates and edits content.",
        content_actions=("view", "add", "change"), team_actions=("view",),
        company_actions=("view",), membership_actions=("view",), apikey_actions=(),
    ),
    RoleDefinition(
        "viewer", "Viewer", 1, "Reads content.",
        content_actions=("view",), team_actions=("view",),
        company_actions=("view",), membership_actions=("view",), apikey_actions=(),
    ),
    RoleDefinition(
        "billing", "Billing", 0, "Invoices and API keys only; ranks below every content role.",
        content_actions=(), team_actions=(),
        company_actions=("view", "view_billing"), membership_actions=(), apikey_actions=ALL,
    ),
)


def codename(action: str, model_name: str) -> str:
    """Return Django's codename for an action: "view" on "document" is "view_document"."""
    if action in {"view", "add", "change", "delete", "share"}:
        return f"{action}_{model_name}"
    return action


def role_codenames(definition: RoleDefinition, model_name: str, kind: str) -> list[str]:
    actions = getattr(definition, f"{kind}_actions")
    return [codename(action, model_name) for action in actions]


def attach_role_permissions(apps, app_label: str, models_by_kind: dict[str, list[str]]) -> None:
    """Give the built-in roles their permissions on an app's models (for data migrations).

    `models_by_kind` maps a kind ("content", "team", "company", "membership", "apikey") to
    the model names it applies to.
    """
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; roles need them now.
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True  # create_permissions skips apps without models
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    _give_roles_permissions(apps, app_label, models_by_kind)


def _give_roles_permissions(apps, app_label: str, models_by_kind: dict[str, list[str]]) -> None:
    Permission = apps.get_model("auth", "Permission")
    Role = apps.get_model("rbac", "Role")
    for definition in BUILT_IN_ROLES:
        role, _ = Role.objects.get_or_create(
            slug=definition.slug,
            defaults={"name": definition.name, "rank": definition.rank,
                      "description": definition.description},
        )
        for kind, model_names in models_by_kind.items():
            for model_name in model_names:
                names = role_codenames(definition, model_name, kind)
                perms = Permission.objects.filter(
                    content_type__app_label=app_label,
                    content_type__model=model_name,
                    codename__in=names,
                )
                role.permissions.add(*perms)


RBAC_ROLE_MODELS = {
    "company": ["company"],
    "team": ["team"],
    "membership": ["membership"],
    "apikey": ["apikey"],
}


def restore_built_in_roles(role_models_by_app: dict[str, dict[str, list[str]]]) -> None:
    """Re-create the built-in roles on a database emptied after migrating (e.g. a test flush).

    Works on the live app registry; content types and permissions are re-created first.
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for app_label, models_by_kind in role_models_by_app.items():
        _give_roles_permissions(apps, app_label, models_by_kind)
