"""The /api/v1/ endpoints. Querysets come from rbac-based selectors, so anything outside
the caller's reach is simply not found (404); writes check the permission on the object."""

from __future__ import annotations

from functools import cache

from django.contrib.auth.models import AnonymousUser
from django.http import FileResponse, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from backoffice.api.authentication import credential_scopes
from backoffice.projects import services as project_services
from backoffice.projects.models import Document, Project
from backoffice.projects.selectors import document_content, documents_for_user, projects_for_user
from rbac import services as rbac_services
from rbac.access import access_profile
from rbac.models import Company, Team
from rbac.principals import APIKeyPrincipal
from rbac.selectors import (
    companies_for_user,
    memberships_for_user,
    objects_for_user,
    teams_for_user,
    visible_page,
)

from . import list_cache
from . import serializers as s
from .filters import CompanyFilter, DocumentFilter, MembershipFilter, ProjectFilter, TeamFilter
from .grants import RESOURCE_MODELS, GrantPages, grant_representation, grant_rows, parse_grant_id
from .permissions import ObjectActionPermission, administered_company_ids, require_permission


@cache
def _values_plan(serializer_class):
    return s.values_plan(serializer_class)


class LeanListMixin:
    """Serve list pages from `.values()` rows: no model instances, no per-field serializer calls.

    The filters and the ordering apply to all rows of `model`; rbac's `visible_page` adds
    what the caller may view, the same conditions as the `selector`, and reads the page in
    the way the indexes serve best. A page built once is kept until anything it shows or
    anything its caller may see changes (`list_cache`).
    """

    model = None

    def list(self, request, *args, **kwargs):
        plan = _values_plan(self.get_serializer_class())
        key = list_cache.page_key(request, _tables_read(type(self)))
        if key is not None and (kept := list_cache.kept_page(key)) is not None:
            return kept
        rows = self.model.objects.all()
        if request.query_params.keys() - {"limit", "offset"}:
            # Without parameters the filter backends change nothing, yet building their
            # forms costs the most common request (the plain first page) about a millisecond.
            rows = self.filter_queryset(rows)
        rows = rows.values(*[path for _, path, _ in plan])
        page = self.paginator.paginate_rows(
            lambda start, stop: visible_page(
                user=request.user, queryset=rows, start=start, stop=stop
            ),
            request,
        )
        response = self.get_paginated_response(s.rows_to_representation(page, plan))
        if key is not None:
            list_cache.keep_page(key, response)
        return response


@cache
def _tables_read(view_class) -> tuple[str, ...]:
    """The tables a list page of the view reads: for its columns, filters and orderings."""
    paths = [path for _, path, _ in _values_plan(view_class.serializer_class)]
    if view_class.filterset_class is not None:
        paths += [f.field_name for f in view_class.filterset_class.base_filters.values()]
    paths += list(view_class.ordering_fields or ())
    paths += [field.lstrip("^=@$") for field in getattr(view_class, "search_fields", ()) or ()]
    return list_cache.tables_read(view_class.model, paths)


class HistorySafeMixin:
    """Keep an API key out of django-simple-history's `history_user`.

    DRF copies request.user onto the Django request, where the history middleware reads it;
    a key is not a User row, so its writes are recorded without a user.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if isinstance(request.user, APIKeyPrincipal):
            request._request.user = AnonymousUser()


class ScopedViewSet(HistorySafeMixin, viewsets.GenericViewSet):
    """Base: the queryset is what the caller may view, through an rbac-based selector."""

    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, ObjectActionPermission]
    selector = None
    write_serializer_class = None

    def get_queryset(self):
        return type(self).selector(user=self.request.user)

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"} and self.write_serializer_class:
            return self.write_serializer_class
        return self.serializer_class


def uploader(user):
    """Return the person behind a request, or None for an API key."""
    return None if isinstance(user, APIKeyPrincipal) else user


# --- companies ---------------------------------------------------------------------------


class CompanyViewSet(
    LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Companies the caller belongs to (Core organizations, Portal companies, merged)."""

    selector = staticmethod(companies_for_user)
    model = Company
    serializer_class = s.CompanySerializer
    filterset_class = CompanyFilter
    search_fields = ["name", "legal_name", "vat_number", "domain"]
    ordering_fields = ["id", "name", "country", "status", "created_at"]

    def perform_update(self, serializer):
        serializer.instance = project_services.model_update(
            instance=serializer.instance, data=serializer.validated_data
        )


# --- teams -------------------------------------------------------------------------------


class TeamViewSet(
    LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, ScopedViewSet,
):
    """Teams, nested through `parent` (Core departments and Portal teams, merged)."""

    selector = staticmethod(teams_for_user)
    model = Team
    serializer_class = s.TeamSerializer
    filterset_class = TeamFilter
    search_fields = ["name"]
    ordering_fields = ["id", "name", "company", "created_at"]

    def get_serializer_class(self):
        if self.action in {"update", "partial_update"}:
            return s.TeamUpdateSerializer
        return s.TeamSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        parent = data.get("parent")
        require_permission(self.request.user, "rbac.add_team", parent or data["company"])
        serializer.instance = rbac_services.team_create(
            company=data["company"], name=data["name"], parent=parent
        )

    def perform_update(self, serializer):
        team, data = serializer.instance, serializer.validated_data
        if "parent" in data and data["parent"] != team.parent:
            require_permission(self.request.user, "rbac.add_team", data["parent"] or team.company)
        for name, value in data.items():
            setattr(team, name, value)
        serializer.instance = rbac_services.team_save(team=team)


# --- memberships -------------------------------------------------------------------------


class MembershipViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    """Roles of people in companies and teams; granting obeys the rank rule."""

    selector = staticmethod(memberships_for_user)
    serializer_class = s.MembershipSerializer
    filterset_class = MembershipFilter
    search_fields = ["user__email", "user__first_name", "user__last_name", "team__name"]
    ordering_fields = ["id", "created_at", "company", "user"]

    def get_serializer_class(self):
        if self.action == "create":
            return s.MembershipCreateSerializer
        if self.action in {"update", "partial_update"}:
            return s.MembershipUpdateSerializer
        return s.MembershipSerializer

    @extend_schema(responses={201: s.MembershipSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = rbac_services.grant_role(**serializer.validated_data, granted_by=request.user)
        return Response(s.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.MembershipSerializer})
    def update(self, request, *args, **kwargs):
        membership = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = rbac_services.grant_role(
            user=membership.user, company=membership.company, team=membership.team,
            role=serializer.validated_data["role"], granted_by=request.user,
        )
        return Response(s.MembershipSerializer(membership).data)

    def perform_destroy(self, instance):
        rbac_services.revoke_role(membership=instance, revoked_by=self.request.user)


# --- invitations -------------------------------------------------------------------------


class InvitationView(HistorySafeMixin, APIView):
    """Invite a person into a company (or a team of it) by e-mail, with a role.

    Like Core's `POST /v1/users?org=`. A new address becomes a user who is sent the
    set-password e-mail; a known person just gets the role. Nobody gives a role above their
    own; inviting again with the same role changes nothing (200 instead of 201). A company
    or team the caller cannot see is 404, as an unknown id.
    """

    @extend_schema(
        request=s.InvitationCreateSerializer,
        responses={201: s.InvitationSerializer, 200: s.InvitationSerializer},
    )
    def post(self, request):
        scopes = credential_scopes(request.auth)
        if scopes is not None and "admin" not in scopes:
            raise PermissionDenied("Inviting people needs a credential with the admin scope.")
        serializer = s.InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        company = companies_for_user(user=request.user).filter(pk=data["company"]).first()
        if company is None:
            raise NotFound("No such company.")
        team = None
        if data.get("team") is not None:
            team = teams_for_user(user=request.user).filter(
                pk=data["team"], company=company
            ).first()
            if team is None:
                raise NotFound("No such team in this company.")
        invitation = rbac_services.membership_invite(
            actor=request.user, company=company, email=data["email"], role=data["role"],
            team=team, base_url=request.build_absolute_uri("/").rstrip("/"),
        )
        body = s.InvitationSerializer(invitation).data
        changed = invitation.user_created or invitation.membership_created
        return Response(body, status=status.HTTP_201_CREATED if changed else status.HTTP_200_OK)


# --- projects ----------------------------------------------------------------------------


class ProjectViewSet(
    LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.UpdateModelMixin, mixins.DestroyModelMixin, ScopedViewSet,
):
    """Projects of a company, optionally of a team (Core only)."""

    selector = staticmethod(projects_for_user)
    model = Project
    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilter
    search_fields = ["code", "name"]
    ordering_fields = ["id", "code", "name", "status", "created_at"]

    def get_serializer_class(self):
        if self.action in {"update", "partial_update"}:
            return s.ProjectUpdateSerializer
        return s.ProjectSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        require_permission(
            self.request.user, "projects.add_project", data.get("team") or data["company"]
        )
        serializer.instance = project_services.project_create(**data)

    def perform_update(self, serializer):
        project, data = serializer.instance, serializer.validated_data
        if "team" in data and data["team"] != project.team:
            require_permission(
                self.request.user, "projects.add_project", data["team"] or project.company
            )
        serializer.instance = project_services.model_update(instance=project, data=data)

    def perform_destroy(self, instance):
        project_services.project_delete(project=instance)


# --- documents ---------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": s.DocumentCreateSerializer,
                 "application/json": s.DocumentCreateSerializer},
        responses={201: s.DocumentCreatedSerializer},
    )
)
class DocumentViewSet(
    LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    mixins.DestroyModelMixin, ScopedViewSet,
):
    """Files of a company, a team or a project. Bytes go through S3 pre-signed URLs when the
    storage is S3, through this server otherwise."""

    selector = staticmethod(documents_for_user)
    model = Document
    serializer_class = s.DocumentSerializer
    filterset_class = DocumentFilter
    search_fields = ["original_name"]
    ordering_fields = ["id", "uploaded_at", "original_name", "size"]

    def get_serializer_class(self):
        if self.action == "create":
            return s.DocumentCreateSerializer
        return s.DocumentSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload = data.pop("file", None)
        require_permission(
            request.user, "projects.add_document", data.get("team") or data["company"]
        )
        if upload is not None:
            data.pop("size", None)
            document = project_services.document_upload(
                **data, file=upload, uploaded_by=uploader(request.user)
            )
            document.upload = None
        else:
            document, document.upload = project_services.document_reserve_upload(
                **data, uploaded_by=uploader(request.user)
            )
        body = s.DocumentCreatedSerializer(document, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        project_services.document_delete(document=instance)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, streamed (local storage)."
            ),
            302: OpenApiResponse(description="Redirect to a pre-signed S3 URL."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The document's bytes: a redirect to S3, or the file streamed by the server."""
        document = self.get_object()
        content = document_content(document=document)
        if content is None:
            raise NotFound("This document has no stored content.")
        if content.url:
            return HttpResponseRedirect(content.url)
        return FileResponse(
            content.file, as_attachment=True, filename=document.original_name,
            content_type="application/octet-stream",
        )


# --- grants ------------------------------------------------------------------------------

GRANT_FILTERS = [
    OpenApiParameter("resource_type", str, enum=list(RESOURCE_MODELS)),
    OpenApiParameter("user", int),
]


class GrantViewSet(HistorySafeMixin, viewsets.GenericViewSet):
    """Direct permissions of a person on one object (Portal's permission grants).

    Visible to, and managed by, the administrators of the object's company.
    """

    serializer_class = s.GrantSerializer
    lookup_value_regex = r"[a-z]+-[0-9]+"
    filter_backends = []

    def get_serializer_class(self):
        return s.GrantCreateSerializer if self.action == "create" else s.GrantSerializer

    def _filters(self) -> dict:
        return {"company_ids": administered_company_ids(self.request.user)}

    @extend_schema(parameters=GRANT_FILTERS)
    def list(self, request):
        resource_type = request.query_params.get("resource_type")
        if resource_type is not None and resource_type not in RESOURCE_MODELS:
            raise ValidationError({"resource_type": f"Choose one of {', '.join(RESOURCE_MODELS)}."})
        user_id = request.query_params.get("user")
        if user_id is not None and not (
            user_id.isascii() and user_id.isdigit() and len(user_id) < 19
        ):
            raise ValidationError({"user": "Give a user id."})
        pages = GrantPages(
            [resource_type] if resource_type else list(RESOURCE_MODELS),
            user_id=int(user_id) if user_id else None, **self._filters(),
        )
        page = self.paginate_queryset(pages)
        return self.get_paginated_response(page)

    def _row(self, grant_id: str) -> tuple[str, dict]:
        parsed = parse_grant_id(grant_id)
        if parsed is None:
            raise NotFound()
        resource_type, number = parsed
        row = grant_rows(resource_type, **self._filters()).filter(id=number).first()
        if row is None:
            raise NotFound()
        return resource_type, row

    def retrieve(self, request, pk=None):
        return Response(grant_representation(*self._row(pk)))

    @extend_schema(responses={201: s.GrantSerializer})
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        model = RESOURCE_MODELS[data["resource_type"]]
        target = objects_for_user(
            user=request.user, queryset=model.objects.all()
        ).filter(pk=data["resource_id"]).first()
        if target is None:
            raise ValidationError({"resource_id": "No such resource."})
        rbac_services.grant_object_permission(
            user=data["user"], obj=target, action=data["permission"], granted_by=request.user
        )
        row = grant_rows(data["resource_type"], company_ids=None, user_id=data["user"].pk).filter(
            content_object_id=target.pk,
            permission__codename=f"{data['permission']}_{model._meta.model_name}",
        ).first()
        return Response(
            grant_representation(data["resource_type"], row), status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        resource_type, row = self._row(pk)
        model = RESOURCE_MODELS[resource_type]
        rbac_services.revoke_object_permission(
            user=rbac_services.User.objects.get(pk=row["user_id"]),
            obj=model.objects.get(pk=row["content_object_id"]),
            action=row["permission__codename"],
            revoked_by=request.user,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- me ----------------------------------------------------------------------------------


class MeView(APIView):
    """The caller: a person with their roles and direct grants, or an API key with its
    company and scopes."""

    @extend_schema(responses={200: s.MeSerializer})
    def get(self, request):
        caller = request.user
        if isinstance(caller, APIKeyPrincipal):
            key = caller.api_key
            body = {
                "kind": "api_key", "user": None, "is_superuser": False,
                "memberships": [], "object_permissions": [],
                "api_key": {
                    "name": key.name, "prefix": key.prefix, "scopes": sorted(caller.scopes),
                    "company": Company.objects.get(pk=caller.company_id),
                },
            }
        else:
            grants = [
                {"resource_type": resource_type, "resource_id": row["content_object_id"],
                 "permission": row["permission__codename"].split("_", 1)[0]}
                for resource_type in RESOURCE_MODELS
                for row in grant_rows(resource_type, company_ids=None, user_id=caller.pk)
            ]
            body = {
                "kind": "user", "user": caller, "is_superuser": caller.is_superuser,
                "memberships": access_profile(caller).memberships,
                "object_permissions": grants, "api_key": None,
            }
        return Response(s.MeSerializer(body).data)
