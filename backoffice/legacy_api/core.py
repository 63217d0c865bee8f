"""Core's `/v1` API, served by the new system: camelCase, Core ids, UTC times with "Z".

Each view translates: legacy ids to objects through provenance (`ids`), the body to the
/api/v1 serializer's fields, and the answer back. Reads come from the rbac selectors,
writes go through the /api/v1 viewsets (`translate`), so every rule is the new API's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings

from backoffice.api import views as v1
from backoffice.api.token_views import OAuthError, TokenEndpointRateThrottle, TokenView
from backoffice.projects.models import Document, Project
from backoffice.projects.selectors import document_content, documents_for_user, projects_for_user
from rbac.models import APIKey, Company, Membership, Role, Team, User
from rbac.principals import APIKeyPrincipal
from rbac.selectors import (
    companies_for_user,
    memberships_for_user,
    teams_for_user,
    users_for_user,
)

from . import ids
from .base import LegacyView, sunset_headers
from .translate import (
    v1_create,
    v1_create_document,
    v1_destroy,
    v1_download,
    v1_grant_role,
    v1_update,
)
from .usage import Caller, usage_count

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
STATUS_TO_CORE = {"active": "active", "suspended": "suspended", "archived": "closed"}
PROJECT_STATUS_TO_CORE = {"planned": "active", "active": "active", "on_hold": "on_hold",
                          "done": "done"}
# Unified role slug -> Core role name. Owner has no Core name: it shows as ORG_ADMIN, the
# highest Core knew.
ROLE_TO_CORE = {"owner": "ORG_ADMIN", "admin": "ORG_ADMIN", "manager": "DEPT_MANAGER",
                "editor": "MEMBER", "viewer": "READ_ONLY", "billing": "BILLING"}
# Core role name -> (unified slug, scope), as the importer reads user_roles.
CORE_ROLES = {"ORG_ADMIN": ("admin", "company"), "DEPT_MANAGER": ("manager", "department"),
              "MEMBER": ("editor", "department_or_company"), "READ_ONLY": ("viewer", "company"),
              "BILLING": ("billing", "company")}


def utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _blank_none(value: str | None) -> str | None:
    return value or None


def _page_bounds(request) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit() and len(raw) < 12):
            raise ValidationError({name: "Give a whole number."})
        return int(raw)

    return number("offset", 0), min(number("limit", DEFAULT_LIMIT), MAX_LIMIT) or DEFAULT_LIMIT


def core_list(request, queryset: QuerySet, render) -> Response:
    """Core's paged list: {"items", "total", "offset", "limit"}; render(objects) -> items."""
    offset, limit = _page_bounds(request)
    total = queryset.count()
    objects = list(queryset[offset:offset + limit]) if offset < total else []
    return Response({"items": render(objects), "total": total, "offset": offset,
                     "limit": limit})


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ParseError("Send a JSON object.")
    return request.data


def _string(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationError({name: "Give a string."})
    return value


# --- representations ------------------------------------------------------------------


def organizations(companies: list[Company]) -> list[dict]:
    legacy = ids.legacy_ids({"organization": [c.pk for c in companies]})["organization"]
    return [
        {"id": legacy[c.pk], "name": c.name, "legalName": _blank_none(c.legal_name),
         "vatNumber": c.vat_number, "country": _blank_none(c.country),
         "domain": _blank_none(c.domain), "status": STATUS_TO_CORE.get(c.status, c.status),
         "createdAt": utc(c.created_at)}
        for c in companies
    ]


def departments(teams: list[Team]) -> list[dict]:
    legacy = ids.legacy_ids({
        "department": [t.pk for t in teams] + [t.parent_id for t in teams],
        "organization": [t.company_id for t in teams],
    })
    return [
        {"id": legacy["department"][t.pk],
         "organizationId": legacy["organization"][t.company_id],
         "parentId": legacy["department"].get(t.parent_id), "name": t.name,
         "createdAt": utc(t.created_at)}
        for t in teams
    ]


def projects(rows: list[Project]) -> list[dict]:
    legacy = ids.legacy_ids({
        "project": [p.pk for p in rows], "organization": [p.company_id for p in rows],
        "department": [p.team_id for p in rows],
    })
    return [
        {"id": legacy["project"][p.pk], "organizationId": legacy["organization"][p.company_id],
         "departmentId": legacy["department"].get(p.team_id), "code": p.code, "name": p.name,
         "status": PROJECT_STATUS_TO_CORE.get(p.status, p.status),
         "budgetCents": int(p.budget * 100) if p.budget is not None else None,
         "archived": p.archived, "createdAt": utc(p.created_at)}
        for p in rows
    ]


def documents(rows: list[Document]) -> list[dict]:
    legacy = ids.legacy_ids({
        "document": [d.pk for d in rows], "project": [d.project_id for d in rows],
        "user": [d.uploaded_by_id for d in rows],
    })
    return [
        {"id": legacy["document"][d.pk], "projectId": legacy["project"].get(d.project_id),
         "filename": d.original_name, "contentType": d.content_type, "sizeBytes": d.size,
         "uploadedBy": legacy["user"].get(d.uploaded_by_id), "uploadedAt": utc(d.uploaded_at)}
        for d in rows
    ]


def users(people: list[User], memberships: list[Membership]) -> list[dict]:
    """Core users; each one's organization, department and roles from the memberships given
    (the first company among them is the organization)."""
    by_user: dict[int, list[Membership]] = {}
    for membership in sorted(memberships, key=lambda m: (m.company_id, m.team_id or 0)):
        by_user.setdefault(membership.user_id, []).append(membership)
    organization_of = {u.pk: by_user[u.pk][0].company_id if u.pk in by_user else None
                       for u in people}
    department_of = {
        u.pk: next((m.team_id for m in by_user.get(u.pk, [])
                    if m.team_id and m.company_id == organization_of[u.pk]), None)
        for u in people
    }
    legacy = ids.legacy_ids({
        "user": [u.pk for u in people], "organization": organization_of.values(),
        "department": department_of.values(),
    })
    items = []
    for person in people:
        organization = organization_of[person.pk]
        roles = {ROLE_TO_CORE[m.role.slug] for m in by_user.get(person.pk, [])
                 if m.company_id == organization and m.role.slug in ROLE_TO_CORE}
        if person.is_superuser:
            roles.add("SUPER_ADMIN")
        items.append({
            "id": legacy["user"][person.pk], "email": person.email,
            "fullName": person.get_full_name() if (person.first_name or person.last_name)
            else "",
            "organizationId": legacy["organization"].get(organization),
            "departmentId": legacy["department"].get(department_of[person.pk]),
            "active": person.is_active, "roles": sorted(roles),
            "lastLoginAt": utc(person.last_login),
        })
    return items


# --- authentication -------------------------------------------------------------------


class LoginView(LegacyView):
    """POST /v1/auth/login: e-mail and password for a bearer token, through the same
    password check (log-in gate, Core bcrypt, Cognito migration) as /api/v1/auth/token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenEndpointRateThrottle]
    successor = "/api/v1/auth/token"

    def get_authenticators(self):
        return []

    def post(self, request):
        body = _body(request)
        email, password = body.get("email"), body.get("password")
        if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
            raise ValidationError("email and password are required.")
        try:
            # The token endpoint's own password grant: one implementation of log-in.
            issued = TokenView()._password(
                request, {"username": email, "password": password,
                          "otp_token": body.get("otpToken")})
        except OAuthError as error:
            code = "invalid_credentials" if error.error == "invalid_grant" else error.error
            status_code = 401 if error.status == 400 else error.status
            response = Response({"error": code, "message": error.description},
                                status=status_code)
            if error.wait:
                response["Retry-After"] = str(error.wait)
            return response
        request.user = issued.token.user
        return Response({"token": issued.raw, "expiresIn": issued.expires_in})


class OAuthTokenView(TokenView):
    """POST /oauth/token: the /api/v1/auth/token endpoint itself, at Core's old path."""

    successor = "/api/v1/auth/token"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in sunset_headers(self.successor).items():
            response[name] = value
        if response.status_code == 200:
            client_id = request.data.get("client_id") if hasattr(request.data, "get") else None
            client = APIKey.objects.filter(prefix=client_id).first() if isinstance(
                client_id, str) else None
            if client is not None:
                caller = Caller("client", client.pk, f"{client.name} ({client.prefix})",
                                client.company_id)
            else:
                caller = Caller("anonymous", 0, "", None)
            usage_count(caller=caller, endpoint="POST /oauth/token")
        return response


# --- organizations --------------------------------------------------------------------


class OrganizationList(LegacyView):
    successor = "/api/v1/companies/"

    def get(self, request):
        return self.kept_list(request, ("rbac_company",), lambda: core_list(
            request, companies_for_user(user=request.user).order_by("id"), organizations))


class OrganizationDetail(LegacyView):
    successor = "/api/v1/companies/{id}/"

    def get(self, request, org_id: int):
        company = self.resolve("organization", org_id, companies_for_user(user=request.user))
        return Response(organizations([company])[0])

    def put(self, request, org_id: int):
        company = self.resolve("organization", org_id, companies_for_user(user=request.user))
        body = _body(request)
        data = {}
        for legacy_name, name in (("name", "name"), ("legalName", "legal_name"),
                                  ("vatNumber", "vat_number"), ("domain", "domain")):
            if legacy_name in body:
                value = _string(body, legacy_name)
                data[name] = value if value is not None or name == "vat_number" else ""
        company = v1_update(v1.CompanyViewSet, request, company, data)
        return Response(organizations([company])[0])


class DepartmentList(LegacyView):
    successor = "/api/v1/teams/?company={id}"

    def get(self, request, org_id: int):
        def build():
            company = self.resolve("organization", org_id,
                                   companies_for_user(user=request.user))
            teams = teams_for_user(user=request.user).filter(company=company).order_by("id")
            return core_list(request, teams, departments)

        return self.kept_list(request, ("rbac_company", "rbac_team"), build)

    def post(self, request, org_id: int):
        company = self.resolve("organization", org_id, companies_for_user(user=request.user))
        body = _body(request)
        parent = self.resolve_in_body(
            "department", body.get("parentId"), teams_for_user(user=request.user), "parentId")
        team = v1_create(v1.TeamViewSet, request, {
            "company": company.pk, "parent": parent.pk if parent else None,
            "name": _string(body, "name"),
        })
        return Response(departments([team])[0], status=status.HTTP_201_CREATED)


# --- users ----------------------------------------------------------------------------


def _role_memberships(user, person: User, company_id: int | None) -> list[Membership]:
    rows = memberships_for_user(user=user).filter(user=person)
    if company_id is not None:
        rows = rows.filter(company_id=company_id)
    return list(rows)


class UserList(LegacyView):
    successor = "/api/v1/memberships/?company={id}"

    def _organization(self, request) -> Company:
        org = request.query_params.get("org")
        if not org:
            raise ValidationError({"org": "Give the organization: ?org={id}."})
        return self.resolve("organization", org, companies_for_user(user=request.user))

    def get(self, request):
        company = self._organization(request)
        visible = memberships_for_user(user=request.user).filter(company=company)
        people = User.objects.filter(pk__in=visible.values("user_id")).order_by("id")

        def render(page: list[User]) -> list[dict]:
            return users(page, list(visible.filter(user__in=page)))

        return core_list(request, people, render)

    def post(self, request):
        """Invite: give an existing person the roles in the organization (see docs)."""
        company = self._organization(request)
        body = _body(request)
        email = _string(body, "email")
        if not email:
            raise ValidationError({"email": "Give the person's e-mail address."})
        # Only people the caller can already see, as POST /api/v1/memberships/: an e-mail
        # from another company reads the same as one nobody has.
        person = users_for_user(user=request.user).filter(email__iexact=email.strip()).first()
        if person is None:
            raise ValidationError({"email": (
                "No account with this e-mail among your organization's people: invite new "
                "people in the back-office.")})
        department = self.resolve_in_body(
            "department", body.get("departmentId"),
            teams_for_user(user=request.user).filter(company=company), "departmentId")
        roles = body.get("roles") or ["MEMBER"]
        _replace_roles(request, person, company, department, roles)
        return Response(users([person], _role_memberships(request.user, person, company.pk))[0],
                        status=status.HTTP_201_CREATED)


def _parse_roles(roles, department: Team | None) -> dict[int | None, Role]:
    """Return {team id or None: role}; in one scope the highest rank wins, as on import."""
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ValidationError({"roles": "Give a list of Core role names."})
    unknown = sorted({r for r in roles if r not in CORE_ROLES})
    if unknown:
        raise ValidationError({"roles": f"Unknown role: {', '.join(unknown)}."})
    by_slug = {role.slug: role for role in Role.objects.all()}
    wanted: dict[int | None, Role] = {}
    for name in roles:
        slug, scope = CORE_ROLES[name]
        if scope == "department" and department is None:
            raise ValidationError({"roles": f"{name} needs the user's department."})
        team = department.pk if department is not None and scope != "company" else None
        role = by_slug[slug]
        if team not in wanted or role.rank > wanted[team].rank:
            wanted[team] = role
    return wanted


def _replace_roles(request, person: User, company: Company, department: Team | None,
                   roles) -> None:
    """Make the person's roles in the company exactly these, through the memberships API."""
    refuse_key_granting_roles(request.user)
    wanted = _parse_roles(roles, department)
    current = {m.team_id: m for m in Membership.objects.filter(user=person, company=company)
               .select_related("role", "company", "team", "user")}
    # Grant first: a person left without any role would no longer be visible to grant to.
    for team_id, role in wanted.items():
        if current.get(team_id) is None or current[team_id].role_id != role.pk:
            v1_grant_role(request, user=person.pk, company=company.pk, team=team_id,
                          role=role.slug)
    for team_id, membership in current.items():
        if team_id not in wanted:
            v1_destroy(v1.MembershipViewSet, request, membership)


class UserDetail(LegacyView):
    successor = "/api/v1/memberships/?user={id}"

    def _person(self, request, user_id: int) -> User:
        return self.resolve("user", user_id, users_for_user(user=request.user))

    def get(self, request, user_id: int):
        person = self._person(request, user_id)
        return Response(users([person], _role_memberships(request.user, person, None))[0])

    def patch(self, request, user_id: int):
        person = self._person(request, user_id)
        current = users([person], _role_memberships(request.user, person, None))[0]
        body = _body(request)
        changed = sorted(name for name in ("fullName", "departmentId", "active")
                         if name in body and body[name] != current[name])
        if changed:
            # The new API does not change other people's accounts (docs/api-inventory.md).
            raise PermissionDenied(
                f"Changing {', '.join(changed)} through the API was retired: people's profiles "
                "are changed in the back-office, departments through PUT /v1/users/{id}/roles "
                "or /api/v1/memberships/.")
        return Response(current)


class UserRoles(LegacyView):
    successor = "/api/v1/memberships/"

    def put(self, request, user_id: int):
        person = self.resolve("user", user_id, users_for_user(user=request.user))
        memberships = _role_memberships(request.user, person, None)
        if not memberships:
            raise NotFound(f"No user {user_id}.")
        company = memberships[0].company
        department = next((m.team for m in memberships
                           if m.company_id == company.pk and m.team_id), None)
        _replace_roles(request, person, company, department, _body(request).get("roles"))
        return Response(users([person], _role_memberships(request.user, person, company.pk))[0])


def refuse_key_granting_roles(caller) -> None:
    """Roles are granted by people: the rank rule compares the granter's rank (docs/api.md)."""
    if isinstance(caller, APIKeyPrincipal):
        raise PermissionDenied(
            "API clients and keys cannot grant roles: the rank rule needs a person. Log in as "
            "a company administrator (POST /v1/auth/login) to change roles.")


# --- projects -------------------------------------------------------------------------


def _project_data(view: LegacyView, request, body: dict) -> dict:
    data = {}
    if "departmentId" in body:
        team = view.resolve_in_body("department", body["departmentId"],
                                    teams_for_user(user=request.user), "departmentId")
        data["team"] = team.pk if team else None
    for legacy_name, name in (("code", "code"), ("name", "name"), ("status", "status")):
        if legacy_name in body:
            data[name] = _string(body, legacy_name)
    if "budgetCents" in body:
        cents = body["budgetCents"]
        if cents is not None and (isinstance(cents, bool) or not isinstance(cents, int)):
            raise ValidationError({"budgetCents": "Give a whole number of cents."})
        data["budget"] = None if cents is None else str(Decimal(cents) / 100)
    return data


class ProjectList(LegacyView):
    successor = "/api/v1/projects/?company={id}"

    def _organization(self, request) -> Company | None:
        org = request.query_params.get("org")
        if not org:
            return None
        return self.resolve("organization", org, companies_for_user(user=request.user))

    def get(self, request):
        def build():
            rows = projects_for_user(user=request.user).order_by("id")
            company = self._organization(request)
            if company is not None:
                rows = rows.filter(company=company)
            return core_list(request, rows, projects)

        return self.kept_list(request, ("rbac_company", "rbac_team", "projects_project"), build)

    def post(self, request):
        company = self._organization(request)
        if company is None:
            raise ValidationError({"org": "Give the organization: ?org={id}."})
        data = _project_data(self, request, _body(request))
        project = v1_create(v1.ProjectViewSet, request, {**data, "company": company.pk})
        return Response(projects([project])[0], status=status.HTTP_201_CREATED)


class ProjectDetail(LegacyView):
    successor = "/api/v1/projects/{id}/"

    def _project(self, request, project_id: int) -> Project:
        return self.resolve("project", project_id, projects_for_user(user=request.user))

    def get(self, request, project_id: int):
        return Response(projects([self._project(request, project_id)])[0])

    def put(self, request, project_id: int):
        project = self._project(request, project_id)
        data = _project_data(self, request, _body(request))
        project = v1_update(v1.ProjectViewSet, request, project, data)
        return Response(projects([project])[0])

    def delete(self, request, project_id: int):
        v1_destroy(v1.ProjectViewSet, request, self._project(request, project_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectDocuments(LegacyView):
    successor = "/api/v1/documents/?project={id}"
    parser_classes = [MultiPartParser, *api_settings.DEFAULT_PARSER_CLASSES]

    def get(self, request, project_id: int):
        def build():
            project = self.resolve("project", project_id,
                                   projects_for_user(user=request.user))
            rows = documents_for_user(user=request.user).filter(project=project).order_by("id")
            return core_list(request, rows, documents)

        return self.kept_list(request, ("projects_project", "projects_document"), build)

    def post(self, request, project_id: int):
        project = self.resolve("project", project_id, projects_for_user(user=request.user))
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": "Send the file as multipart field 'file'."})
        data = {"company": project.company_id, "team": project.team_id,
                "project": project.pk, "file": upload,
                "content_type": upload.content_type or ""}
        document = v1_create_document(request, data)
        return Response(documents([document])[0], status=status.HTTP_201_CREATED)


class DocumentDownload(LegacyView):
    successor = "/api/v1/documents/{id}/download/"

    def get(self, request, document_id: int):
        document = self.resolve("document", document_id, documents_for_user(user=request.user))
        content = document_content(document=document)
        if content is None:
            raise NotFound("This document has no stored content.")
        if content.url:
            response = Response(status=status.HTTP_302_FOUND)
            response["Location"] = content.url
            return response
        # Local storage (development): the bytes through the new endpoint.
        return v1_download(request, document)

