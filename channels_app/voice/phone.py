"""Phone calls through Twilio Voice: the caller dials a service's number, is recognized and
queued (TwiML: a greeting, hold music, their place in the queue in the service's language), is
offered by the router like any call, and is connected to the agent who takes it in the call's
conference. Outside business hours the caller leaves a voicemail, which waits in the service's
queue like an email.

Twilio tells us what happened through signed callbacks; they are idempotent and move the call
forward only (a late ``ringing`` after ``in-progress`` changes nothing). Agents' controls become
``CallCommand`` rows that a Celery task sends through the telephony adapter; the call's state
follows the callbacks, never the commands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound, ValidationError
from contactcenter.jobs import enqueue_on_commit
from contacts.models import Contact, Identity
from contacts.normalize import normalize_phone
from conversations.models import AgentProfile, Channel, Conversation, Interaction, Service
from conversations.selectors import queue_position, service_is_open
from conversations.services import (
    InboundRecord,
    conversation_start,
    inbound_receive,
    interaction_end,
    interaction_open,
    transfer_to_service,
)

from ..conversation_ops import AgentLine
from ..models import CallCommand, CallLeg, CallRecording, VoiceCall
from ..services import entry_point_addresses, entry_point_for
from .commands import command_add
from .services import (
    RING_TIMEOUT_TASK,
    call_answered,
    call_connect,
    call_hold_set,
    call_line,
    call_publish,
    lock_call,
    lock_conversation_for_call,
)
from .telephony import Participant, TelephonyError, agent_label, conference_name, telephony

logger = logging.getLogger(__name__)

PROVIDER = "twilio"
RECORDING_TASK = "channels_app.tasks.voice_recording_fetch"
COMMANDS_TASK = "channels_app.tasks.voice_commands_run"
#: Twilio's CallStatus values in the order a call goes through them; the last ones are final.
STATUS_RANK = {
    "queued": 0,
    "initiated": 0,
    "ringing": 1,
    "in-progress": 2,
    "completed": 3,
    "busy": 3,
    "no-answer": 3,
    "failed": 3,
    "canceled": 3,
}
FINAL = {status for status, rank in STATUS_RANK.items() if rank == 3}
CUSTOMER_LABEL = "customer"


@dataclass(frozen=True)
class IncomingCall:
    call_sid: str
    from_number: str
    to_number: str
    caller_name: str = ""


@dataclass(frozen=True)
class PhoneRoute:
    """What the caller hears next: ``queue`` (waits for an agent) or ``voicemail`` (closed)."""

    kind: str
    service: Service
    call: VoiceCall | None = None


def public_url(name: str, **query: object) -> str:
    """An absolute URL of ours for Twilio (``PUBLIC_BASE_URL``)."""
    base = (settings.PUBLIC_BASE_URL or "").rstrip("/")
    path = reverse(name)
    if query:
        path += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return base + path


# --- Inbound --------------------------------------------------------------------------------------


def phone_call_receive(*, incoming: IncomingCall) -> PhoneRoute:
    """A call reached one of our numbers (idempotent on the CallSid: Twilio retrying its webhook
    gets the same answer). Open hours: the caller's conversation gets the call as a voice leg,
    queued for the service (or ringing on the agent of their open conversation). Closed: the
    caller is sent to voicemail (nothing is stored until they leave one)."""
    to_number = normalize_phone(incoming.to_number, field="To")
    entry_point = entry_point_for(channel=Channel.VOICE, address=to_number)
    service = entry_point.service
    existing = VoiceCall.objects.filter(provider_call_id=incoming.call_sid).first()
    if existing is not None:
        return PhoneRoute(kind="queue", service=service, call=existing)
    if not service_is_open(service=service):
        return PhoneRoute(kind="voicemail", service=service)
    customer = normalize_phone(incoming.from_number, field="From")
    first, _space, last = incoming.caller_name.strip().partition(" ")
    try:
        with transaction.atomic(), realtime.publishing_batched():
            result = inbound_receive(
                record=InboundRecord(
                    channel=Channel.VOICE,
                    service=service,
                    identities=[(Identity.Kind.PHONE, customer)],
                    provider_id=incoming.call_sid,
                    customer_address=customer,
                    service_address=to_number,
                    first_name=first[:120],
                    last_name=last[:120],
                    own_leg=True,
                )
            )
            interaction = Interaction.objects.get(pk=result.message.interaction_id)
            conversation = Conversation.objects.select_for_update().get(
                pk=interaction.conversation_id
            )
            interaction.conversation = conversation
            ringing = interaction.state == Interaction.State.ACTIVE
            call = VoiceCall.objects.create(
                interaction=interaction,
                kind=VoiceCall.Kind.PHONE,
                provider=PROVIDER,
                provider_call_id=incoming.call_sid,
                provider_status="ringing",
                state=VoiceCall.State.RINGING if ringing else VoiceCall.State.QUEUED,
                recording_mode=service.call_recording,
            )
            CallLeg.objects.create(call=call, party=CallLeg.Party.CUSTOMER)
            call_line(call, AgentLine.VOICE_PHONE_INCOMING, number=customer)
            if ringing:  # the agent of the caller's open conversation: their call bar rings
                CallLeg.objects.create(
                    call=call, party=CallLeg.Party.AGENT, agent=interaction.agent
                )
                enqueue_on_commit(RING_TIMEOUT_TASK, call.pk, countdown=settings.VOICE_RING_SECONDS)
            call_publish(call)
    except IntegrityError:  # the same CallSid at once: the first one's answer
        call = VoiceCall.objects.get(provider_call_id=incoming.call_sid)
    return PhoneRoute(kind="queue", service=service, call=call)


def phone_call_start(
    *, conversation_id: int, user: AbstractBaseUser, number: str = ""
) -> VoiceCall:
    """Click-to-call: the agent calls the customer's phone inside the conversation. Twilio rings
    the agent's phone into the call's conference, then dials the customer from the service's
    number (its caller ID); the call connects when the customer answers (the status callback)."""
    with transaction.atomic(), realtime.publishing_batched():
        conversation = lock_conversation_for_call(conversation_id, user)
        numbers = customer_numbers(conversation.contact_id)
        to = normalize_phone(number, field="number") if number else (numbers[:1] or [""])[0]
        if not to:
            raise ValidationError(
                gettext("The contact has no phone number: add one to their contact."),
                field="number",
            )
        caller_ids = entry_point_addresses(Channel.VOICE, conversation.service_id)
        if not caller_ids:
            raise InvalidState(
                gettext("No voice number to call from: add a Voice entry point in the admin.")
            )
        endpoint = getattr(getattr(user, "agent_profile", None), "voice_endpoint", "")
        if not endpoint:
            raise InvalidState(
                gettext("Set your phone for Twilio calls first (admin → Agent profiles).")
            )
        interaction = interaction_open(
            conversation=conversation,
            channel=Channel.VOICE,
            user=user,
            customer_address=to,
            service_address=caller_ids[0],
            answered=False,
        )
        call = VoiceCall.objects.create(
            interaction=interaction,
            kind=VoiceCall.Kind.PHONE,
            provider=PROVIDER,
            state=VoiceCall.State.RINGING,
            recording_mode=conversation.service.call_recording,
        )
        CallLeg.objects.create(call=call, party=CallLeg.Party.AGENT, agent=user)
        CallLeg.objects.create(call=call, party=CallLeg.Party.CUSTOMER)
        call_line(call, AgentLine.VOICE_PHONE_OUTGOING, user, number=to)
        call_publish(call)
        command_add(call, "dial", agent_id=user.pk)
    return call


def phone_call_contact(*, contact_id: int, user: AbstractBaseUser, number: str) -> VoiceCall:
    """The contact page's *Call*: the call goes in the agent's open conversation with the
    contact, else in a new conversation of theirs (in a service with a voice number)."""
    if not Contact.objects.filter(pk=contact_id, merged_into__isnull=True).exists():
        raise NotFound(gettext("Contact not found."))
    with transaction.atomic():
        conversation = (
            Conversation.objects.filter(
                contact_id=contact_id, agent=user, status=Conversation.Status.OPEN
            )
            .order_by("-opened_at")
            .first()
        )
        if conversation is None:
            voice_service = (
                Service.objects.filter(
                    agents__user=user,
                    entry_points__channel=Channel.VOICE,
                    entry_points__active=True,
                )
                .order_by("name")
                .first()
            )
            conversation = conversation_start(
                contact_id=contact_id, user=user, service=voice_service
            )
        return phone_call_start(conversation_id=conversation.pk, user=user, number=number)


def customer_numbers(contact_id: int) -> list[str]:
    """The contact's phone numbers (E.164), most recently added first."""
    return list(
        Identity.objects.filter(contact_id=contact_id, kind=Identity.Kind.PHONE)
        .order_by("-id")
        .values_list("value", flat=True)
    )


def phone_queue_place(*, call_id: int) -> tuple[int, Service | None]:
    """The waiting caller's place in their service's queue (0 when not waiting) and service."""
    call = VoiceCall.objects.select_related("interaction__service").filter(pk=call_id).first()
    if call is None:
        return 0, None
    interaction = call.interaction
    if interaction.state == Interaction.State.OFFERED:
        return 1, interaction.service  # an agent is being offered the call: next in line
    return queue_position(interaction=interaction), interaction.service


def _lock_phone_call(*, call_id: int | None = None, call_sid: str = "") -> VoiceCall | None:
    if call_id is None:
        found = VoiceCall.objects.filter(provider_call_id=call_sid, provider=PROVIDER)
        call_id = found.values_list("pk", flat=True).first()
        if call_id is None:
            return None
    try:
        call = lock_call(call_id)
    except NotFound:
        return None
    return call if call.provider == PROVIDER else None


# --- Callbacks ------------------------------------------------------------------------------------


def phone_status_report(
    *, call_sid: str, status: str, call_id: int | None = None
) -> VoiceCall | None:
    """The customer's call leg changed (the number's status callback, or the one of a call we
    dialled, which names our call). Forward only: a status ranked at or below the last one
    changes nothing. A call we dialled connects when the customer answers; a final status ends
    the call."""
    with transaction.atomic(), realtime.publishing_batched():
        call = _lock_phone_call(call_id=call_id, call_sid=call_sid)
        if call is not None and call_id is not None and call.provider_call_id not in ("", call_sid):
            call = None  # a CallSid that is not this call's
        if call is None:
            logger.warning("Twilio status %s for unknown call %s ignored", status, call_sid)
            return None
        rank = STATUS_RANK.get(status, -1)
        if rank <= STATUS_RANK.get(call.provider_status, -1):
            return call
        call.provider_status = status
        if not call.provider_call_id:
            call.provider_call_id = call_sid
        call.save(update_fields=["provider_status", "provider_call_id"])
        outbound = call.interaction.direction == Interaction.Direction.OUTBOUND
        if status == "in-progress" and outbound and call.state == VoiceCall.State.RINGING:
            call_answered(call)
        elif status in FINAL and call.is_live:
            _end(call, status)
    return call


def phone_queue_gave_up(*, call_sid: str) -> VoiceCall | None:
    """The caller waited longer than the service's ``voice_queue_voicemail_seconds``: the call
    is missed (out of the queue) and the caller goes on to leave a voicemail."""
    with transaction.atomic(), realtime.publishing_batched():
        call = _lock_phone_call(call_sid=call_sid)
        if call is None or call.state != VoiceCall.State.QUEUED:
            return None
        interaction_end(
            interaction=call.interaction, reason=VoiceCall.EndReason.VOICEMAIL, abandoned=False
        )
        call.refresh_from_db()
    return call


def _end(call: VoiceCall, status: str) -> None:
    """The customer's leg is over at Twilio: the call (and its voice leg) ends here."""
    hung_up = (
        call.commands.filter(action="hang_up").exclude(state=CallCommand.State.FAILED).exists()
    )
    if status == "completed":
        reason = VoiceCall.EndReason.AGENT if hung_up else VoiceCall.EndReason.CUSTOMER
    elif status in ("busy", "no-answer", "failed"):
        reason = VoiceCall.EndReason.NO_ANSWER
    else:  # canceled: the caller hung up before it was answered
        reason = VoiceCall.EndReason.CUSTOMER
    inbound = call.interaction.direction == Interaction.Direction.INBOUND
    if not inbound and not call.answered_at and call.interaction.agent_id:
        # Nobody answered the call we dialled: the agent's phone leaves the conference.
        command_add(call, "drop", agent_id=call.interaction.agent_id)
    interaction_end(
        interaction=call.interaction, reason=reason, abandoned=inbound and not call.answered_at
    )


def phone_agent_leg_report(*, call_id: int, agent_id: int, status: str) -> VoiceCall | None:
    """The agent's phone leg of the conference (the participant's status callback): ringing,
    answered (the call is connected), or over (busy, no answer, hung up)."""
    with transaction.atomic(), realtime.publishing_batched():
        call = _lock_phone_call(call_id=call_id)
        if call is None or not call.is_live:
            return call
        agent = get_user_model().objects.select_related("agent_profile").filter(pk=agent_id).first()
        if agent is None or call.interaction.agent_id != agent_id:
            return call  # handed to someone else since: that agent's leg no longer matters
        if status == "ringing" and call.state == VoiceCall.State.QUEUED:
            call.state = VoiceCall.State.RINGING
            call.ringing_at = timezone.now()
            call.save(update_fields=["state", "ringing_at"])
            call_line(call, AgentLine.VOICE_PHONE_RINGING, agent)
            call_publish(call)
        elif status == "ringing" and call.state == VoiceCall.State.RINGING:
            # The agent answered on the desktop: now their phone rings (the bar says so). A
            # repeated callback writes no second line.
            last = call.interaction.messages.order_by("-id").values_list("system_code").first()
            if last != (AgentLine.VOICE_PHONE_RINGING.code,):
                call_line(call, AgentLine.VOICE_PHONE_RINGING, agent)
            call_publish(call)
        elif (
            status in ("answered", "in-progress")
            and call.interaction.direction == Interaction.Direction.INBOUND
            and call.state in (VoiceCall.State.QUEUED, VoiceCall.State.RINGING)
        ):
            call_connect(call, agent=agent)
        elif (
            status in ("busy", "no-answer", "failed", "canceled")
            and call.answered_at is None
            and call.interaction.direction == Interaction.Direction.INBOUND
        ):
            _agent_phone_missed(call, agent)
        elif status in ("completed", "busy", "no-answer", "failed", "canceled") and (
            call.state in (VoiceCall.State.CONNECTED, VoiceCall.State.ON_HOLD)
            or call.interaction.direction == Interaction.Direction.OUTBOUND
        ):
            # The agent hung up their phone (or never took the call they made): the customer's
            # leg is hung up too.
            command_add(call, "hang_up")
    return call


def _agent_phone_missed(call: VoiceCall, agent: AbstractBaseUser) -> None:
    """The agent's phone did not take the call. A phone-only conversation goes back to the
    service's queue (the next agent is offered it); one the agent also handles on another channel
    stays theirs, and the caller is invited to leave a voicemail."""
    conversation = call.interaction.conversation
    others = conversation.interactions.exclude(pk=call.interaction_id).exclude(
        state=Interaction.State.ENDED
    )
    if others.exists():
        command_add(call, "voicemail")
        interaction_end(
            interaction=call.interaction, reason=VoiceCall.EndReason.NO_ANSWER, abandoned=False
        )
        return
    call_line(call, AgentLine.VOICE_PHONE_NOT_ANSWERED, agent)
    transfer_to_service(
        conversation=conversation,
        user=agent,
        service=call.interaction.service or conversation.service,
    )


def phone_conference_event(*, call_id: int, event: str, label: str, sequence: int) -> None:
    """The conference's callbacks: the customer put on hold or taken off it, an agent muted.
    Ordered by Twilio's SequenceNumber (a late one changes nothing)."""
    with transaction.atomic(), realtime.publishing_batched():
        call = _lock_phone_call(call_id=call_id)
        if call is None or not call.is_live or sequence <= call.provider_sequence:
            return
        call.provider_sequence = sequence
        call.save(update_fields=["provider_sequence"])
        if label == CUSTOMER_LABEL and event in ("participant-hold", "participant-unhold"):
            if call.state in (VoiceCall.State.CONNECTED, VoiceCall.State.ON_HOLD):
                call_hold_set(call, hold=event == "participant-hold", user=call.interaction.agent)
        elif label == agent_label(call.interaction.agent_id or 0) and event in (
            "participant-mute",
            "participant-unmute",
        ):
            call.agent_muted = event == "participant-mute"
            call.save(update_fields=["agent_muted"])
            call_publish(call)


def phone_recording_report(
    *, call_id: int, recording_sid: str, url: str, status: str
) -> CallRecording | None:
    """A recording of the call is ready at Twilio: kept once per RecordingSid, its audio fetched
    by a Celery task and stored here (Activities play it without Twilio credentials)."""
    if status != "completed":
        return None
    with transaction.atomic():
        call = VoiceCall.objects.filter(pk=call_id, provider=PROVIDER).first()
        if call is None:
            return None
        recording, created = CallRecording.objects.get_or_create(
            call=call,
            segment=recording_sid,
            defaults={"content_type": "audio/wav", "source_url": url},
        )
        if created:
            enqueue_on_commit(RECORDING_TASK, recording.pk)
    return recording


def recording_fetch(*, recording_id: int) -> bool:
    """Download a recording's audio from Twilio (raises TelephonyError when worth a retry)."""
    recording = CallRecording.objects.filter(pk=recording_id).first()
    if recording is None or recording.size:
        return False
    adapter = telephony_adapter()
    if adapter is None:
        logger.warning("recording %s: no Twilio credentials to fetch it", recording_id)
        return False
    audio, content_type = adapter.recording_audio(recording.source_url)
    with transaction.atomic():
        # Locks in the usual order (conversation, call, then its recording); the pages are told
        # through the call's own event, under those locks.
        call = lock_call(recording.call_id)
        recording = CallRecording.objects.select_for_update().get(pk=recording_id)
        if recording.size:
            return False
        recording.file.save(f"{recording.segment}.wav", ContentFile(audio), save=False)
        recording.content_type = content_type
        recording.size = len(audio)
        recording.chunks = 1
        recording.updated_at = timezone.now()
        recording.save()
        call_publish(call)
    return True


# --- Commands -------------------------------------------------------------------------------------


def telephony_adapter():
    """Twilio when it is configured; in demo mode without it, the phone simulator."""
    adapter = telephony()
    if adapter is None and settings.DEMO_MODE:
        from .simulator import SimulatedTelephony

        return SimulatedTelephony()
    return adapter


def commands_run(*, call_id: int) -> str:
    """Send the call's pending commands to the provider, oldest first; stops at a transient
    failure (``"retry"``: the task runs again later, in order). ``"busy"``: another worker is
    sending this call's commands."""
    adapter = telephony_adapter()
    while True:
        with transaction.atomic():
            head = (
                CallCommand.objects.filter(call_id=call_id, state=CallCommand.State.PENDING)
                .order_by("id")
                .values_list("pk", flat=True)
                .first()
            )
            if head is None:
                return "done"
            command = (
                CallCommand.objects.select_for_update(skip_locked=True)
                .select_related("call__interaction")
                .filter(pk=head, state=CallCommand.State.PENDING)
                .first()
            )
            if command is None:
                return "busy"
            command.attempts += 1
            try:
                if adapter is None:
                    raise TelephonyError(
                        gettext("No Twilio account is configured (TWILIO_ACCOUNT_SID)."),
                        transient=False,
                    )
                command_perform(adapter, command)
            except TelephonyError as exc:
                command.error = exc.message[:500]
                retry = exc.transient and command.attempts < settings.OUTBOUND_MAX_RETRIES
                if retry:
                    command.save(update_fields=["attempts", "error"])
                    logger.warning("call %s: %s failed, retrying: %s", call_id, command, exc)
                    return "retry"
                command.state = CallCommand.State.FAILED
                command.save(update_fields=["attempts", "error", "state"])
                logger.warning("call %s: %s failed: %s", call_id, command, exc)
                _command_failed(command)
                continue
            command.state = CallCommand.State.DONE
            command.done_at = timezone.now()
            command.save(update_fields=["attempts", "state", "done_at", "error"])


def _command_failed(command: CallCommand) -> None:
    """Tell the agents in the timeline (its own transaction, the call locked)."""
    with transaction.atomic(), realtime.publishing_batched():
        call = lock_call(command.call_id)
        call_line(call, AgentLine.VOICE_COMMAND_FAILED, reason=command.error)
        call_publish(call)


def _agent_participant(call: VoiceCall, user_id: int) -> Participant:
    profile = AgentProfile.objects.select_related("user").filter(user_id=user_id).first()
    endpoint = profile.voice_endpoint.strip() if profile else ""
    if not endpoint:
        name = profile.name if profile else str(user_id)
        raise TelephonyError(
            gettext("%(name)s has no phone for Twilio calls (admin → Agent profiles).")
            % {"name": name},
            transient=False,
        )
    return Participant(
        label=agent_label(user_id),
        endpoint=endpoint,
        caller_id=call.interaction.service_address,
        status_callback=public_url("twilio-voice-agent", call=call.pk, agent=user_id),
    )


def command_perform(adapter, command: CallCommand) -> None:
    """One command at the provider (the twiml module writes what the customer's leg does)."""
    from . import twiml

    call = command.call
    conference = conference_name(call.pk)
    action, args = command.action, command.args
    if action == "connect":
        participant = _agent_participant(call, args["agent_id"])
        adapter.redirect(call.provider_call_id, twiml.into_conference(call))
        adapter.add_participant(conference, participant)
    elif action == "transfer":
        adapter.add_participant(conference, _agent_participant(call, args["agent_id"]))
        if args.get("previous_agent_id"):
            adapter.remove_participant(conference, agent_label(args["previous_agent_id"]))
    elif action == "requeue":
        if args.get("previous_agent_id"):
            adapter.remove_participant(conference, agent_label(args["previous_agent_id"]))
        adapter.redirect(call.provider_call_id, twiml.back_to_queue(call))
    elif action == "hold":
        adapter.hold(conference, CUSTOMER_LABEL, on=args["on"], hold_url=twiml.hold_music_url())
    elif action == "mute":
        adapter.mute(conference, agent_label(args["agent_id"]), on=args["on"])
    elif action == "hang_up":
        if call.provider_call_id:
            adapter.hang_up(call.provider_call_id)
        if (
            call.interaction.direction == Interaction.Direction.OUTBOUND
            and call.interaction.agent_id
        ):
            adapter.remove_participant(conference, agent_label(call.interaction.agent_id))
    elif action == "consult":
        adapter.add_participant(conference, _agent_participant(call, args["agent_id"]))
    elif action == "voicemail":
        adapter.redirect(call.provider_call_id, twiml.voicemail_for(call))
    elif action == "drop":
        adapter.remove_participant(conference, agent_label(args["agent_id"]))
    elif action == "dial":
        adapter.add_participant(conference, _agent_participant(call, args["agent_id"]))
        sid = adapter.dial(
            to=call.interaction.customer_address,
            caller_id=call.interaction.service_address,
            twiml=twiml.into_conference(call),
            status_callback=public_url("twilio-voice-status", call=call.pk),
        )
        VoiceCall.objects.filter(pk=call.pk, provider_call_id="").update(provider_call_id=sid)
    else:
        raise TelephonyError(f"Unknown command {action!r}.", transient=False)


def command_attempts(*, call_id: int) -> int:
    """How often the call's next pending command was tried (the retry's backoff grows with it)."""
    pending = CallCommand.objects.filter(call_id=call_id, state=CallCommand.State.PENDING)
    return pending.order_by("id").values_list("attempts", flat=True).first() or 0


def commands_stuck(*, older_than: timedelta) -> list[int]:
    """Calls with a command pending for longer than ``older_than`` (a lost task): the sweep runs
    them again."""
    since = timezone.now() - older_than
    return list(
        CallCommand.objects.filter(state=CallCommand.State.PENDING, created_at__lt=since)
        .values_list("call_id", flat=True)
        .distinct()[:500]
    )
