"""Run a write through the /api/v1 viewset that owns it, so a legacy write obeys every rule
(serializer validation, scoped ids, permission checks, services) of the new API."""

from __future__ import annotations

from django.db import models
from rest_framework import viewsets

from backoffice.api.permissions import permission_name, require_permission
from backoffice.api.serializers import MembershipCreateSerializer
from backoffice.api.views import DocumentViewSet
from backoffice.projects.models import Document
from rbac import services as rbac_services


def _viewset(viewset_class: type[viewsets.GenericViewSet], action: str, request):
    view = viewset_class()
    view.request, view.format_kwarg, view.action = request, None, action
    view.args, view.kwargs = (), {}
    return view


def v1_create(viewset_class, request, data: dict) -> models.Model:
    view = _viewset(viewset_class, "create", request)
    serializer = view.get_serializer(data=data)
    serializer.is_valid(raise_exception=True)
    view.perform_create(serializer)
    return serializer.instance


def v1_update(viewset_class, request, instance: models.Model, data: dict,
              partial: bool = True) -> models.Model:
    view = _viewset(viewset_class, "partial_update" if partial else "update", request)
    # ObjectActionPermission's rule, named by the action: the legacy method may differ (a
    # PUT of Core's role list deletes memberships).
    require_permission(request.user, permission_name("change", type(instance)), instance)
    serializer = view.get_serializer(instance, data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    view.perform_update(serializer)
    return serializer.instance


def v1_destroy(viewset_class, request, instance: models.Model) -> None:
    view = _viewset(viewset_class, "destroy", request)
    require_permission(request.user, permission_name("delete", type(instance)), instance)
    view.perform_destroy(instance)


def v1_grant_role(request, *, user: int, company: int, team: int | None, role: str):
    """What POST /api/v1/memberships/ does: validate the ids the caller may use, then grant
    through rbac (which replaces the role held in that scope and applies the rank rule)."""
    serializer = MembershipCreateSerializer(
        data={"user": user, "company": company, "team": team, "role": role},
        context={"request": request})
    serializer.is_valid(raise_exception=True)
    return rbac_services.grant_role(**serializer.validated_data, granted_by=request.user)


def v1_create_document(request, data: dict):
    """What POST /api/v1/documents/ does with this body (the file itself, or on S3 a
    pre-signed upload); return the document created."""
    view = _viewset(DocumentViewSet, "create", request)
    request._full_data = data  # DocumentViewSet.create reads request.data
    created = view.create(request)
    return Document.objects.get(pk=created.data["id"])


def v1_download(request, document: Document):
    """What GET /api/v1/documents/{id}/download/ answers for a document the caller sees."""
    view = _viewset(DocumentViewSet, "download", request)
    view.kwargs = {"pk": document.pk}
    return view.download(request, pk=document.pk)
