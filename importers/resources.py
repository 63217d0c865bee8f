"""Export resources of the unified model, and the admin actions that download them.

Columns are listed one by one: a new model field (a secret, say) is never exported
until someone adds it here. Passwords, API key hashes and storage paths are left out.
"""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from backoffice.projects.models import Document, Project
from rbac.models import Company, Membership, User

from .exports import EXPORT_FORMATS, SafeModelResource, export_action


class CompanyResource(SafeModelResource):
    class Meta:
        model = Company
        import_id_fields = ("id",)
        fields = ("id", "name", "legal_name", "vat_number", "country", "domain", "status",
                  "created_at")


class UserResource(SafeModelResource):
    class Meta:
        model = User
        import_id_fields = ("id",)
        fields = ("id", "email", "first_name", "last_name", "is_active", "is_staff",
                  "email_verified", "date_joined")


class MembershipResource(SafeModelResource):
    select_related = ("user", "company", "team", "role")

    class Meta:
        model = Membership
        import_id_fields = ("id",)
        fields = ("id", "user__email", "company__name", "team__name", "role__slug",
                  "created_at")


class ProjectResource(SafeModelResource):
    select_related = ("company", "team")

    class Meta:
        model = Project
        import_id_fields = ("id",)
        fields = ("id", "company__name", "team__name", "code", "name", "status", "budget",
                  "archived", "created_at")


class DocumentResource(SafeModelResource):
    select_related = ("company", "team", "project", "uploaded_by")

    class Meta:
        model = Document
        import_id_fields = ("id",)
        fields = ("id", "company__name", "team__name", "project__code", "original_name",
                  "content_type", "size", "uploaded_by__email", "uploaded_at")


EXPORT_RESOURCES: dict[type[models.Model], type[SafeModelResource]] = {
    Company: CompanyResource,
    User: UserResource,
    Membership: MembershipResource,
    Project: ProjectResource,
    Document: DocumentResource,
}


def add_export_actions(site: admin.AdminSite = admin.site) -> None:
    """Add "Export selected as CSV/XLSX" to the admin of every exported model.

    rbac and projects must not import importers, so the actions are added from here to
    the admin objects they registered (the same way as the legacy origin inline).
    """
    for model, resource_class in EXPORT_RESOURCES.items():
        model_admin = site._registry.get(model)
        if model_admin is None:
            continue
        present = {getattr(action, "__name__", action) for action in model_admin.actions or ()}
        added = [export_action(resource_class, file_format) for file_format in EXPORT_FORMATS]
        model_admin.actions = [
            *(model_admin.actions or ()),
            *(action for action in added if action.__name__ not in present),
        ]
