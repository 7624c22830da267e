"""Twilio SMS webhooks: inbound messages and delivery status callbacks.

Every request is checked before anything is read or stored (``channels_app.twilio_webhooks``: a
UTF-8 form body, a valid ``X-Twilio-Signature``, each field's length and characters; a 400 names
the field, nothing is stored). Errors are JSON in the API's shape."""

import logging
import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contactcenter.api.errors import error_body
from contactcenter.exceptions import DomainError, ValidationError
from conversations.models import Channel, Message
from conversations.services import message_status_update

from ..services import InboundSms, sms_receive
from ..twilio_webhooks import DIGITS, check_sid, checked, refused
from .adapters import TWILIO_STATUS

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_MEDIA = 10
CONTENT_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}$")
ERROR_CODE = re.compile(r"^[0-9]{0,10}$")


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    if refusal := checked(request):
        return refusal
    data = request.POST
    try:
        message_sid = check_sid(data, "MessageSid")
        num_media_text = data.get("NumMedia") or "0"
        if not DIGITS.match(num_media_text):
            raise ValidationError("Not a number.", field="NumMedia")
        num_media = min(int(num_media_text), MAX_MEDIA)
        media = []
        for i in range(num_media):
            url = data.get(f"MediaUrl{i}", "")
            if not url:
                continue
            content_type = data.get(f"MediaContentType{i}", "")
            if not CONTENT_TYPE.match(content_type):
                content_type = ""  # shown as a plain link
            # Non-http(s) URLs are dropped when the message is stored (web_media).
            media.append({"url": url, "content_type": content_type})
        sms_receive(
            sms=InboundSms(
                message_sid=message_sid,
                from_number=data.get("From", ""),
                to_number=data.get("To", ""),
                body=data.get("Body", ""),
                media=media,
            )
        )
    except DomainError as exc:
        return refused(exc, request)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def sms_status(request: HttpRequest) -> HttpResponse:
    if refusal := checked(request):
        return refusal
    data = request.POST
    try:
        sid = check_sid(data, "MessageSid")
        status = TWILIO_STATUS.get(data.get("MessageStatus", "").lower())
        if status is None:
            raise ValidationError("Missing or unknown.", field="MessageStatus")
        error_code = data.get("ErrorCode", "")
        if not ERROR_CODE.match(error_code):
            raise ValidationError("Not a number.", field="ErrorCode")
        raw_id = request.GET.get("message", "")
        if raw_id and not DIGITS.match(raw_id):
            raise ValidationError("Not a message id.", field="message")
    except DomainError as exc:
        return refused(exc, request)
    message_id = _message_id_for_callback(raw_id, sid)
    if message_id is None:
        logger.warning("status callback for unknown message %s", sid)
        return JsonResponse(error_body("not_found", f"Unknown message {sid}."), status=404)
    message_status_update(
        message_id=message_id,
        status=status,
        provider_id=sid,
        error_code=error_code,
        error_message=data.get("ErrorMessage", ""),
    )
    return HttpResponse(status=204)


def _message_id_for_callback(raw_id: str, sid: str) -> int | None:
    """Our id travels in the callback URL (the callback can beat our own 'sent' write); the sid
    must not contradict it."""
    outbound = Message.objects.filter(channel=Channel.SMS, direction=Message.Direction.OUTBOUND)
    if raw_id.isdigit():
        found = outbound.filter(pk=int(raw_id)).values_list("pk", "provider_id").first()
        if found and found[1] in ("", sid):
            return found[0]
    return outbound.filter(provider_id=sid).values_list("pk", flat=True).first()
