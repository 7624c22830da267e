"""Voicemail: outside business hours a caller leaves a message (Twilio records it). It arrives as
a ``voicemail`` leg of the caller's conversation, waiting in the service's queue and offered
like an email (not a live call: an agent on chats can take it); the recording is fetched and
stored here, and plays in the timeline and in Activities. The agent calls back with *Call the
customer*."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter.exceptions import NotFound, ValidationError
from contactcenter.jobs import enqueue_on_commit
from contacts.models import Identity
from contacts.normalize import normalize_phone
from conversations.models import Channel, Interaction, Message, Service
from conversations.services import InboundRecord, inbound_receive

from ..models import CallRecording, EntryPoint, VoiceCall
from ..services import entry_point_for
from .phone import PROVIDER, RECORDING_TASK


@dataclass(frozen=True)
class VoicemailRecording:
    call_sid: str
    recording_sid: str
    url: str
    status: str
    duration: str
    from_number: str
    to_number: str


def service_of_number(number: str) -> Service | None:
    entry_point = (
        EntryPoint.objects.select_related("service")
        .filter(channel=Channel.VOICE, address=number, active=True)
        .first()
    )
    return entry_point.service if entry_point else None


def voicemail_receive(*, recording: VoicemailRecording) -> Message | None:
    """Store a voicemail once (idempotent on the RecordingSid) and queue it for the service."""
    if recording.status != "completed":
        return None
    if not recording.duration.isdigit():
        raise ValidationError("Not a number.", field="RecordingDuration")
    customer = normalize_phone(recording.from_number, field="from")
    ours = normalize_phone(recording.to_number, field="to")
    try:
        entry_point = entry_point_for(channel=Channel.VOICE, address=ours)
    except NotFound as exc:
        raise ValidationError(exc.message, field="to") from exc
    seconds = int(recording.duration)
    with transaction.atomic():
        result = inbound_receive(
            record=InboundRecord(
                channel=Channel.VOICEMAIL,
                service=entry_point.service,
                identities=[(Identity.Kind.PHONE, customer)],
                provider_id=recording.recording_sid,
                body=gettext("Voicemail, %(duration)s") % {"duration": _minutes(seconds)},
                customer_address=customer,
                service_address=ours,
                own_leg=True,
            )
        )
        message = result.message
        if result.duplicate:
            return message
        now = timezone.now()
        call = VoiceCall.objects.create(
            interaction=Interaction.objects.get(pk=message.interaction_id),
            kind=VoiceCall.Kind.PHONE,
            provider=PROVIDER,
            provider_call_id=recording.call_sid,
            provider_status="completed",
            state=VoiceCall.State.ENDED,
            end_reason=VoiceCall.EndReason.VOICEMAIL,
            ringing_at=now - timedelta(seconds=seconds),
            ended_at=now,
        )
        stored = CallRecording.objects.create(
            call=call,
            segment=recording.recording_sid,
            content_type="audio/wav",
            source_url=recording.url,
        )
        enqueue_on_commit(RECORDING_TASK, stored.pk)
    return message


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"
