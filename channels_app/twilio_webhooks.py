"""What every Twilio webhook (SMS and voice) checks before anything is read or stored: a UTF-8
form body, a valid ``X-Twilio-Signature``, then each field's length and characters (a 400 names
the field; nothing is stored). Errors are JSON in the API's shape."""

import logging
import re

from django.http import HttpRequest, HttpResponse, JsonResponse

from contactcenter.api.errors import error_body
from contactcenter.exceptions import DomainError, ValidationError

from .sms.twilio_signature import twilio_request_is_valid

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
FORM_CONTENT_TYPES = (FORM_CONTENT_TYPE, "multipart/form-data")
SID = re.compile(r"^[A-Za-z0-9]{2,64}$")
DIGITS = re.compile(r"^[0-9]{1,10}$")
#: Longest accepted value per field (Twilio's own limits, with room).
MAX_LENGTH = {
    "MessageSid": 64,
    "SmsSid": 64,
    "CallSid": 64,
    "ParentCallSid": 64,
    "RecordingSid": 64,
    "ConferenceSid": 64,
    "AccountSid": 64,
    "MessagingServiceSid": 64,
    "From": 40,
    "To": 40,
    "Body": 1600,
    "NumMedia": 2,
    "MessageStatus": 20,
    "SmsStatus": 20,
    "CallStatus": 20,
    "ErrorCode": 10,
    "ErrorMessage": 500,
}
DEFAULT_MAX_LENGTH = 2000  # MediaUrlN and anything else Twilio adds (FromCity, ApiVersion...)


def forbidden(request: HttpRequest) -> HttpResponse:
    logger.warning("rejected Twilio webhook with a bad or missing signature: %s", request.path)
    return JsonResponse(
        error_body("forbidden", "Invalid or missing X-Twilio-Signature."), status=403
    )


def refused(exc: DomainError, request: HttpRequest) -> HttpResponse:
    logger.warning("Twilio webhook %s refused: %s", request.path, exc.message)
    return JsonResponse(exc.as_dict(), status=exc.status_code)


def check_encoding(request: HttpRequest) -> None:
    """Only a UTF-8 form body is read (Django refuses other charsets for forms)."""
    if request.content_type not in FORM_CONTENT_TYPES:
        raise ValidationError(f"Expected {FORM_CONTENT_TYPE}.", field="Content-Type")
    if request.content_type != FORM_CONTENT_TYPE:
        return
    charset = (request.content_params.get("charset") or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ValidationError(
            f"The form must be UTF-8 encoded, not {charset[:40]}.", field="Content-Type"
        )


def check_fields(data) -> None:
    """Length and characters of every field: nothing longer than its column or limit, no NUL
    or other control characters (a database cannot store NUL)."""
    for name, values in data.lists():
        if len(name) > 64:
            raise ValidationError("Unexpected field name.", field=name[:64])
        limit = MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH)
        for value in values:
            if len(value) > limit:
                raise ValidationError(f"Longer than {limit} characters ({len(value)}).", field=name)
            allowed_controls = "\n\r\t" if name == "Body" else ""
            if any(ord(ch) < 32 and ch not in allowed_controls for ch in value) or "\x7f" in value:
                raise ValidationError("Contains control characters.", field=name)


def check_sid(data, name: str) -> str:
    value = data.get(name, "")
    if not value:
        raise ValidationError("Missing.", field=name)
    if not SID.match(value):
        raise ValidationError("Not a Twilio id (letters and digits).", field=name)
    return value


def checked(request: HttpRequest) -> HttpResponse | None:
    """The refusal to answer when the request is not a well-formed, signed Twilio webhook."""
    try:
        check_encoding(request)
    except DomainError as exc:
        return refused(exc, request)
    if not twilio_request_is_valid(request):
        return forbidden(request)
    try:
        check_fields(request.POST)
    except DomainError as exc:
        return refused(exc, request)
    return None
