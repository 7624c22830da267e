"""Maps domain exceptions to HTTP responses for plain Django views."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse

from .exceptions import DomainError


def domain_errors_as_json(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return JsonResponse(exc.as_dict(), status=exc.status_code)

    return wrapper
