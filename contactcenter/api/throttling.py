"""Throttling per token (or logged-in user) and per client address; rates come from settings
(``API_THROTTLE_TOKEN_RATE``, ``API_THROTTLE_ADDRESS_RATE``) when the request is made. Over the
limit: 429 with ``Retry-After``. Counters live in the default cache (Redis in services mode).

The address limit is a middleware, so it counts every request under ``/api/``, also the ones
refused before a view runs (no or a wrong token): guessing is throttled too."""

import math
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from ..models import ApiToken
from .errors import error_body, is_api_request


class _SettingsRateThrottle(SimpleRateThrottle):
    setting = ""

    def get_rate(self) -> str | None:
        return getattr(settings, self.setting, "") or None


class TokenRateThrottle(_SettingsRateThrottle):
    setting = "API_THROTTLE_TOKEN_RATE"

    def get_cache_key(self, request: Request, view: object) -> str | None:
        if isinstance(request.auth, ApiToken):
            return f"api-throttle:token:{request.auth.prefix}"
        if request.user and request.user.is_authenticated:
            return f"api-throttle:user:{request.user.pk}"
        return None


class AddressRateThrottle(_SettingsRateThrottle):
    setting = "API_THROTTLE_ADDRESS_RATE"

    def get_cache_key(self, request: Request, view: object) -> str | None:
        return f"api-throttle:address:{self.get_ident(request)}"


class ApiAddressThrottleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_request(request):
            throttle = AddressRateThrottle()
            if not throttle.allow_request(request, None):
                wait = throttle.wait() or 1
                response = JsonResponse(
                    error_body(
                        "throttled",
                        gettext("Too many requests from your address; retry in %(seconds)s s.")
                        % {"seconds": math.ceil(wait)},
                    ),
                    status=429,
                )
                response["Retry-After"] = str(math.ceil(wait))
                return response
        return self.get_response(request)
