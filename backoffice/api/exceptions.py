"""One error format for every API failure: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler


def api_exception_handler(exc: Exception, context: dict):
    # Services validate with full_clean(); their errors are the client's, not the server's.
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=serializers.as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        # Django's limits on a request body (DATA_UPLOAD_MAX_*): the client sent too much.
        exc = exceptions.ParseError(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = exceptions.ParseError("The request has more fields or files than are accepted.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DataError):
        # A value the database cannot hold or compare (a NUL byte, an out-of-range number)
        # that no field validation caught: the request's fault; DRF rolls the request back.
        exc = exceptions.ValidationError(
            {"non_field_errors": ["A value is out of range or holds a character that cannot "
                                  "be stored (such as a NUL byte)."]}
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    response.data = {"error": describe(exc, response.data)}
    return response


API_PREFIX = "/api/"


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 view (handler404): the error envelope for an unknown URL under /api/,
    Django's page elsewhere. A URL the API knows answers its own 404s through DRF."""
    if request.path_info.startswith(API_PREFIX):
        return JsonResponse(
            {"error": {"code": exceptions.NotFound.default_code,
                       "message": str(exceptions.NotFound.default_detail), "details": None}},
            status=404,
        )
    return defaults.page_not_found(request, exception)


def describe(exc: exceptions.APIException, data) -> dict:
    """Return code, message and details of a DRF exception that the default handler rendered."""
    if isinstance(exc, exceptions.ValidationError):
        return {"code": "invalid", "message": "The request is not valid.", "details": data}
    if isinstance(exc, exceptions.Throttled):
        return {
            "code": "throttled",
            "message": "Too many requests; retry later.",
            "details": {"retry_after": exc.wait},
        }
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return {"code": code, "message": str(exc.detail), "details": None}


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(allow_null=True)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    error = ErrorBodySerializer()
