"""Portal's `/api` API, served by the new system: snake_case, Portal ids, bare arrays,
Europe/Berlin wall-clock times as Portal's database held them.

Thin translations, as in core.py: reads through the rbac selectors, writes through the
/api/v1 viewsets or the services they call.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.urls import reverse
from rest_framework import status
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied, ValidationError
from rest_framework.response import Response

from backoffice.api import serializers as v1_serializers
from backoffice.api import views as v1
from backoffice.api.grants import RESOURCE_MODELS, grant_rows
from backoffice.api.permissions import administered_company_ids
from backoffice.projects.models import Document
from backoffice.projects.selectors import (
    document_content,
    documents_for_user,
    s3_default_storage,
)
from rbac import services as rbac_services
from rbac.models import Company, Membership, Team, User
from rbac.principals import APIKeyPrincipal
from rbac.selectors import (
    companies_for_user,
    memberships_for_user,
    objects_for_user,
    teams_for_user,
    users_for_user,
)

from . import ids
from .base import LegacyView
from .core import refuse_key_granting_roles
from .models import LegacyGrant
from .translate import v1_create, v1_create_document, v1_destroy, v1_grant_role

BERLIN = ZoneInfo("Europe/Berlin")
PORTAL_ROLES = ("owner", "admin", "editor", "viewer")
# Unified roles Portal had no name for: shown as the Portal role just below them.
ROLE_TO_PORTAL = {"owner": "owner", "admin": "admin", "manager": "editor",
                  "editor": "editor", "viewer": "viewer"}
PERM_BITS = {1: "view", 2: "change", 4: "delete", 8: "share"}
# Portal resource type -> (the kind for legacy ids, the /api/v1 resource type).
RESOURCES = {"company": ("company", "company"), "team": ("team", "team"),
             "file": ("file", "document")}


def berlin(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M:%S")


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ParseError("Send a JSON object.")
    return request.data


def _text(body: dict, name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationError({name: "Give a string."})
    return value


# --- representations ------------------------------------------------------------------


def companies(rows: list[Company]) -> list[dict]:
    legacy = ids.legacy_ids({"company": [c.pk for c in rows]})["company"]
    return [
        {"company_id": legacy[c.pk], "company_name": c.name, "vat": c.vat_number,
         "website": f"https://{c.domain}" if c.domain else None, "country": c.country or None}
        for c in rows
    ]


def teams(rows: list[Team]) -> list[dict]:
    legacy = ids.legacy_ids({"team": [t.pk for t in rows],
                             "company": [t.company_id for t in rows]})
    return [
        {"team_id": legacy["team"][t.pk], "company_id": legacy["company"][t.company_id],
         "team_name": t.name, "description": None}
        for t in rows
    ]


def team_members(rows: list[Membership]) -> list[dict]:
    legacy = ids.legacy_ids({"member": [m.user_id for m in rows]})["member"]
    return [
        {"member_id": legacy[m.user_id], "email": m.user.email, "first_name": m.user.first_name,
         "last_name": m.user.last_name, "team_role": ROLE_TO_PORTAL.get(m.role.slug, "viewer")}
        for m in rows
    ]


def files(rows: list[Document]) -> list[dict]:
    legacy = ids.legacy_ids({"file": [d.pk for d in rows], "team": [d.team_id for d in rows],
                             "member": [d.uploaded_by_id for d in rows]})
    return [
        {"file_id": legacy["file"][d.pk], "team_id": legacy["team"].get(d.team_id),
         "file_name": d.original_name, "mime": d.content_type, "size": d.size,
         "uploaded_by": legacy["member"].get(d.uploaded_by_id), "created": berlin(d.uploaded_at)}
        for d in rows
    ]


# --- members --------------------------------------------------------------------------


class MemberMe(LegacyView):
    api = "portal"
    successor = "/api/v1/me/"

    def get(self, request):
        person = request.user
        if isinstance(person, APIKeyPrincipal):
            raise PermissionDenied("An API key is not a member: /api/members/me needs a person.")
        memberships = list(memberships_for_user(user=person).filter(user=person)
                           .order_by("company_id", "team_id"))
        company_id = memberships[0].company_id if memberships else None
        in_company = [m for m in memberships if m.company_id == company_id and m.team_id]
        legacy = ids.legacy_ids({"member": [person.pk], "company": [company_id],
                                 "team": [m.team_id for m in in_company]})
        return Response({
            "member_id": legacy["member"][person.pk], "email": person.email,
            "first_name": person.first_name, "last_name": person.last_name,
            "company_id": legacy["company"].get(company_id),
            "status": "active" if person.is_active else "disabled",
            "teams": [{"team_id": legacy["team"][m.team_id],
                       "team_role": ROLE_TO_PORTAL.get(m.role.slug, "viewer")}
                      for m in in_company],
        })


# --- companies and teams --------------------------------------------------------------


class CompanyDetail(LegacyView):
    api = "portal"
    successor = "/api/v1/companies/{id}/"

    def get(self, request, company_id: int):
        company = self.resolve("company", company_id, companies_for_user(user=request.user))
        return Response(companies([company])[0])


class CompanyTeams(LegacyView):
    api = "portal"
    successor = "/api/v1/teams/?company={id}"

    def get(self, request, company_id: int):
        def build():
            company = self.resolve("company", company_id,
                                   companies_for_user(user=request.user))
            rows = teams_for_user(user=request.user).filter(company=company).order_by("id")
            return Response(teams(list(rows)))

        return self.kept_list(request, ("rbac_company", "rbac_team"), build)

    def post(self, request, company_id: int):
        company = self.resolve("company", company_id, companies_for_user(user=request.user))
        body = _body(request)
        team = v1_create(v1.TeamViewSet, request, {
            "company": company.pk, "name": _text(body, "team_name", required=True)})
        return Response(teams([team])[0], status=status.HTTP_201_CREATED)


class TeamMembers(LegacyView):
    api = "portal"
    successor = "/api/v1/memberships/?team={id}"

    def get(self, request, team_id: int):
        team = self.resolve("team", team_id, teams_for_user(user=request.user))
        rows = memberships_for_user(user=request.user).filter(team=team).order_by("user_id")
        return Response(team_members(list(rows)))


class TeamMember(LegacyView):
    api = "portal"
    successor = "/api/v1/memberships/{id}/"

    def _team_and_person(self, request, team_id: int, member_id: int) -> tuple[Team, User]:
        team = self.resolve("team", team_id, teams_for_user(user=request.user))
        person = self.resolve("member", member_id, users_for_user(user=request.user))
        return team, person

    def put(self, request, team_id: int, member_id: int):
        refuse_key_granting_roles(request.user)
        team, person = self._team_and_person(request, team_id, member_id)
        role = _text(_body(request), "team_role", required=True)
        if role not in PORTAL_ROLES:
            raise ValidationError({"team_role": f"Choose one of {', '.join(PORTAL_ROLES)}."})
        membership = v1_grant_role(request, user=person.pk, company=team.company_id,
                                   team=team.pk, role=role)
        return Response(team_members([membership])[0])

    def delete(self, request, team_id: int, member_id: int):
        refuse_key_granting_roles(request.user)
        team, person = self._team_and_person(request, team_id, member_id)
        membership = memberships_for_user(user=request.user).filter(
            team=team, user=person).first()
        if membership is None:
            raise NotFound(f"Member {member_id} has no role in team {team_id}.")
        v1_destroy(v1.MembershipViewSet, request, membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- files ----------------------------------------------------------------------------


class FileList(LegacyView):
    api = "portal"
    successor = "/api/v1/documents/?team={id}"

    def get(self, request):
        team_id = request.query_params.get("teamId")
        if not team_id:
            raise ValidationError({"teamId": "Give the team: ?teamId={id}."})
        def build():
            team = self.resolve("team", team_id, teams_for_user(user=request.user))
            rows = documents_for_user(user=request.user).filter(team=team).order_by("id")
            return Response(files(list(rows)))

        return self.kept_list(request, ("rbac_team", "projects_document"), build)

    def post(self, request):
        """Register the file and answer a pre-signed PUT for its bytes (S3 storage only)."""
        body = _body(request)
        team = self.resolve_in_body("team", body.get("team_id"),
                                    teams_for_user(user=request.user), "team_id")
        if team is None:
            raise ValidationError({"team_id": "Give the team."})
        storage = s3_default_storage()
        if storage is None:
            raise ValidationError(
                "Pre-signed uploads need S3 storage; upload through POST /api/v1/documents/.")
        document = v1_create_document(request, {
            "company": team.company_id, "team": team.pk,
            "original_name": _text(body, "file_name", required=True),
            "content_type": _text(body, "mime") or "", "size": body.get("size"),
        })
        # Portal's clients PUT the bytes; the new API answers a POST form for the same key.
        client = storage.connection.meta.client
        params = {"Bucket": storage.bucket_name,
                  "Key": storage._normalize_name(document.file.name)}
        if document.content_type:
            params["ContentType"] = document.content_type
        upload_url = client.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=storage.querystring_expire)
        return Response({"file_id": ids.legacy_id("file", document.pk), "upload_url": upload_url},
                        status=status.HTTP_201_CREATED)


class FileDetail(LegacyView):
    api = "portal"
    successor = "/api/v1/documents/{id}/"

    def get(self, request, file_id: int):
        document = self.resolve("file", file_id, documents_for_user(user=request.user))
        body = files([document])[0]
        content = document_content(document=document)
        if content is None:
            body["download_url"] = None
        elif content.url:
            body["download_url"] = content.url
        else:  # local storage: the new API streams it
            body["download_url"] = request.build_absolute_uri(
                reverse("api:document-download", args=[document.pk]))
        return Response(body)


# --- grants ---------------------------------------------------------------------------


def _bits(perms) -> list[str]:
    if isinstance(perms, bool) or not isinstance(perms, int) or not 0 < perms < 16:
        raise ValidationError({"perms": "Give a bit mask of 1 read, 2 write, 4 delete, 8 share."})
    return [action for bit, action in PERM_BITS.items() if perms & bit]


class GrantCreate(LegacyView):
    api = "portal"
    successor = "/api/v1/grants/"

    def post(self, request):
        body = _body(request)
        resource_type = body.get("resource_type")
        if resource_type not in RESOURCES:
            raise ValidationError({"resource_type": "Choose company, team or file."})
        kind, v1_type = RESOURCES[resource_type]
        actions = _bits(body.get("perms"))
        person = self.resolve_in_body("member", body.get("member_id"),
                                      users_for_user(user=request.user), "member_id")
        model = RESOURCE_MODELS[v1_type]
        target = self.resolve_in_body(kind, body.get("resource_id"), objects_for_user(
            user=request.user, queryset=model.objects.all()), "resource_id")
        if person is None or target is None:
            raise ValidationError("member_id and resource_id are required.")
        with transaction.atomic():
            for action in actions:
                # What POST /api/v1/grants/ does for each permission.
                serializer = v1_serializers.GrantCreateSerializer(
                    data={"user": person.pk, "resource_type": v1_type, "resource_id": target.pk,
                          "permission": action}, context={"request": request})
                serializer.is_valid(raise_exception=True)
                rbac_services.grant_object_permission(
                    user=person, obj=target, action=action, granted_by=request.user)
            grant = LegacyGrant.objects.create(user=person, resource_type=v1_type,
                                               object_id=target.pk, perms=body["perms"])
        return Response({
            "grant_id": ids.NEW_ID_OFFSET + grant.pk,
            "member_id": ids.legacy_id("member", person.pk),
            "resource_type": resource_type, "resource_id": ids.legacy_id(kind, target.pk),
            "perms": grant.perms,
        }, status=status.HTTP_201_CREATED)


class GrantDelete(LegacyView):
    api = "portal"
    successor = "/api/v1/grants/{id}/"

    def _holdings(self, request, v1_type: str, object_id: int, user_id: int | None):
        """The direct permissions on one object the caller administers: {user id: [codename]}."""
        rows = grant_rows(v1_type, company_ids=administered_company_ids(request.user),
                          user_id=user_id).filter(content_object_id=object_id)
        held: dict[int, list[str]] = {}
        for row in rows:
            held.setdefault(row["user_id"], []).append(row["permission__codename"])
        return held

    def delete(self, request, grant_id: int):
        if grant_id >= ids.NEW_ID_OFFSET:
            grant = LegacyGrant.objects.filter(pk=grant_id - ids.NEW_ID_OFFSET).first()
            if grant is None:
                raise NotFound(f"No grant {grant_id}.")
            v1_type, object_id = grant.resource_type, grant.object_id
            held = self._holdings(request, v1_type, object_id, grant.user_id)
        else:
            # An imported grant: provenance names its object, not its member.
            v1_type, object_id = self._imported_target(grant_id)
            held = self._holdings(request, v1_type, object_id, None)
            if len(held) > 1:
                return Response({"message": (
                    f"Grant {grant_id} was imported and several members now hold permissions "
                    "on its resource: revoke them one by one with DELETE /api/v1/grants/{id}/.")},
                    status=status.HTTP_409_CONFLICT)
            grant = None
        if not held:
            raise NotFound(f"No grant {grant_id}.")
        (user_id, codenames), = held.items()
        model = RESOURCE_MODELS[v1_type]
        with transaction.atomic():
            person, target = User.objects.get(pk=user_id), model.objects.get(pk=object_id)
            for codename in codenames:
                rbac_services.revoke_object_permission(
                    user=person, obj=target, action=codename, revoked_by=request.user)
            if grant is not None:
                grant.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _imported_target(grant_id: int) -> tuple[str, int]:
        found = ids.imported_object("portal", "permission_grant", grant_id)
        v1_type = None if found is None else next(
            (t for t, m in RESOURCE_MODELS.items() if m is found[0]), None)
        if v1_type is None:
            raise NotFound(f"No grant {grant_id}.")
        return v1_type, found[1]
