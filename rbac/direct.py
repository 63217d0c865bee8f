"""Direct object permissions (django-guardian), read through their foreign-key tables."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from guardian.models import UserObjectPermission, UserObjectPermissionBase
from guardian.utils import get_user_obj_perms_model


def direct_permission_model(model: type[models.Model]) -> type[UserObjectPermissionBase]:
    return get_user_obj_perms_model(model)


def is_direct_table(perm_model: type[models.Model]) -> bool:
    return perm_model is not UserObjectPermission


def direct_perms_on(user, obj: models.Model) -> frozenset[str]:
    """Return the "app_label.codename" permissions granted to the user on this object itself."""
    perm_model = direct_permission_model(type(obj))
    rows = perm_model.objects.filter(user_id=user.pk)
    if is_direct_table(perm_model):
        rows = rows.filter(content_object_id=obj.pk)
    else:
        rows = rows.filter(
            content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk)
        )
    app_label = obj._meta.app_label
    codenames = rows.values_list("permission__codename", flat=True)
    return frozenset(f"{app_label}.{c}" for c in codenames)


def direct_object_ids(user, model: type[models.Model], codename: str) -> list:
    """Return ids of the objects of a model on which the user holds this permission directly."""
    perm_model = direct_permission_model(model)
    ct = ContentType.objects.get_for_model(model)
    rows = perm_model.objects.filter(
        user_id=user.pk, permission__content_type=ct, permission__codename=codename
    )
    if is_direct_table(perm_model):
        return list(rows.values_list("content_object_id", flat=True))
    return [model._meta.pk.to_python(pk) for pk in rows.filter(content_type=ct).values_list(
        "object_pk", flat=True)]