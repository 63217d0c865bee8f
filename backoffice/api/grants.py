"""Direct object permissions as API resources: "<resource_type>-<row id>" in one of the
direct-foreign-key permission tables."""

from __future__ import annotations

from django.db import models

from backoffice.projects.models import Document, Project
from rbac.direct import direct_permission_model
from rbac.models import Company, Team

from .serializers import GRANT_PERMISSIONS, RESOURCE_TYPES

RESOURCE_MODELS: dict[str, type[models.Model]] = {
    "company": Company, "team": Team, "project": Project, "document": Document,
}
assert tuple(RESOURCE_MODELS) == RESOURCE_TYPES


def grant_rows(resource_type: str, *, company_ids: list[int] | None, user_id: int | None = None):
    """Return the grants on one resource type in these companies (None: all), oldest first."""
    model = RESOURCE_MODELS[resource_type]
    codenames = [f"{action}_{model._meta.model_name}" for action in GRANT_PERMISSIONS]
    rows = direct_permission_model(model).objects.filter(permission__codename__in=codenames)
    if company_ids is not None:
        lookup = "content_object_id__in" if model is Company else "content_object__company_id__in"
        rows = rows.filter(**{lookup: company_ids})
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    return rows.order_by("id").values(
        "id", "user_id", "user__email", "permission__codename", "content_object_id"
    )


def grant_representation(resource_type: str, row: dict) -> dict:
    return {
        "id": f"{resource_type}-{row['id']}",
        "user": row["user_id"],
        "user_email": row["user__email"],
        "resource_type": resource_type,
        "resource_id": row["content_object_id"],
        "permission": row["permission__codename"].split("_", 1)[0],
    }


class GrantPages:
    """The grants of several tables, one after the other, sliceable like a queryset.

    A slice asks each table in turn for at most the rows still missing, so a page costs
    at most one query per table and no COUNT.
    """

    def __init__(self, resource_types: list[str], **filters) -> None:
        self.resource_types = resource_types
        self.filters = filters

    def __getitem__(self, window: slice) -> list[dict]:
        wanted = window.stop
        rows: list[dict] = []
        for resource_type in self.resource_types:
            if len(rows) >= wanted:
                break
            page = grant_rows(resource_type, **self.filters)[: wanted - len(rows)]
            rows.extend(grant_representation(resource_type, row) for row in page)
        return rows[window.start : window.stop]


def parse_grant_id(grant_id: str) -> tuple[str, int] | None:
    resource_type, _, number = grant_id.partition("-")
    if (
        resource_type not in RESOURCE_MODELS
        or not (number.isascii() and number.isdigit())
        or len(number) > 18
    ):
        return None
    return resource_type, int(number)
