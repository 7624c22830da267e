"""One error shape for every 4xx/5xx of the API: ``{"error": {"code", "message", "fields"}}``.

``exception_handler`` (DRF's ``EXCEPTION_HANDLER``) shapes what API views raise: domain errors,
DRF's own (validation, 401, 403, 404, 405, 406, 415, 429 with ``Retry-After``) and anything
unexpected (a 500 that names nothing internal). ``handler404``/``handler500``/``csrf_failure``
do the same for requests under ``/api/`` that never reach a view.
"""

from __future__ import annotations

import logging

from django.core import signals
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views import csrf, defaults
from rest_framework import exceptions
from rest_framework.response import Response

from ..exceptions import DomainError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def error_body(code: str, message: str, fields: dict | None = None, **extra: object) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def flatten_errors(detail: object, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation errors as ``{"identities[0].value": ["..."]}``."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            if isinstance(name, int) or str(name).isdigit():  # an item of a list
                key = f"{prefix}[{name}]"
            elif name == "non_field_errors":
                key = prefix
            else:
                key = f"{prefix}.{name}" if prefix else str(name)
            fields.update(flatten_errors(value, key))
    elif isinstance(detail, list) and detail and all(isinstance(i, str) for i in detail):
        fields.setdefault(prefix, []).extend(str(i) for i in detail)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                fields.update(flatten_errors(value, f"{prefix}[{index}]"))
    else:
        fields.setdefault(prefix, []).append(str(detail))
    return fields


def _validation_error(exc: exceptions.ValidationError) -> dict:
    fields = flatten_errors(exc.detail)
    general = fields.pop("", [])
    if general:
        message = general[0]
    elif fields:
        name, messages = next(iter(fields.items()))
        message = f"{name}: {messages[0]}"
    else:
        message = gettext("Invalid input.")
    return error_body("invalid", message, fields)


def exception_handler(exc: Exception, context: dict) -> Response:
    # Imported here: DRF's views module loads the settings' classes (throttling imports this
    # module), so importing it at the top would make a cycle.
    from rest_framework.views import exception_handler as drf_exception_handler
    from rest_framework.views import set_rollback

    if isinstance(exc, DomainError):
        set_rollback()
        return Response(exc.as_dict(), status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        logger.error("API error on %s", getattr(request, "path", "?"), exc_info=exc)
        if request is not None:
            signals.got_request_exception.send(sender=None, request=request._request)
        set_rollback()
        return Response(
            error_body("server_error", gettext("Something went wrong on our side.")), status=500
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_error(exc)
    else:
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, Http404):
            code = "not_found"
        elif not isinstance(exc, exceptions.APIException):
            code = "permission_denied"
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = error_body(code, str(detail))
    return response


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(error_body("not_found", gettext("Not found.")), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(
            error_body("server_error", gettext("Something went wrong on our side.")), status=500
        )
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if is_api_request(request):
        return JsonResponse(
            error_body("csrf_failed", gettext("CSRF verification failed.")), status=403
        )
    return csrf.csrf_failure(request, reason=reason)
