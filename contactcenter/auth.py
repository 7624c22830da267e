"""Login throttling (django-axes): wrong passwords lock a username out from an address.

The lockout page is the login page with the reason (HTTP 429); a supervisor unlocks at once in
admin (Axes -> Access attempts: delete the row) or with ``manage.py axes_reset_username``."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out login before any password is checked. Logins made without a request
    (management commands, test clients' ``login()``) cannot be guessed at over the network and
    are not throttled."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return gettext(
        "Too many failed attempts: this account is locked for %(minutes)s minutes from this "
        "address. Try again later, or ask a supervisor to unlock it."
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    context = {
        "form": AuthenticationForm(request),
        "locked_out": lockout_message(),
        "next": request.POST.get("next", "") if request.method == "POST" else "",
    }
    return render(request, "registration/login.html", context, status=429)
