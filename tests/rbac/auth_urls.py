"""A tiny API for the authentication tests, until the REST API exists: who am I, what do I see."""

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backoffice.api.authentication import HasCredentialScope
from backoffice.urls import urlpatterns as project_urlpatterns
from rbac.selectors import companies_for_user


class WhoAmI(APIView):
    permission_classes = [IsAuthenticated, HasCredentialScope]

    def get(self, request):
        visible = sorted(companies_for_user(user=request.user).values_list("pk", flat=True))
        return Response(
            {
                "company_id": getattr(request.user, "company_id", None),
                "email": getattr(request.user, "email", None),
                "visible_company_ids": visible,
            }
        )

    def post(self, request):
        return Response({"written": True}, status=201)


urlpatterns = [path("api/test/whoami", WhoAmI.as_view()), *project_urlpatterns]
