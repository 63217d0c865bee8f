"""Core's /v1 and /oauth/token, Portal's /api, and the lookup of new ids by legacy id."""

from django.urls import path

from . import core, lookup, portal

app_name = "legacy_api"
urlpatterns = [
    # Core
    path("v1/auth/login", core.LoginView.as_view(), name="core-login"),
    path("oauth/token", core.OAuthTokenView.as_view(), name="core-oauth-token"),
    path("v1/organizations", core.OrganizationList.as_view(), name="core-organizations"),
    path("v1/organizations/<int:org_id>", core.OrganizationDetail.as_view(),
         name="core-organization"),
    path("v1/organizations/<int:org_id>/departments", core.DepartmentList.as_view(),
         name="core-departments"),
    path("v1/users", core.UserList.as_view(), name="core-users"),
    path("v1/users/<int:user_id>", core.UserDetail.as_view(), name="core-user"),
    path("v1/users/<int:user_id>/roles", core.UserRoles.as_view(), name="core-user-roles"),
    path("v1/projects", core.ProjectList.as_view(), name="core-projects"),
    path("v1/projects/<int:project_id>", core.ProjectDetail.as_view(), name="core-project"),
    path("v1/projects/<int:project_id>/documents", core.ProjectDocuments.as_view(),
         name="core-project-documents"),
    path("v1/documents/<int:document_id>/download", core.DocumentDownload.as_view(),
         name="core-document-download"),
    # Portal
    path("api/members/me", portal.MemberMe.as_view(), name="portal-me"),
    path("api/companies/<int:company_id>", portal.CompanyDetail.as_view(),
         name="portal-company"),
    path("api/companies/<int:company_id>/teams", portal.CompanyTeams.as_view(),
         name="portal-company-teams"),
    path("api/teams/<int:team_id>/members", portal.TeamMembers.as_view(),
         name="portal-team-members"),
    path("api/teams/<int:team_id>/members/<int:member_id>", portal.TeamMember.as_view(),
         name="portal-team-member"),
    path("api/files", portal.FileList.as_view(), name="portal-files"),
    path("api/files/<int:file_id>", portal.FileDetail.as_view(), name="portal-file"),
    path("api/grants", portal.GrantCreate.as_view(), name="portal-grants"),
    path("api/grants/<int:grant_id>", portal.GrantDelete.as_view(), name="portal-grant"),
    # The new API, found by a legacy id
    path("api/v1/legacy/<str:source>/<str:table>/<str:legacy_id>", lookup.LegacyLookup.as_view(),
         name="lookup"),
]
