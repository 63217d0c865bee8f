"""/api/v1/ routes."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("companies", views.CompanyViewSet, basename="company")
router.register("teams", views.TeamViewSet, basename="team")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("documents", views.DocumentViewSet, basename="document")
router.register("grants", views.GrantViewSet, basename="grant")

app_name = "api"
urlpatterns = [
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/invitations/", views.InvitationView.as_view(), name="invitations"),
    path("v1/", include(router.urls)),
]
