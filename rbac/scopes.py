"""Where an object lives: the company and team whose roles govern it.

rbac knows nothing of the models built on it. Any model with a `company` foreign key (and
optionally a `team` one) is governed by the roles of that company and team.
"""

from __future__ import annotations

from django.db import models

from .models import Company, Team


def scope_of(obj: models.Model) -> tuple[int | None, int | None]:
    """Return (company id, team id) of an object; (None, None) when no company governs it."""
    if isinstance(obj, Company):
        return obj.pk, None
    if isinstance(obj, Team):
        return obj.company_id, obj.pk
    return getattr(obj, "company_id", None), getattr(obj, "team_id", None)


def scope_lookups(model: type[models.Model]) -> tuple[str | None, str | None]:
    """Return the ORM lookups for a model's company id and team id (None where absent)."""
    if issubclass(model, Company):
        return "pk", None
    if issubclass(model, Team):
        return "company_id", "pk"
    names = {field.name for field in model._meta.get_fields()}
    return ("company_id" if "company" in names else None), ("team_id" if "team" in names else None)
