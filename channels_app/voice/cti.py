"""CTI: a phone system (Asterisk, FreeSWITCH, a hosted PBX) reports its calls' steps, and the
contact center keeps the conversation: the caller recognized by number, the call a voice leg of
their conversation, the conversation popped on the desktop of the agent whose phone rings, and
the history (who answered, hold, transfers, talk time) in Activities.

The phone system queues and routes its calls itself (``Interaction.external_routing``): our
router never offers them; its events put the call on an agent. The audio never reaches us.

Every event is kept once per (call id, event, sequence) (``CtiEvent``): a repeated event changes
nothing. States only move forward (waiting → ringing → connected → ended), so an event that
arrives after a later one is kept and ignored; hold, resume and transfers are ordered by their
sequence numbers.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import NotFound, ValidationError
from contacts.models import Identity
from contacts.normalize import normalize_phone
from conversations.models import AgentProfile, Channel, Conversation, Interaction, Service
from conversations.services import (
    InboundRecord,
    inbound_receive,
    interaction_end,
    interaction_take,
)

from ..conversation_ops import AgentLine
from ..models import CallLeg, CtiEvent, EntryPoint, VoiceCall
from . import events
from .services import TALKING, call_connect, call_hold_set, call_line, call_publish, lock_call

PERMISSION = "channels_app.report_cti_calls"
PROVIDER = "cti"
#: Events that need the agent (extension or username) they happened on.
NEEDS_AGENT = (CtiEvent.Kind.RINGING, CtiEvent.Kind.TRANSFERRED)
#: A race lost to the same call's other event creating it runs once more (it then exists).
CREATE_ATTEMPTS = 2


@dataclass
class CtiReport:
    """One event as the phone system posts it (validated by the API)."""

    call_ref: str
    event: str
    sequence: int
    from_number: str = ""
    to_number: str = ""
    direction: str = Interaction.Direction.INBOUND
    agent: str = ""
    hangup_by: str = ""
    caller_name: str = ""


@dataclass
class CtiOutcome:
    call: VoiceCall
    duplicate: bool
    applied: bool


def cti_may_report(user: AbstractBaseUser) -> bool:
    return bool(user and user.is_active and user.has_perm(PERMISSION))


def _provider_call_id(call_ref: str) -> str:
    return f"{PROVIDER}:{call_ref}"


def cti_call_get(*, call_ref: str) -> VoiceCall:
    """The call the phone system knows as ``call_ref`` (NotFound if it never reported it)."""
    call = (
        VoiceCall.objects.select_related(
            "interaction__conversation__contact",
            "interaction__conversation__disposition",
            "interaction__conversation__service",
            "interaction__agent__agent_profile",
        )
        .filter(provider_call_id=_provider_call_id(call_ref))
        .first()
    )
    if call is None:
        raise NotFound(gettext("No call '%(call)s' was reported.") % {"call": call_ref})
    return call


def _agent_for(value: str) -> AbstractBaseUser:
    """The agent with this extension, else this username."""
    profile = (
        AgentProfile.objects.select_related("user")
        .filter(Q(extension=value) | Q(user__username=value), user__is_active=True)
        .order_by("-extension")  # an extension wins over a username that looks the same
        .first()
    )
    if profile is None:
        raise ValidationError(
            gettext("No agent has the extension or username '%(agent)s'.") % {"agent": value},
            field="agent",
        )
    return profile.user


def _numbers(report: CtiReport) -> tuple[str, str]:
    """(the customer's number in E.164, the number of ours that was called or called from)."""
    if report.direction == Interaction.Direction.OUTBOUND:
        customer, ours, field = report.to_number, report.from_number, "to"
    else:
        customer, ours, field = report.from_number, report.to_number, "from"
    return normalize_phone(customer, field=field), ours.strip()


def _service_for(number: str, agent: AbstractBaseUser | None) -> tuple[Service, str]:
    """The service of the voice entry point with ``number`` (as written, or in E.164), else the
    agent's first service."""
    candidates = {number}
    with suppress(ValidationError):  # an internal number (a queue, an extension): as written
        candidates.add(normalize_phone(number))
    entry_point = (
        EntryPoint.objects.select_related("service")
        .filter(channel=Channel.VOICE, active=True, address__in=candidates)
        .first()
    )
    if entry_point is not None:
        return entry_point.service, entry_point.address
    if agent is not None:
        service = Service.objects.filter(agents__user=agent).order_by("name").first()
        if service is not None:
            return service, number
    raise ValidationError(
        gettext(
            "No voice entry point has the number %(number)s: add it in the admin (Entry points, "
            "channel Voice) to choose the service of its calls."
        )
        % {"number": number or "—"},
        field="to",
    )


def cti_event_report(*, report: CtiReport) -> CtiOutcome:
    """Apply one event of the phone system: the call is created by its first event (whichever
    arrives first), then moved forward. Idempotent on (call id, event, sequence)."""
    agent = _agent_for(report.agent) if report.agent else None
    if agent is None and report.event in NEEDS_AGENT:
        raise ValidationError(
            gettext("Name the agent (extension or username) of this event."), field="agent"
        )
    call, created = _call_ensure(report, agent)
    with transaction.atomic(), realtime.publishing_batched():
        call = lock_call(call.pk)
        try:
            with transaction.atomic():
                event = CtiEvent.objects.create(
                    call_ref=report.call_ref,
                    event=report.event,
                    sequence=report.sequence,
                    call=call,
                    payload=_payload(report),
                )
        except IntegrityError:
            return CtiOutcome(call=call, duplicate=True, applied=False)
        applied = _apply(call, report, agent) or created
        if not applied:
            event.applied = False
            event.save(update_fields=["applied"])
        call.refresh_from_db()
    return CtiOutcome(call=call, duplicate=False, applied=applied)


def _payload(report: CtiReport) -> dict:
    return {
        "from": report.from_number,
        "to": report.to_number,
        "direction": report.direction,
        "agent": report.agent,
        "hangup_by": report.hangup_by,
        "caller_name": report.caller_name,
    }


def _call_ensure(report: CtiReport, agent: AbstractBaseUser | None) -> tuple[VoiceCall, bool]:
    """The call of ``report.call_ref`` (and whether this event created it), created with its
    conversation by the first event: the caller recognized by number, joining their open
    conversation (or one closed within the voice continuation window), else a new one."""
    provider_call_id = _provider_call_id(report.call_ref)
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        existing = VoiceCall.objects.filter(provider_call_id=provider_call_id).first()
        if existing is not None:
            return existing, False
        customer, ours = _numbers(report)
        service, service_address = _service_for(ours, agent)
        outbound = report.direction == Interaction.Direction.OUTBOUND
        if outbound and agent is None:
            raise ValidationError(
                gettext("Name the agent (extension or username) who makes the call."),
                field="agent",
            )
        first, _space, last = report.caller_name.strip().partition(" ")
        try:
            with transaction.atomic(), realtime.publishing_batched():
                call = _call_create(
                    record=InboundRecord(
                        channel=Channel.VOICE,
                        service=service,
                        identities=[(Identity.Kind.PHONE, customer)],
                        provider_id=provider_call_id,
                        customer_address=customer,
                        service_address=service_address,
                        first_name=first[:120],
                        last_name=last[:120],
                        external_routing=True,
                        own_leg=True,
                    ),
                    provider_call_id=provider_call_id,
                    outbound=outbound,
                    agent=agent,
                )
            return call, True
        except IntegrityError:
            if attempt == CREATE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _call_create(
    *,
    record: InboundRecord,
    provider_call_id: str,
    outbound: bool,
    agent: AbstractBaseUser | None,
) -> VoiceCall:
    result = inbound_receive(record=record)
    interaction = Interaction.objects.get(pk=result.message.interaction_id)
    conversation = Conversation.objects.select_for_update().get(pk=interaction.conversation_id)
    interaction.conversation = conversation
    if outbound:
        interaction.direction = Interaction.Direction.OUTBOUND
        interaction.save(update_fields=["direction"])
    call = VoiceCall.objects.create(
        interaction=interaction,
        kind=VoiceCall.Kind.PHONE,
        provider=PROVIDER,
        provider_call_id=provider_call_id,
        state=VoiceCall.State.QUEUED,
    )
    CallLeg.objects.create(call=call, party=CallLeg.Party.CUSTOMER)
    if outbound:
        call_line(call, AgentLine.VOICE_PHONE_OUTGOING, agent, number=record.customer_address)
        _ring_on(call, agent)
    else:
        call_line(call, AgentLine.VOICE_PHONE_INCOMING, number=record.customer_address)
        call_publish(call)
    return call


def _apply(call: VoiceCall, report: CtiReport, agent: AbstractBaseUser | None) -> bool:
    """Move the call (conversation and call locked) by one event; False when it changes nothing
    (the call is past that step, or a later hold/resume/transfer was applied already)."""
    kind = report.event
    if not call.is_live:
        return False
    if kind == CtiEvent.Kind.NEW:
        if agent is not None and call.interaction.agent_id != agent.pk:
            _ring_on(call, agent)
            return True
        return False
    if kind == CtiEvent.Kind.RINGING:
        if call.state not in (VoiceCall.State.QUEUED, VoiceCall.State.RINGING):
            return False
        if call.interaction.agent_id == agent.pk and call.state == VoiceCall.State.RINGING:
            return False
        _ring_on(call, agent)
        return True
    if kind == CtiEvent.Kind.ANSWERED:
        if call.state not in (VoiceCall.State.QUEUED, VoiceCall.State.RINGING):
            return False
        agent = agent or call.interaction.agent
        if agent is None:
            raise ValidationError(
                gettext("Name the agent (extension or username) who answered."), field="agent"
            )
        if call.interaction.agent_id != agent.pk:
            _ring_on(call, agent)
            call.refresh_from_db()
        call_connect(call, agent=agent)
        return True
    if kind in (CtiEvent.Kind.HOLD, CtiEvent.Kind.RESUME, CtiEvent.Kind.TRANSFERRED):
        if report.sequence <= call.provider_sequence:
            return False  # a later one of these was applied already
        call.provider_sequence = report.sequence
        call.save(update_fields=["provider_sequence"])
        if kind == CtiEvent.Kind.TRANSFERRED:
            if call.interaction.agent_id == agent.pk:
                return False
            _take(call, agent, transfer=True)
            _pop(call, agent)
            return True
        if call.state not in TALKING:
            return False
        return call_hold_set(call, hold=kind == CtiEvent.Kind.HOLD, user=call.interaction.agent)
    if kind == CtiEvent.Kind.HUNG_UP:
        reason = {
            "customer": VoiceCall.EndReason.CUSTOMER,
            "agent": VoiceCall.EndReason.AGENT,
        }.get(report.hangup_by, VoiceCall.EndReason.ENDED)
        inbound = call.interaction.direction == Interaction.Direction.INBOUND
        interaction_end(
            interaction=call.interaction,
            reason=reason,
            abandoned=call.answered_at is None and inbound,
        )
        return True
    return False


def _take(call: VoiceCall, agent: AbstractBaseUser, *, transfer: bool) -> None:
    interaction_take(
        interaction=call.interaction, user=agent, now=timezone.now(), transfer=transfer
    )
    call.refresh_from_db()


def _ring_on(call: VoiceCall, agent: AbstractBaseUser) -> None:
    """The phone system rings ``agent``'s phone: the call (and its conversation) becomes theirs,
    and their desktop pops the conversation."""
    if call.interaction.agent_id != agent.pk:
        _take(call, agent, transfer=False)
    legs = call.legs.filter(party=CallLeg.Party.AGENT, left_at__isnull=True)
    legs.exclude(agent=agent).update(left_at=timezone.now())  # it rang elsewhere first
    if not legs.filter(agent=agent).exists():
        CallLeg.objects.create(call=call, party=CallLeg.Party.AGENT, agent=agent)
    if call.state in (VoiceCall.State.QUEUED, VoiceCall.State.RINGING):
        call.state = VoiceCall.State.RINGING
        call.ringing_at = timezone.now()
        call.save(update_fields=["state", "ringing_at"])
        call_line(call, AgentLine.VOICE_PHONE_RINGING, agent)
        call_publish(call)
    _pop(call, agent)


def _pop(call: VoiceCall, agent: AbstractBaseUser) -> None:
    """The screen-pop: the agent's desktop opens the caller's conversation."""
    conversation = call.interaction.conversation
    realtime.publish(
        audiences=realtime.agent_audience(agent.pk),
        type=events.VOICE_SCREEN_POP,
        payload={
            "conversation_id": conversation.pk,
            "call_id": call.pk,
            "number": call.interaction.customer_address,
            "url": reverse("conversation-detail", args=[conversation.pk]),
        },
    )
