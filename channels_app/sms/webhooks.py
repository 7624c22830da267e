"""Twilio SMS webhooks: inbound messages and delivery status callbacks."""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contactcenter.exceptions import DomainError
from conversations.models import Channel, Message
from conversations.services import message_status_update

from ..services import InboundSms, sms_receive
from .adapters import TWILIO_STATUS
from .twilio_signature import twilio_request_is_valid

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_MEDIA = 10


def _forbidden(request: HttpRequest) -> HttpResponse:
    logger.warning("rejected Twilio webhook with a bad or missing signature: %s", request.path)
    return JsonResponse(
        {"error": "forbidden", "detail": "Invalid or missing X-Twilio-Signature."}, status=403
    )


def _bad_request(exc: DomainError, request: HttpRequest) -> HttpResponse:
    logger.warning("Twilio webhook %s refused: %s", request.path, exc.message)
    return JsonResponse(exc.as_dict(), status=exc.status_code)


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    if not twilio_request_is_valid(request):
        return _forbidden(request)
    data = request.POST
    if not data.get("MessageSid"):
        return JsonResponse(
            {"error": "invalid", "field": "MessageSid", "detail": "Missing."}, status=400
        )
    try:
        num_media = min(int(data.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        num_media = 0
    media = [
        {"url": data[f"MediaUrl{i}"], "content_type": data.get(f"MediaContentType{i}", "")}
        for i in range(num_media)
        if data.get(f"MediaUrl{i}")
    ]
    try:
        sms_receive(
            sms=InboundSms(
                message_sid=data["MessageSid"],
                from_number=data.get("From", ""),
                to_number=data.get("To", ""),
                body=data.get("Body", ""),
                media=media,
            )
        )
    except DomainError as exc:
        return _bad_request(exc, request)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def sms_status(request: HttpRequest) -> HttpResponse:
    if not twilio_request_is_valid(request):
        return _forbidden(request)
    data = request.POST
    sid = data.get("MessageSid", "")
    status = TWILIO_STATUS.get(data.get("MessageStatus", "").lower())
    if not sid or status is None:
        return JsonResponse(
            {"error": "invalid", "detail": "MessageSid and a known MessageStatus are required."},
            status=400,
        )
    message_id = _message_id_for_callback(request.GET.get("message", ""), sid)
    if message_id is None:
        logger.warning("status callback for unknown message %s", sid)
        return JsonResponse({"error": "not_found", "detail": f"Unknown message {sid}."}, status=404)
    message_status_update(
        message_id=message_id,
        status=status,
        provider_id=sid,
        error_code=data.get("ErrorCode", ""),
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
