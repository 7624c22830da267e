"""Validation of Twilio's ``X-Twilio-Signature`` against the exact URL Twilio called."""

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator


def twilio_request_is_valid(request: HttpRequest) -> bool:
    """True when the request carries a valid signature for our auth token.

    ``build_absolute_uri`` honours ``X-Forwarded-Proto``/host only when ``TRUST_X_FORWARDED`` is
    set (settings), which is what Twilio signed when we sit behind a proxy.
    """
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(request.build_absolute_uri(), request.POST, signature)
