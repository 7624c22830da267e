"""The one place where domain exceptions escaping a page view become HTTP responses (API views
shape theirs in ``contactcenter.api.errors``)."""

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views import defaults

from .exceptions import DomainError, NotFound, PermissionDenied, ValidationError


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        return domain_error_response(request, exception)


class NullCharacterGuardMiddleware:
    """A query parameter holding a NUL character is a 400 naming it, before any view: no
    database can store or compare it (PostgreSQL refuses the query outright)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                error = ValidationError(
                    gettext("The parameter %(name)s contains a null character.")
                    % {"name": name.replace("\x00", "")},
                    field=name.replace("\x00", ""),
                )
                return domain_error_response(request, error)
        return self.get_response(request)


def domain_error_response(request: HttpRequest, exception: DomainError) -> HttpResponse:
    """JSON in the API's error shape for scripts and the API; an error page for a browser."""
    if "application/json" in request.headers.get("Accept", "") or request.path.startswith("/api/"):
        return JsonResponse(exception.as_dict(), status=exception.status_code)
    if isinstance(exception, NotFound):
        return defaults.page_not_found(request, Http404(exception.message))
    if isinstance(exception, PermissionDenied):
        return defaults.permission_denied(request, exception)
    return HttpResponse(exception.message, status=exception.status_code, content_type="text/plain")
