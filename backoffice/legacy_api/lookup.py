"""GET /api/v1/legacy/{source}/{table}/{id}: 302 to the new API's object a legacy id became.

For clients that stored legacy ids: they move to /api/v1 without a mapping table of their
own. Part of the new API (its authentication, its error envelope), not a legacy endpoint.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.projects.models import Document, Project
from backoffice.projects.selectors import documents_for_user, projects_for_user
from rbac.models import Company, Team, User
from rbac.selectors import companies_for_user, teams_for_user, users_for_user

from . import ids

# model -> (selector of what the caller may see, where the new API shows it)
TARGETS = {
    Company: (companies_for_user, lambda pk: reverse("api:company-detail", args=[pk])),
    Team: (teams_for_user, lambda pk: reverse("api:team-detail", args=[pk])),
    Project: (projects_for_user, lambda pk: reverse("api:project-detail", args=[pk])),
    Document: (documents_for_user, lambda pk: reverse("api:document-detail", args=[pk])),
    User: (lambda *, user: users_for_user(user=user),
           lambda pk: f"{reverse('api:membership-list')}?user={pk}"),
}


class LegacyLookup(APIView):
    @extend_schema(
        operation_id="legacy_lookup",
        responses={302: OpenApiResponse(description="Location: the object in /api/v1/.")},
        description="Find an object by the id it had in Core or Portal. `source` is core or "
                    "portal; `table` a legacy table: organizations, departments, users, "
                    "projects, documents (core); company, team, member, file (portal).",
    )
    def get(self, request, source: str, table: str, legacy_id: str):
        kind = ids.BY_SOURCE_TABLE.get((source, table))
        pk = ids.object_pk(kind, legacy_id) if kind else None
        model = ids.TABLES[kind].model if kind else None
        if pk is None or model is None:
            raise NotFound()
        selector, location = TARGETS[model]
        if not selector(user=request.user).filter(pk=pk).exists():
            raise NotFound()
        response = Response(status=status.HTTP_302_FOUND)
        response["Location"] = location(pk)
        return response
