"""HTTP helpers shared by the apps: domain exceptions as JSON for plain Django views, and the
client's address behind the configured number of reverse proxies (``NUM_PROXIES``)."""

import ipaddress
from collections.abc import Callable
from functools import wraps

from django.conf import settings
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


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return ""


def _address(remote: str, forwarded_for: str) -> str:
    proxies = settings.NUM_PROXIES
    if proxies > 0:
        hops = [hop for hop in forwarded_for.split(",") if hop.strip()]
        if hops:
            hop = _ip(hops[-min(proxies, len(hops))])
            if hop:
                return hop
    return _ip(remote or "")


def client_ip(request: HttpRequest) -> str | None:
    """The address the outermost trusted proxy saw (``REMOTE_ADDR`` without proxies): what rate
    limits and login throttling count by. X-Forwarded-For is only trusted behind proxies."""
    address = _address(
        request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", "")
    )
    return address or None


def scope_client_address(scope: dict) -> str:
    """The same for an ASGI (websocket) scope (empty when unknown)."""
    client = scope.get("client") or ("", 0)
    forwarded = ""
    for name, value in scope.get("headers") or []:
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
    return _address(str(client[0] or ""), forwarded)
