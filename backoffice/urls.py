from functools import lru_cache, wraps

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, reverse
from drf_spectacular.views import SpectacularSwaggerSplitView

from backoffice.api.permissions import APIDocsAccess
from backoffice.api.schema_views import SchemaView
from backoffice.api.token_views import TokenView
from rbac.invitations import EveryonePasswordResetForm


def healthz(request: HttpRequest) -> JsonResponse:
    """Process alive; touches no database, so the load balancer can ask it often."""
    return JsonResponse({"status": "ok"})


@lru_cache(maxsize=1)
def _code_migrations() -> tuple[frozenset, dict]:
    """This code's migrations, read from disk once per process (no database query)."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    replaces = {key: tuple(map(tuple, graph.nodes[key].replaces or ())) for key in graph.nodes}
    return frozenset(graph.nodes), replaces


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database answers and has every migration this code has.

    One query, which is also the reachability check. Deploys gate on it (a new image on an
    old schema is not ready) and the load balancers' health checker takes a server whose
    /readyz fails out of rotation (docs/deploy.md). 503 otherwise.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = set(cursor.fetchall())
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    nodes, replaces = _code_migrations()
    unapplied = [
        key
        for key in nodes
        if key not in applied and not (replaces[key] and set(replaces[key]) <= applied)
    ]
    if unapplied:
        return JsonResponse(
            {"status": "unavailable", "database": "ok", "unapplied_migrations": len(unapplied)},
            status=503,
        )
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
    path("api/schema/", SchemaView.as_view(permission_classes=[APIDocsAccess]),
         name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", docs_page(SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", permission_classes=[APIDocsAccess])), name="api-docs"),
    path("admin/", admin.site.urls),
]

# An unknown URL under /api/ answers the API's JSON error envelope; elsewhere Django's page.
handler404 = "backoffice.api.exceptions.not_found"
