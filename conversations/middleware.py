"""Activates the agent's own language and time zone (profile first, then the browser)."""

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class AgentPreferencesMiddleware:
    """Runs after LocaleMiddleware and AuthenticationMiddleware: a language set on the agent's
    profile wins over the browser's Accept-Language; their time zone is used for rendering."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        profile = getattr(user, "agent_profile", None) if user and user.is_authenticated else None
        if profile is not None and profile.language:
            translation.activate(profile.language)
            request.LANGUAGE_CODE = profile.language
        if profile is not None and profile.time_zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(profile.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        response = self.get_response(request)
        if profile is not None and profile.language:
            response.headers.setdefault("Content-Language", profile.language)
        return response
