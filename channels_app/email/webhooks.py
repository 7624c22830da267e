"""``POST /webhooks/email/inbound/``: raw MIME forwarded by an email service.

Authenticated by the shared secret in the ``X-Email-Secret`` header (``EMAIL_INBOUND_SECRET``;
compared in constant time; a bad or missing one is a 403 and stores nothing). The email is the
request body (``Content-Type: message/rfc822`` or any other non-form type), or a form field of a
multipart/urlencoded post: ``email`` (SendGrid Inbound Parse in raw mode) or ``body-mime``
(Mailgun). The receiving mailbox is found among the envelope recipients (``envelope`` JSON,
``recipient`` or ``to`` fields, ``?to=``) and the message's own Delivered-To/To/Cc. A raw body
may be up to ``EMAIL_MAX_MESSAGE_BYTES``; a form's text field is limited by Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (a file part is not).

Answers 200 with what became of the email; posting the same email again stores nothing new.
"""

import hmac
import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contactcenter.exceptions import DomainError, PermissionDenied, TooLarge, ValidationError

from .services import email_receive

logger = logging.getLogger(__name__)

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
RAW_FIELDS = ("email", "body-mime")


def _authorized(request: HttpRequest) -> bool:
    expected = settings.EMAIL_INBOUND_SECRET
    given = request.headers.get("X-Email-Secret", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _envelope_recipients(request: HttpRequest) -> list[str]:
    found = []
    envelope = request.POST.get("envelope", "") if request.content_type in FORM_TYPES else ""
    if envelope:
        try:
            to = json.loads(envelope).get("to") or []
            found += [to] if isinstance(to, str) else [str(item) for item in to]
        except (ValueError, AttributeError):
            pass
    if request.content_type in FORM_TYPES:
        found += [request.POST.get("recipient", ""), request.POST.get("to", "")]
    found += request.GET.getlist("to")
    return [
        address.strip().strip("<>").lower()
        for item in found
        for address in item.split(",")
        if "@" in address
    ]


def _raw_email(request: HttpRequest) -> bytes:
    if request.content_type in FORM_TYPES:
        for name in RAW_FIELDS:
            if name in request.FILES:
                return request.FILES[name].read()
            if request.POST.get(name):
                return request.POST[name].encode("utf-8", errors="surrogateescape")
        return b""
    # Read from the stream: request.body would stop at DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).
    return request.read(settings.EMAIL_MAX_MESSAGE_BYTES + 1)


def _refuse(error: DomainError) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.status_code)


@csrf_exempt
@require_POST
def email_inbound(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        logger.warning("rejected email webhook with a bad or missing X-Email-Secret")
        return _refuse(PermissionDenied("Invalid or missing X-Email-Secret."))
    length = int(request.headers.get("Content-Length") or 0)
    if length > settings.EMAIL_MAX_MESSAGE_BYTES * 2:  # a form carries more than the email
        return _refuse(TooLarge("The email is too large.", field="email"))
    try:
        raw = _raw_email(request)
    except RequestDataTooBig:
        return _refuse(
            TooLarge(
                "A form field is limited to DATA_UPLOAD_MAX_MEMORY_SIZE: post the email as a "
                "file or as the raw body.",
                field="email",
            )
        )
    if not raw.strip():
        return _refuse(ValidationError("No email in the request.", field="email"))
    try:
        outcome = email_receive(raw=raw, recipients=_envelope_recipients(request))
    except DomainError as exc:
        logger.warning("email webhook refused: %s", exc.message)
        return _refuse(exc)
    return JsonResponse(
        {
            "result": outcome.kind,
            "duplicate": outcome.duplicate,
            "message_id": outcome.message.pk if outcome.message else None,
            "conversation_id": outcome.message.conversation_id if outcome.message else None,
        }
    )
