"""Twilio Voice webhooks: an inbound call, the queue's wait music, the caller leaving the queue,
the call's status callbacks (the number's, the agent's leg, the conference), recordings and
voicemail. Every request is checked first (``channels_app.twilio_webhooks``: signature, form,
fields); answers are TwiML, or 204 for callbacks."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contactcenter.exceptions import DomainError, ValidationError

from ..twilio_webhooks import DIGITS, check_sid, checked, refused
from . import phone, twiml, voicemail

logger = logging.getLogger(__name__)


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml")


def _number(request: HttpRequest, name: str) -> int:
    value = request.GET.get(name, "")
    if not DIGITS.match(value):
        raise ValidationError("Not an id.", field=name)
    return int(value)


def _sequence(data) -> int:
    value = data.get("SequenceNumber", "") or "0"
    if not DIGITS.match(value):
        raise ValidationError("Not a number.", field="SequenceNumber")
    return int(value)


@csrf_exempt
@require_POST
def voice_inbound(request: HttpRequest) -> HttpResponse:
    """A call to one of our numbers (the number's "A call comes in" webhook)."""
    if refusal := checked(request):
        return refusal
    data = request.POST
    try:
        route = phone.phone_call_receive(
            incoming=phone.IncomingCall(
                call_sid=check_sid(data, "CallSid"),
                from_number=data.get("From", ""),
                to_number=data.get("To", ""),
                caller_name=data.get("CallerName", ""),
            )
        )
    except DomainError as exc:
        return refused(exc, request)
    if route.kind == "voicemail":
        return _twiml(twiml.voicemail(route.service, data.get("From", ""), data.get("To", "")))
    return _twiml(twiml.queue(route.call, route.service))


@csrf_exempt
@require_POST
def voice_wait(request: HttpRequest) -> HttpResponse:
    """The queue's waitUrl: the caller's place, then hold music (requested again when it ends)."""
    if refusal := checked(request):
        return refusal
    try:
        position, service = phone.phone_queue_place(call_id=_number(request, "call"))
        waited = request.POST.get("QueueTime", "") or "0"
        if not DIGITS.match(waited):
            raise ValidationError("Not a number.", field="QueueTime")
    except DomainError as exc:
        return refused(exc, request)
    if service is None:
        return _twiml(twiml.empty())
    limit = service.voice_queue_voicemail_seconds
    if limit and int(waited) >= limit:
        return _twiml(twiml.leave_queue())  # the Enqueue's action offers the voicemail
    return _twiml(twiml.wait(position, service))


@csrf_exempt
@require_POST
def voice_queue_left(request: HttpRequest) -> HttpResponse:
    """The Enqueue's action: the caller left the queue. Hung up while waiting: the status
    callback ends the call (an abandon); anything else continues with the TwiML we gave it."""
    if refusal := checked(request):
        return refusal
    data = request.POST
    try:
        if data.get("QueueResult") == "hangup":
            phone.phone_status_report(call_sid=check_sid(data, "CallSid"), status="canceled")
        elif data.get("QueueResult") == "leave":  # waited too long: a voicemail instead
            call = phone.phone_queue_gave_up(call_sid=check_sid(data, "CallSid"))
            if call is not None:
                return _twiml(twiml.voicemail_for(call))
    except DomainError as exc:
        return refused(exc, request)
    return _twiml(twiml.empty())


@csrf_exempt
@require_POST
def voice_status(request: HttpRequest) -> HttpResponse:
    """The customer's call leg changed (set as the number's status callback URL)."""
    if refusal := checked(request):
        return refusal
    data = request.POST
    try:
        status = data.get("CallStatus", "").lower()
        if status not in phone.STATUS_RANK:
            raise ValidationError("Missing or unknown.", field="CallStatus")
        # A call we dialled names itself in its callback URL; the number's callback does not.
        call_id = _number(request, "call") if "call" in request.GET else None
        phone.phone_status_report(
            call_sid=check_sid(data, "CallSid"), status=status, call_id=call_id
        )
    except DomainError as exc:
        return refused(exc, request)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def voice_agent_leg(request: HttpRequest) -> HttpResponse:
    """The agent's leg of the conference (the participant's status callback)."""
    if refusal := checked(request):
        return refusal
    data = request.POST
    try:
        status = data.get("CallStatus", "").lower()
        if status not in phone.STATUS_RANK and status != "answered":
            raise ValidationError("Missing or unknown.", field="CallStatus")
        phone.phone_agent_leg_report(
            call_id=_number(request, "call"), agent_id=_number(request, "agent"), status=status
        )
    except DomainError as exc:
        return refused(exc, request)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def voice_conference(request: HttpRequest) -> HttpResponse:
    """The call's conference: hold and mute of its participants."""
    if refusal := checked(request):
        return refusal
    data = request.POST
    try:
        phone.phone_conference_event(
            call_id=_number(request, "call"),
            event=data.get("StatusCallbackEvent", ""),
            label=data.get("ParticipantLabel", ""),
            sequence=_sequence(data),
        )
    except DomainError as exc:
        return refused(exc, request)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def voice_recording(request: HttpRequest) -> HttpResponse:
    """A recording of the call's conference is ready."""
    if refusal := checked(request):
        return refusal
    data = request.POST
    try:
        phone.phone_recording_report(
            call_id=_number(request, "call"),
            recording_sid=check_sid(data, "RecordingSid"),
            url=data.get("RecordingUrl", ""),
            status=data.get("RecordingStatus", ""),
        )
    except DomainError as exc:
        return refused(exc, request)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def voice_voicemail(request: HttpRequest) -> HttpResponse:
    """A voicemail's recording is ready: it becomes a voicemail waiting in the service's queue.
    The caller's number and ours travel in the (signed) callback URL."""
    if refusal := checked(request):
        return refusal
    data = request.POST
    try:
        voicemail.voicemail_receive(
            recording=voicemail.VoicemailRecording(
                call_sid=check_sid(data, "CallSid"),
                recording_sid=check_sid(data, "RecordingSid"),
                url=data.get("RecordingUrl", ""),
                status=data.get("RecordingStatus", ""),
                duration=data.get("RecordingDuration", "") or "0",
                from_number=request.GET.get("from", ""),
                to_number=request.GET.get("to", ""),
            )
        )
    except DomainError as exc:
        return refused(exc, request)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def voice_voicemail_done(request: HttpRequest) -> HttpResponse:
    """<Record>'s action: the caller finished their message."""
    if refusal := checked(request):
        return refusal
    service = voicemail.service_of_number(request.GET.get("to", ""))
    return _twiml(twiml.goodbye(service) if service else twiml.empty())
