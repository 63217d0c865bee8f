from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from backoffice.api.permissions import APIDocsAccess
from rbac.invitations import EveryonePasswordResetForm
from rbac.token_views import TokenView


def healthz(request: HttpRequest) -> JsonResponse:
    """Process alive; touches no database, so the load balancer can ask it often."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database answers. 503 takes the server out of the load balancer."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def docs_page(view):
    """Send a person without a session to the admin's log-in when the docs are not public."""

    @wraps(view)
    def page(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return page


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Before any "api/" include: the token endpoint takes no credential of its own.
    path("api/v1/auth/token", TokenView.as_view(), name="auth-token"),
    # Django's password reset, for everyone including people not migrated yet; the admin
    # log-in page links to it through the "admin_password_reset" name.
    path(
        "admin/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=EveryonePasswordResetForm),
        name="admin_password_reset",
    ),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=EveryonePasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("readyz", readyz, name="readyz"),
    # Core's /v1 and /oauth/token, Portal's /api: the legacy APIs, for clients not moved yet.
    path("", include("backoffice.legacy_api.urls")),
    path("api/", include("backoffice.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[APIDocsAccess]),
         name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", docs_page(SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", permission_classes=[APIDocsAccess])), name="api-docs"),
    path("admin/", admin.site.urls),
]
