"""Writers of voice calls (web calls: the customer's widget and the agent's desktop in WebRTC).

The server never touches the audio. It keeps what happened (ringing, answered, on hold, ended,
who was on the call, the recording) and relays the browsers' signaling as events of the log: an
offer, an answer or an ICE candidate is one ``voice.signal`` event to the other party's audience
(the customer's ``chat.<session>``, the agent's ``softphone.<user>``), so a page that reconnects
reads what it missed like any other event. Every state change is a ``voice.call`` event to the
conversation's agents and to the customer, and a system line in the timeline.

Lock order, as everywhere: the conversation, then the call. Ending a call goes through
``conversations.services.interaction_end``; the voice lifecycle listener (``lifecycle.py``) then
closes the call, whoever ended the interaction (the agent's *End*, a supervisor, a hang-up).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound, ValidationError
from contactcenter.jobs import enqueue_on_commit
from conversations.models import Channel, Conversation, Interaction, Service
from conversations.selectors import conversation_audiences
from conversations.services import (
    InboundRecord,
    conference_invite,
    conversation_leave,
    inbound_receive,
    interaction_end,
    interaction_open,
    system_line_add,
)
from conversations.services.guards import agent_name, ensure_participant
from conversations.services.offers import offers_cancel_for

from ..conversation_ops import AgentLine
from ..models import CallLeg, CallRecording, ChatSession, VoiceCall, chat_audience
from ..webchat.config import chat_config
from ..webchat.services import session_identities
from . import events
from .commands import command_add
from .selectors import customer_call_view, live_call_for_session, server_time_ms

RING_TIMEOUT_TASK = "channels_app.tasks.voice_ring_timeout"
CTI = "cti"
TWILIO = "twilio"
TALKING = (VoiceCall.State.CONNECTED, VoiceCall.State.ON_HOLD)
SIGNAL_KINDS = ("offer", "answer", "ice", "renegotiate")
PEER = re.compile(r"^[A-Za-z0-9_-]{4,40}$")
DIGITS = re.compile(r"^[0-9*#]{1,20}$")
MAX_SIGNAL_CHARS = 16_000
MAX_RECORDING_CHUNK_BYTES = 2 * 1024 * 1024
#: A recording's last chunk may arrive a little after the hang-up.
RECORDING_GRACE = timedelta(minutes=2)


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


# --- Reads ----------------------------------------------------------------------------------------


def call_payload(call: VoiceCall) -> dict:
    """What the agents' pages are told about a call (``voice.call``); they re-read their
    fragments for the rest."""
    interaction = call.interaction
    return {
        "conversation_id": interaction.conversation_id,
        "interaction_id": interaction.pk,
        "call_id": call.pk,
        "agent_id": interaction.agent_id,
        "kind": call.kind,
        "state": call.state,
        "end_reason": call.end_reason,
        "consult_agent_id": call.consult_agent_id,
        "consult_state": call.consult_state,
    }


# --- Locks ----------------------------------------------------------------------------------------


def lock_call(call_id: int) -> VoiceCall:
    """The call's conversation, then the call, locked (NotFound if there is no such call)."""
    conversation_id = (
        Interaction.objects.filter(voice_call__pk=call_id).values_list("conversation_id").first()
    )
    if conversation_id is None:
        raise NotFound(gettext("Call not found."))
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id[0])
    call = (
        VoiceCall.objects.select_for_update(of=("self",))
        .select_related("interaction", "chat_session")
        .get(pk=call_id)
    )
    call.interaction.conversation = conversation
    return call


def _lock_call_of_customer(*, call_id: int, session_id: int, visitor_id: str) -> VoiceCall:
    call = lock_call(call_id)
    session = call.chat_session
    if session is None or session.pk != session_id or session.visitor_id != visitor_id:
        raise NotFound(gettext("Call not found."))
    return call


def _lock_call_of_agent(*, call_id: int, user: AbstractBaseUser) -> VoiceCall:
    """A call the agent controls from the desktop (not one on a phone system's phones)."""
    call = lock_call(call_id)
    ensure_participant(call.interaction.conversation, user, allow_closed=True)
    if call.provider == "cti":
        raise InvalidState(
            gettext("This call is on the phone system: answer, hold and hang up on your phone.")
        )
    return call


def call_publish(call: VoiceCall, *, also: list[str] | None = None) -> None:
    """Tell the call's change (``voice.call``) to the conversation's agents, ``also`` and the
    customer's widget; the version tells a page which view is newer."""
    call.version += 1
    call.save(update_fields=["version"])
    conversation = call.interaction.conversation
    realtime.publish(
        audiences=[*conversation_audiences(conversation), *(also or [])],
        type=events.VOICE_CALL,
        payload=call_payload(call),
    )
    if call.chat_session_id:
        realtime.publish(
            audiences=chat_audience(call.chat_session_id),
            type=events.VOICE_CALL,
            payload=customer_call_view(call),
        )


def call_line(
    call: VoiceCall, text, user: AbstractBaseUser | None = None, **params: object
) -> None:
    """A system line of the call in its conversation's timeline (``name``: the agent's)."""
    if user is not None:
        params.setdefault("name", agent_name(user))
    system_line_add(
        conversation=call.interaction.conversation,
        interaction=call.interaction,
        text=text,
        params=params,
        sender=user,
    )


def _ensure_live(call: VoiceCall) -> None:
    if call.state == VoiceCall.State.ENDED:
        raise InvalidState(gettext("The call has ended."))


# --- Starting and answering -----------------------------------------------------------------------


def web_call_start(*, conversation_id: int, user: AbstractBaseUser) -> VoiceCall:
    """The agent calls the customer in the browser of their open web chat: the widget rings
    (Answer / Decline) for ``VOICE_RING_SECONDS``."""
    with transaction.atomic():
        conversation = lock_conversation_for_call(conversation_id, user)
        session = (
            ChatSession.objects.select_for_update(of=("self",))
            .filter(conversation_id=conversation.pk, state=ChatSession.State.OPEN)
            .order_by("-created_at", "-id")
            .first()
        )
        if session is None:
            raise InvalidState(
                gettext("The customer has no open web chat: there is no browser to call.")
            )
        interaction = interaction_open(
            conversation=conversation,
            channel=Channel.VOICE,
            user=user,
            answered=False,
        )
        call = VoiceCall.objects.create(
            interaction=interaction,
            kind=VoiceCall.Kind.WEB,
            chat_session=session,
            recording_mode=conversation.service.call_recording,
        )
        CallLeg.objects.create(call=call, party=CallLeg.Party.AGENT, agent=user)
        call_line(call, AgentLine.VOICE_CALLING, user)
        call_publish(call)
        enqueue_on_commit(RING_TIMEOUT_TASK, call.pk, countdown=settings.VOICE_RING_SECONDS)
    return call


def lock_conversation_for_call(conversation_id: int, user: AbstractBaseUser) -> Conversation:
    """The conversation, locked, in which the agent starts a call: one they take part in, open,
    with no call going on, while they are on no other call."""
    conversation = (
        Conversation.objects.select_for_update()
        .select_related("service", "contact")
        .filter(pk=conversation_id)
    ).first()
    if conversation is None:
        raise NotFound(gettext("Conversation not found."))
    ensure_participant(conversation, user)
    if conversation.status != Conversation.Status.OPEN:
        raise InvalidState(gettext("The conversation is in wrap-up; no call can start."))
    live = VoiceCall.objects.exclude(state=VoiceCall.State.ENDED)
    if live.filter(interaction__conversation_id=conversation.pk).exists():
        raise InvalidState(gettext("A call is already in progress in this conversation."))
    if live.filter(interaction__agent_id=user.pk).exists():
        raise InvalidState(gettext("You are already on a call."))
    return conversation


def web_call_request(*, session_id: int, visitor_id: str) -> VoiceCall:
    """The customer calls from the widget ("Call us"): an inbound voice interaction of their
    contact's conversation. During a chat an agent handles, it rings on that agent's desktop;
    otherwise it waits in the service's queue and is offered like any call (voice capacity:
    only an agent with nothing else on gets it). Asking again while a call is live returns it."""
    with transaction.atomic():
        session = _lock_session_for_call(session_id, visitor_id)
        live = live_call_for_session(session.pk)
        if live is not None:
            return live
        if not chat_config(session.entry_point).web_calls:
            raise InvalidState(gettext("Calls are not offered on this chat."))
        number = VoiceCall.objects.filter(chat_session=session).count() + 1
        result = inbound_receive(
            record=InboundRecord(
                channel=Channel.VOICE,
                service=session.entry_point.service,
                identities=session_identities(session),
                provider_id=f"webcall:{session.pk}:{number}",
                body=session.question if number == 1 and session.interaction_id is None else "",
                service_address=session.entry_point.address,
                first_name=session.first_name,
                last_name=session.last_name,
            )
        )
        interaction = Interaction.objects.select_related("conversation__service").get(
            pk=result.message.interaction_id
        )
        conversation = Conversation.objects.select_for_update().get(pk=interaction.conversation_id)
        interaction.conversation = conversation
        if session.conversation_id != conversation.pk:
            session.conversation_id = conversation.pk
            session.save(update_fields=["conversation"])
        ringing = interaction.state == Interaction.State.ACTIVE
        call = VoiceCall.objects.create(
            interaction=interaction,
            kind=VoiceCall.Kind.WEB,
            chat_session=session,
            state=VoiceCall.State.RINGING if ringing else VoiceCall.State.QUEUED,
            recording_mode=conversation.service.call_recording,
        )
        CallLeg.objects.create(call=call, party=CallLeg.Party.CUSTOMER)
        call_line(call, AgentLine.VOICE_REQUESTED)
        if ringing:  # the agent of the chat: their desktop rings
            CallLeg.objects.create(call=call, party=CallLeg.Party.AGENT, agent=interaction.agent)
            enqueue_on_commit(RING_TIMEOUT_TASK, call.pk, countdown=settings.VOICE_RING_SECONDS)
        call_publish(call)
    return call


def _lock_session_for_call(session_id: int, visitor_id: str) -> ChatSession:
    conversation_id = (
        ChatSession.objects.filter(pk=session_id, visitor_id=visitor_id)
        .values_list("conversation_id", flat=True)
        .first()
    )
    if conversation_id:
        list(Conversation.objects.select_for_update().filter(pk=conversation_id).values("pk"))
    session = (
        ChatSession.objects.select_for_update(of=("self",))
        .select_related("entry_point__service")
        .filter(pk=session_id, visitor_id=visitor_id)
        .first()
    )
    if session is None:
        raise NotFound(gettext("This chat does not exist."), field="session")
    if not session.is_open:
        raise InvalidState(gettext("This chat has ended."), field="session")
    return session


def call_answer(*, call_id: int, user: AbstractBaseUser) -> VoiceCall:
    """The agent answers a call ringing on their desktop (the customer called during the chat)."""
    with transaction.atomic():
        call = _lock_call_of_agent(call_id=call_id, user=user)
        _ensure_live(call)
        if call.state != VoiceCall.State.RINGING:
            return call
        if call.interaction.direction != Interaction.Direction.INBOUND:
            raise InvalidState(gettext("The customer answers this call, not you."))
        if call.interaction.agent_id != user.pk:
            raise NotFound(gettext("Call not found."))
        if call.provider == TWILIO:
            # Twilio rings the agent's phone into the call; its callbacks say when it is answered.
            ringing = call.commands.filter(action="connect").exclude(state="failed")
            if not ringing.exists():
                command_add(call, "connect", agent_id=user.pk)
            return call
        call_connect(call, agent=user)
    return call


def call_connect(call: VoiceCall, *, agent: AbstractBaseUser) -> None:
    """An inbound call an agent took: connected now (the customer is already on the line).
    The conversation and the call are locked by the caller."""
    now = timezone.now()
    call.state = VoiceCall.State.CONNECTED
    call.answered_at = call.answered_at or now  # talk time runs from the first answer
    call.save(update_fields=["state", "answered_at"])
    Interaction.objects.filter(pk=call.interaction_id).update(answered_at=now)
    if not call.legs.filter(party=CallLeg.Party.AGENT, agent=agent, left_at__isnull=True).exists():
        CallLeg.objects.create(call=call, party=CallLeg.Party.AGENT, agent=agent, joined_at=now)
    call_line(call, AgentLine.VOICE_TAKEN, agent)
    if call.recording_mode != "off":
        call_line(call, AgentLine.VOICE_RECORDED)
    call_publish(call)


def call_assigned(call: VoiceCall, *, agent_id: int) -> None:
    """The lifecycle listener: an agent accepted the offer of a queued call."""
    if call.state not in (VoiceCall.State.QUEUED, VoiceCall.State.RINGING):
        return
    agent = get_user_model().objects.select_related("agent_profile").get(pk=agent_id)
    if call.provider == CTI:
        return  # it rings on the agent's phone: the phone system says when it is answered
    if call.provider == TWILIO:
        command_add(call, "connect", agent_id=agent.pk)
        return
    call_connect(call, agent=agent)


def call_transferred(
    call: VoiceCall, *, agent_id: int | None, previous_agent_id: int | None, service_name: str
) -> None:
    """The lifecycle listener: the call was handed to another agent (who accepted) or sent to a
    service's queue. The previous agent's leg ends there (their desktop drops the audio); the
    new agent's desktop connects it; a queued call waits again (the customer hears a ringback)."""
    if not call.is_live:
        return
    now = timezone.now()
    previous_legs = call.legs.filter(
        party=CallLeg.Party.AGENT, left_at__isnull=True, agent_id=previous_agent_id
    )
    leg = previous_legs.order_by("-joined_at").first()
    talked = _minutes(max(0, int((now - leg.joined_at).total_seconds()))) if leg else "0:00"
    previous_legs.update(left_at=now)
    users = get_user_model().objects.select_related("agent_profile")
    previous = users.filter(pk=previous_agent_id).first() if previous_agent_id else None
    call.interaction.agent_id = agent_id  # the listener runs before the interaction is saved
    consulted = bool(call.consult_agent_id and call.consult_agent_id == agent_id)
    if consulted:
        # The consulted colleague takes the call: their consultation leg ends, their call starts.
        call.legs.filter(party=CallLeg.Party.CONSULTED, left_at__isnull=True).update(left_at=now)
        _consult_clear(call)
        _resume_locked(call)
    if agent_id:
        agent = users.get(pk=agent_id)
        CallLeg.objects.create(call=call, party=CallLeg.Party.AGENT, agent=agent, joined_at=now)
        call_line(
            call,
            AgentLine.VOICE_HANDED_OVER,
            agent,
            previous=agent_name(previous),
            duration=talked,
        )
    else:
        call.hold_seconds = call.total_hold_seconds(now)
        call.hold_started_at = None
        call.state = VoiceCall.State.QUEUED
        call.save(update_fields=["state", "hold_seconds", "hold_started_at"])
        if leg is not None:  # they talked: how long (a call never answered has no such line)
            call_line(
                call,
                AgentLine.VOICE_SENT_TO_QUEUE,
                previous=agent_name(previous),
                service=service_name,
                duration=talked,
            )
    # The agent who had the call hears of it too: their desktop drops the audio.
    call_publish(
        call, also=[realtime.agent_audience(previous_agent_id)] if previous_agent_id else []
    )
    if call.provider == TWILIO:
        if agent_id and consulted:  # already in the conference: the first agent leaves it
            command_add(call, "drop", agent_id=previous_agent_id)
        elif agent_id:
            command_add(call, "transfer", agent_id=agent_id, previous_agent_id=previous_agent_id)
        else:
            command_add(call, "requeue", previous_agent_id=previous_agent_id)


# --- Consulting another agent, conference ----------------------------------------------------


def _lock_own_call(call_id: int, user: AbstractBaseUser) -> VoiceCall:
    call = _lock_call_of_agent(call_id=call_id, user=user)
    if call.interaction.agent_id != user.pk:
        raise InvalidState(gettext("Only the agent on the call can do that."))
    if call.state not in TALKING:
        raise InvalidState(gettext("There is no call going on."))
    return call


def call_consult(*, call_id: int, user: AbstractBaseUser, target_id: int) -> VoiceCall:
    """The agent on the call consults another agent: the customer goes on hold, the colleague is
    offered to join the conversation; once they accept, the two talk (the agent's desktop carries
    both connections), then the agent hands the call over or merges the three."""
    with transaction.atomic():
        call = _lock_own_call(call_id, user)
        if call.consult_state:
            raise InvalidState(gettext("A consultation is already going on."))
        target = (
            get_user_model()
            .objects.select_related("agent_profile")
            .filter(pk=target_id, agent_profile__isnull=False)
            .exclude(pk=user.pk)
            .first()
        )
        if target is None:
            raise ValidationError(gettext("Choose another agent."), field="agent")
        busy = VoiceCall.objects.exclude(state=VoiceCall.State.ENDED).filter(
            Q(interaction__agent=target) | Q(consult_agent=target)
        )
        if busy.exists():
            raise InvalidState(
                gettext("%(name)s is on a call.") % {"name": agent_name(target)}, field="agent"
            )
        conference_invite(
            conversation=call.interaction.conversation,
            user=user,
            target=target,
            interaction_id=call.interaction_id,
        )
        now = timezone.now()
        if call.provider == TWILIO:
            if call.state == VoiceCall.State.CONNECTED:
                command_add(call, "hold", on=True)  # the conference's callback holds the call
        elif call.state == VoiceCall.State.CONNECTED:
            call.state = VoiceCall.State.ON_HOLD
            call.hold_started_at = now
        call.consult_agent = target
        call.consult_state = "ringing"
        call.save(update_fields=["state", "hold_started_at", "consult_agent", "consult_state"])
        call_line(call, AgentLine.VOICE_CONSULTING, user, target=agent_name(target))
        call_publish(call)
    return call


def call_consult_cancel(*, call_id: int, user: AbstractBaseUser) -> VoiceCall:
    """End the consultation (or the conference): the colleague leaves; the customer stays on
    hold until the agent resumes."""
    with transaction.atomic():
        call = _lock_own_call(call_id, user)
        if not call.consult_state:
            return call
        colleague = call.consult_agent
        if call.consult_state == "ringing":
            offers_cancel_for(interaction=call.interaction)
            _consult_clear(call)
            call_line(call, AgentLine.VOICE_CONSULT_CANCELLED, user)
            call_publish(call, also=_agent_audiences(colleague))
            return call
        if call.consult_state == "conference":
            _hold_locked(call)
        conversation_leave(conversation=call.interaction.conversation, user=colleague)
        call.refresh_from_db()
        if call.consult_agent_id:  # the leave was told to a newer leg (the chat): close it here
            consult_left(call, agent_id=colleague.pk)
    return call


def call_merge(*, call_id: int, user: AbstractBaseUser) -> VoiceCall:
    """The three talk together: the customer comes off hold, the agent's desktop mixes each side
    for the other two."""
    with transaction.atomic():
        call = _lock_own_call(call_id, user)
        if call.consult_state != "talking":
            raise InvalidState(gettext("Consult a colleague first, and wait for them to answer."))
        _resume_locked(call)
        call.consult_state = "conference"
        call.save(update_fields=["consult_state"])
        call_line(call, AgentLine.VOICE_CONFERENCE, user, target=agent_name(call.consult_agent))
        call_publish(call)
    return call


def call_consult_transfer(*, call_id: int, user: AbstractBaseUser) -> VoiceCall:
    """Complete the transfer to the consulted colleague: the agent leaves, the colleague has the
    conversation and the call (the customer comes off hold with them)."""
    with transaction.atomic():
        call = _lock_own_call(call_id, user)
        if call.consult_state not in ("talking", "conference"):
            raise InvalidState(gettext("Consult a colleague first, and wait for them to answer."))
        colleague_id = call.consult_agent_id
        _resume_locked(call)
        conversation_leave(conversation=call.interaction.conversation, user=user)
        call.refresh_from_db()
        if call.consult_agent_id:  # the handover was told to a newer leg (the chat)
            call_transferred(
                call, agent_id=colleague_id, previous_agent_id=user.pk, service_name=""
            )
    return call


def _hold_locked(call: VoiceCall) -> None:
    if call.provider == TWILIO:
        if call.state == VoiceCall.State.CONNECTED:
            command_add(call, "hold", on=True)
        return
    if call.state == VoiceCall.State.CONNECTED:
        call.state = VoiceCall.State.ON_HOLD
        call.hold_started_at = timezone.now()
        call.save(update_fields=["state", "hold_started_at"])


def _resume_locked(call: VoiceCall) -> None:
    if call.provider == TWILIO:
        # Twilio takes the customer off hold; the conference's callback resumes the call. (A
        # hold still on its way is taken back by this command, sent after it.)
        command_add(call, "hold", on=False)
        return
    if call.state == VoiceCall.State.ON_HOLD:
        call.hold_seconds = call.total_hold_seconds()
        call.hold_started_at = None
        call.state = VoiceCall.State.CONNECTED
        call.save(update_fields=["state", "hold_started_at", "hold_seconds"])


def _agent_audiences(*users) -> list[str]:
    return [realtime.agent_audience(user.pk) for user in users if user is not None]


def _consult_clear(call: VoiceCall) -> None:
    call.consult_agent = None
    call.consult_state = ""
    call.save(update_fields=["consult_agent", "consult_state"])


def consult_joined(call: VoiceCall, *, agent_id: int) -> None:
    """The lifecycle listener: the consulted colleague accepted (joined the conversation)."""
    if call.consult_agent_id != agent_id or call.consult_state != "ringing":
        return
    call.consult_state = "talking"
    call.save(update_fields=["consult_state"])
    CallLeg.objects.create(call=call, party=CallLeg.Party.CONSULTED, agent_id=agent_id)
    if call.provider == TWILIO:  # the colleague's phone is rung into the call's conference
        command_add(call, "consult", agent_id=agent_id)
    call_publish(call)


def consult_left(call: VoiceCall, *, agent_id: int) -> None:
    """The lifecycle listener: the consulted colleague left the conversation (the consultation
    or the conference is over for them)."""
    if call.consult_agent_id != agent_id:
        return
    colleague = call.consult_agent
    now = timezone.now()
    legs = call.legs.filter(party=CallLeg.Party.CONSULTED, agent_id=agent_id, left_at__isnull=True)
    leg = legs.order_by("-joined_at").first()
    legs.update(left_at=now)
    _consult_clear(call)
    if call.provider == TWILIO and leg is not None:
        command_add(call, "drop", agent_id=agent_id)
    if leg is not None:
        talked = _minutes(max(0, int((now - leg.joined_at).total_seconds())))
        call_line(call, AgentLine.VOICE_CONSULT_LEFT, target=agent_name(colleague), duration=talked)
    call_publish(call, also=_agent_audiences(colleague))


def call_waiting(call: VoiceCall) -> None:
    """The lifecycle listener: the call went (back) to the queue or is being offered."""
    if call.state == VoiceCall.State.QUEUED:
        return
    call.state = VoiceCall.State.QUEUED
    call.save(update_fields=["state"])
    call_publish(call)


def web_call_answer(*, call_id: int, session_id: int, visitor_id: str) -> VoiceCall:
    """The customer answered in the widget (a repeated answer changes nothing)."""
    with transaction.atomic():
        call = _lock_call_of_customer(call_id=call_id, session_id=session_id, visitor_id=visitor_id)
        _ensure_live(call)
        if call.interaction.direction == Interaction.Direction.INBOUND:
            raise InvalidState(gettext("You are calling us: an agent will answer."))
        if call.state != VoiceCall.State.RINGING:
            return call
        call_answered(call)
    return call


def call_answered(call: VoiceCall) -> None:
    """The customer answered a call we made (conversation and call locked)."""
    now = timezone.now()
    call.state = VoiceCall.State.CONNECTED
    call.answered_at = now
    call.save(update_fields=["state", "answered_at"])
    Interaction.objects.filter(pk=call.interaction_id).update(answered_at=now)
    call.interaction.answered_at = now
    customer_legs = call.legs.filter(party=CallLeg.Party.CUSTOMER, left_at__isnull=True)
    if not customer_legs.update(joined_at=now):
        CallLeg.objects.create(call=call, party=CallLeg.Party.CUSTOMER, joined_at=now)
    call_line(call, AgentLine.VOICE_ANSWERED)
    if call.recording_mode != "off":
        call_line(call, AgentLine.VOICE_RECORDED)
    call_publish(call)


def web_call_decline(*, call_id: int, session_id: int, visitor_id: str) -> VoiceCall:
    with transaction.atomic():
        call = _lock_call_of_customer(call_id=call_id, session_id=session_id, visitor_id=visitor_id)
        if call.state == VoiceCall.State.RINGING:
            interaction_end(
                interaction=call.interaction, reason=VoiceCall.EndReason.DECLINED, abandoned=False
            )
            call.refresh_from_db()
    return call


def call_ring_expire(*, call_id: int, now: datetime | None = None) -> bool:
    """A call still ringing after ``VOICE_RING_SECONDS`` ends unanswered (the ring timeout job)."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            call = lock_call(call_id)
        except NotFound:
            return False
        due = call.ringing_at + timedelta(seconds=settings.VOICE_RING_SECONDS)
        if call.state != VoiceCall.State.RINGING or due > now:
            return False
        if call.provider == TWILIO:
            answering = call.commands.filter(action="connect").exclude(state="failed")
            if call.interaction.direction != Interaction.Direction.INBOUND or answering.exists():
                return False  # their phone rings now: Twilio's callbacks say what happens
            # The agent did not answer on the desktop: the caller may leave a voicemail.
            command_add(call, "voicemail")
        interaction_end(
            interaction=call.interaction, reason=VoiceCall.EndReason.NO_ANSWER, abandoned=False
        )
    return True


def _gone_since(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.VOICE_PARTY_GONE_SECONDS)


def calls_gone_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Live web calls whose customer's widget or agent's desktop has not been heard from for
    ``VOICE_PARTY_GONE_SECONDS`` (a closed tab, a dead laptop): candidates, each re-checked."""
    gone = _gone_since(now or timezone.now())
    live = VoiceCall.objects.filter(kind=VoiceCall.Kind.WEB).exclude(state=VoiceCall.State.ENDED)
    customer_gone = live.filter(chat_session__customer_seen_at__lt=gone)
    agent_gone = live.filter(
        state__in=TALKING, interaction__agent__agent_profile__last_seen_at__lt=gone
    )
    return sorted(
        set(customer_gone.values_list("id", flat=True)[:limit])
        | set(agent_gone.values_list("id", flat=True)[:limit])
    )


def call_gone_check(*, call_id: int, now: datetime | None = None) -> str:
    """End the call if one side is still gone under the lock: "customer", "agent" or ""."""
    now = now or timezone.now()
    gone = _gone_since(now)
    with transaction.atomic():
        try:
            call = lock_call(call_id)
        except NotFound:
            return ""
        if call.state == VoiceCall.State.ENDED:
            return ""
        session = call.chat_session
        agent = call.interaction.agent
        profile = getattr(agent, "agent_profile", None) if agent else None
        talking = call.state in TALKING
        if session is not None and session.customer_seen_at and session.customer_seen_at < gone:
            reason, side = VoiceCall.EndReason.CUSTOMER_GONE, "customer"
        elif talking and profile and profile.last_seen_at and profile.last_seen_at < gone:
            reason, side = VoiceCall.EndReason.AGENT_GONE, "agent"
        else:
            return ""
        abandoned = call.answered_at is None and side == "customer"
        interaction_end(interaction=call.interaction, reason=reason, abandoned=abandoned)
    return side


# --- During the call ------------------------------------------------------------------------------


def call_hold(*, call_id: int, user: AbstractBaseUser, hold: bool) -> VoiceCall:
    """Put the customer on hold (their audio from the agent stops; the widget plays the hold
    tone) or take them off it. Asking for the state the call is in changes nothing."""
    with transaction.atomic():
        call = _lock_call_of_agent(call_id=call_id, user=user)
        _ensure_live(call)
        if call.state == VoiceCall.State.RINGING:
            raise InvalidState(gettext("The customer has not answered yet."))
        if call.provider == TWILIO:
            if call.state in TALKING:  # the conference's callback moves the call
                command_add(call, "hold", on=hold)
            return call
        call_hold_set(call, hold=hold, user=user)
    return call


def call_hold_set(call: VoiceCall, *, hold: bool, user: AbstractBaseUser | None) -> bool:
    """Hold or resume a call that is talking (conversation and call locked); False when it is
    in that state already."""
    now = timezone.now()
    if hold and call.state == VoiceCall.State.CONNECTED:
        call.state = VoiceCall.State.ON_HOLD
        call.hold_started_at = now
        call_line(call, AgentLine.VOICE_HELD, user)
    elif not hold and call.state == VoiceCall.State.ON_HOLD:
        call.hold_seconds = call.total_hold_seconds(now)
        call.hold_started_at = None
        call.state = VoiceCall.State.CONNECTED
        call_line(call, AgentLine.VOICE_RESUMED, user)
    else:
        return False
    call.save(update_fields=["state", "hold_started_at", "hold_seconds"])
    call_publish(call)
    return True


def call_mute(*, call_id: int, user: AbstractBaseUser, mute: bool) -> VoiceCall:
    """Mute the agent's line of a phone call at the provider (a web call's microphone is muted
    in the agent's browser)."""
    with transaction.atomic():
        call = _lock_call_of_agent(call_id=call_id, user=user)
        _ensure_live(call)
        if call.provider != TWILIO:
            raise InvalidState(gettext("Mute this call with the Mute button of your browser."))
        if call.interaction.agent_id != user.pk:
            raise NotFound(gettext("Call not found."))
        if call.agent_muted != mute:
            command_add(call, "mute", agent_id=user.pk, on=mute)
    return call


def call_dtmf(*, call_id: int, user: AbstractBaseUser, digits: str) -> VoiceCall:
    """Keys the agent pressed on the call's keypad (also played in the call by the browser),
    written in the timeline."""
    digits = (digits or "").strip()
    if not DIGITS.match(digits):
        raise ValidationError(gettext("Keys are 0-9, * and #, up to 20 at once."), field="digits")
    with transaction.atomic():
        call = _lock_call_of_agent(call_id=call_id, user=user)
        _ensure_live(call)
        if call.state == VoiceCall.State.RINGING:
            raise InvalidState(gettext("The customer has not answered yet."))
        call_line(call, AgentLine.VOICE_DTMF, user, digits=digits)
    return call


def call_hang_up(*, call_id: int, user: AbstractBaseUser) -> VoiceCall:
    with transaction.atomic():
        call = _lock_call_of_agent(call_id=call_id, user=user)
        if call.provider == TWILIO and call.is_live:
            # Twilio hangs up; the call ends when its status callback says so.
            if not call.commands.filter(action="hang_up", state="pending").exists():
                command_add(call, "hang_up")
            return call
        if call.is_live:
            interaction_end(
                interaction=call.interaction, reason=VoiceCall.EndReason.AGENT, abandoned=False
            )
            call.refresh_from_db()
    return call


def customer_hang_up(*, call_id: int, session_id: int, visitor_id: str) -> VoiceCall:
    with transaction.atomic():
        call = _lock_call_of_customer(call_id=call_id, session_id=session_id, visitor_id=visitor_id)
        outbound = call.interaction.direction == Interaction.Direction.OUTBOUND
        if call.state == VoiceCall.State.RINGING and outbound:
            reason = VoiceCall.EndReason.DECLINED
        else:
            reason = VoiceCall.EndReason.CUSTOMER
        if call.is_live:
            # Hanging up before any agent answered is an abandon (reports count it).
            abandoned = call.answered_at is None and not outbound
            interaction_end(interaction=call.interaction, reason=reason, abandoned=abandoned)
            call.refresh_from_db()
    return call


def call_ended(call: VoiceCall, *, reason: str, user: AbstractBaseUser | None = None) -> None:
    """Close a live call whose interaction just ended (the lifecycle listener, conversation and
    call locked): legs left, hold counted, the line with talk and hold time, everyone told."""
    now = timezone.now()
    call.hold_seconds = call.total_hold_seconds(now)
    call.hold_started_at = None
    call.end_reason = reason if reason in VoiceCall.EndReason.values else VoiceCall.EndReason.ENDED
    call.state = VoiceCall.State.ENDED
    call.ended_at = now
    call.save(update_fields=["state", "end_reason", "ended_at", "hold_started_at", "hold_seconds"])
    call.legs.filter(left_at__isnull=True).update(left_at=now)
    if (
        call.provider == TWILIO
        and call.provider_status not in ("completed", "busy", "no-answer", "failed", "canceled")
        and call.end_reason != VoiceCall.EndReason.VOICEMAIL
        and not call.commands.filter(action="voicemail").exists()
    ):
        command_add(call, "hang_up")  # ended here (End, a supervisor): the caller too
    times = {"duration": _minutes(call.talk_seconds(now)), "hold": _minutes(call.hold_seconds)}
    if call.answered_at is None:
        if call.interaction.direction == Interaction.Direction.INBOUND:
            gone = (VoiceCall.EndReason.CUSTOMER, VoiceCall.EndReason.CUSTOMER_GONE)
            text = AgentLine.VOICE_ABANDONED if call.end_reason in gone else AgentLine.VOICE_MISSED
        elif call.end_reason == VoiceCall.EndReason.DECLINED:
            text = AgentLine.VOICE_DECLINED
        else:
            text = AgentLine.VOICE_NO_ANSWER
        call_line(call, text)
    elif call.end_reason == VoiceCall.EndReason.CUSTOMER:
        call_line(call, AgentLine.VOICE_ENDED_BY_CUSTOMER, **times)
    elif call.end_reason == VoiceCall.EndReason.AGENT:
        call_line(call, AgentLine.VOICE_ENDED_BY_AGENT, call.interaction.agent, **times)
    elif call.end_reason == VoiceCall.EndReason.CUSTOMER_GONE:
        call_line(call, AgentLine.VOICE_CUSTOMER_GONE, **times)
    elif call.end_reason == VoiceCall.EndReason.AGENT_GONE:
        call_line(call, AgentLine.VOICE_AGENT_GONE, call.interaction.agent, **times)
    else:
        call_line(call, AgentLine.VOICE_ENDED, **times)
    call_publish(call)


# --- Signaling ------------------------------------------------------------------------------------


def _signal_fields(*, kind: str, peer: str, data: object) -> tuple[str, str, object]:
    if kind not in SIGNAL_KINDS:
        raise ValidationError(gettext("Unknown signal."), field="kind")
    if not isinstance(peer, str) or not PEER.match(peer):
        raise ValidationError(gettext("The signal names no peer connection."), field="peer")
    if len(json.dumps(data)) > MAX_SIGNAL_CHARS:
        raise ValidationError(gettext("The signal is too large."), field="data")
    return kind, peer, data


SIGNAL_TARGETS = ("customer", "consult", "owner")


def agent_signal(
    *,
    call_id: int,
    user: AbstractBaseUser,
    kind: str,
    peer: str,
    data: object,
    to: str = "customer",
) -> None:
    """An agent's browser -> the other side of one of its connections: the customer's widget
    (from the agent on the call), the consulted colleague's desktop (from the agent on the
    call), or the agent on the call (from the colleague)."""
    kind, peer, data = _signal_fields(kind=kind, peer=peer, data=data)
    if to not in SIGNAL_TARGETS:
        raise ValidationError(gettext("Unknown signal."), field="to")
    with transaction.atomic():
        call = (
            VoiceCall.objects.select_for_update().select_related("interaction").filter(pk=call_id)
        )
        if to == "owner":
            call = call.filter(consult_agent_id=user.pk).first()
        else:
            call = call.filter(interaction__agent_id=user.pk).first()
        if call is None:
            raise NotFound(gettext("Call not found."))
        _ensure_live(call)
        payload = {
            "conversation_id": call.interaction.conversation_id,
            "call_id": call.pk,
            "kind": kind,
            "peer": peer,
            "data": data,
            "at": server_time_ms(),
        }
        if to == "customer":
            if call.chat_session_id:
                payload.pop("conversation_id")
                realtime.publish(
                    audiences=chat_audience(call.chat_session_id),
                    type=events.VOICE_SIGNAL,
                    payload=payload,
                )
            return
        if to == "consult" and not call.consult_agent_id:
            raise InvalidState(gettext("Nobody is being consulted."))
        target = call.consult_agent_id if to == "consult" else call.interaction.agent_id
        realtime.publish(
            audiences=realtime.softphone_audience(target),
            type=events.VOICE_SIGNAL,
            payload={**payload, "from": "owner" if to == "consult" else "consult"},
        )


def customer_signal(
    *, call_id: int, session_id: int, visitor_id: str, kind: str, peer: str, data: object
) -> None:
    """The customer's widget -> the agent's desktop (answer, ICE candidates, "renegotiate" after
    the widget reloaded)."""
    kind, peer, data = _signal_fields(kind=kind, peer=peer, data=data)
    with transaction.atomic():
        call = (
            VoiceCall.objects.select_for_update()
            .select_related("interaction")
            .filter(pk=call_id, chat_session_id=session_id, chat_session__visitor_id=visitor_id)
            .first()
        )
        if call is None:
            raise NotFound(gettext("Call not found."))
        _ensure_live(call)
        if call.interaction.agent_id:
            realtime.publish(
                audiences=realtime.softphone_audience(call.interaction.agent_id),
                type=events.VOICE_SIGNAL,
                payload={
                    "conversation_id": call.interaction.conversation_id,
                    "call_id": call.pk,
                    "kind": kind,
                    "peer": peer,
                    "data": data,
                    "from": "customer",
                },
            )


# --- Recordings -----------------------------------------------------------------------------------


def recording_chunk_append(
    *, call_id: int, user: AbstractBaseUser, segment: str, seq: int, data: bytes
) -> CallRecording:
    """Append chunk ``seq`` of the agent browser's recording ``segment`` (chunks in order from 0;
    one already stored is not stored again, one that skips ahead is refused)."""
    if not isinstance(segment, str) or not PEER.match(segment):
        raise ValidationError(gettext("The recording names no segment."), field="segment")
    if seq < 0:
        raise ValidationError(gettext("The chunk number is not valid."), field="seq")
    if not data:
        raise ValidationError(gettext("The chunk is empty."), field="data")
    if len(data) > MAX_RECORDING_CHUNK_BYTES:
        raise ValidationError(gettext("The chunk is too large."), field="data")
    with transaction.atomic():
        call = (
            VoiceCall.objects.select_for_update()
            .filter(pk=call_id, interaction__agent_id=user.pk)
            .first()
        )
        if call is None:
            raise NotFound(gettext("Call not found."))
        if call.recording_mode == "off":
            raise InvalidState(gettext("This service does not record calls."))
        now = timezone.now()
        if call.ended_at is not None and now - call.ended_at > RECORDING_GRACE:
            raise InvalidState(gettext("The call has ended."))
        recording = CallRecording.objects.filter(call=call, segment=segment).first()
        if recording is None:
            if seq != 0:
                raise InvalidState(
                    gettext("Chunk %(seq)s arrived before chunk %(expected)s.")
                    % {"seq": seq, "expected": 0}
                )
            recording = CallRecording(call=call, segment=segment)
            recording.file.save("recording.webm", ContentFile(data), save=False)
            recording.chunks, recording.size = 1, len(data)
            recording.save()
            return recording
        if seq < recording.chunks:
            return recording  # a retry of a chunk already stored
        if seq > recording.chunks:
            raise InvalidState(
                gettext("Chunk %(seq)s arrived before chunk %(expected)s.")
                % {"seq": seq, "expected": recording.chunks}
            )
        with default_storage.open(recording.file.name, "ab") as file:
            file.write(data)
        recording.chunks += 1
        recording.size += len(data)
        recording.updated_at = now
        recording.save(update_fields=["chunks", "size", "updated_at"])
    return recording


def recordings_expire(*, now: datetime | None = None) -> int:
    """Delete the recordings of calls that ended longer ago than their service keeps them."""
    now = now or timezone.now()
    deleted = 0
    for service in Service.objects.filter(recording_retention_days__gt=0):
        cutoff = now - timedelta(days=service.recording_retention_days)
        expired = CallRecording.objects.filter(
            call__interaction__service=service, call__ended_at__lt=cutoff
        )
        for recording in expired:
            with transaction.atomic():
                VoiceCall.objects.filter(pk=recording.call_id).update(recording_deleted_at=now)
                name = recording.file.name
                recording.delete()
                transaction.on_commit(lambda name=name: default_storage.delete(name))
            deleted += 1
    return deleted
