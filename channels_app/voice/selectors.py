"""Reads of voice calls."""

import time

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from contacts.models import Identity
from conversations.models import AgentProfile, Channel
from conversations.ports import InteractionTimer

from ..models import EntryPoint, VoiceCall


def server_time_ms() -> int:
    """Signals and snapshots carry the server's clock: a reloaded widget ignores an offer made
    before it read the call (one meant for the page it replaced)."""
    return int(time.time() * 1000)


def customer_call_view(call: VoiceCall) -> dict:
    """What the customer's widget knows of a call."""
    return {
        "call_id": call.pk,
        "state": call.state,
        "direction": call.interaction.direction,
        "end_reason": call.end_reason,
        "version": call.version,
        "at": server_time_ms(),
        "recording_notice": call.recording_mode == "notice",
        "ice_servers": settings.WEBRTC_ICE_SERVERS,
    }


def live_call_for_session(session_id: int) -> VoiceCall | None:
    return (
        VoiceCall.objects.filter(chat_session_id=session_id)
        .exclude(state=VoiceCall.State.ENDED)
        .select_related("interaction")
        .first()
    )


def softphone_for(*, conversation, user, chat_open: bool) -> dict:
    """What the desktop's call bar shows for a conversation: its live call (or none), whether
    this agent is on it, and whether they may call the customer in the browser now."""
    call = (
        VoiceCall.objects.filter(interaction__conversation_id=conversation.pk)
        .exclude(state=VoiceCall.State.ENDED)
        .select_related("interaction__agent__agent_profile", "consult_agent__agent_profile")
        .first()
    )
    mine = bool(call and call.interaction.agent_id == user.pk)
    return {
        "call": call,
        "mine": mine,
        "consulted": bool(call and call.consult_agent_id == user.pk),
        "colleague": _name(call.consult_agent) if call else "",
        "owner": _name(call.interaction.agent) if call else "",
        "colleagues": _colleagues(user) if mine and not call.consult_state else [],
        "can_call": call is None and chat_open and conversation.status == "open",
        "dial_numbers": _dial_numbers(conversation, user) if call is None else [],
        # A Twilio call the agent answered: their phone is being rung into it.
        "connecting": bool(
            call and call.provider == "twilio" and call.commands.filter(action="connect").exists()
        ),
        "ice_servers": settings.WEBRTC_ICE_SERVERS,
    }


def call_timers(interactions: list) -> dict[int, list[InteractionTimer]]:
    """The Active Conversations list's timers of live calls: ringing, talk time, hold time
    (one query for the whole list)."""
    timers: dict[int, list[InteractionTimer]] = {}
    calls = VoiceCall.objects.filter(
        interaction_id__in=[interaction.pk for interaction in interactions]
    ).exclude(state=VoiceCall.State.ENDED)
    for call in calls:
        if call.state == VoiceCall.State.RINGING:
            items = [InteractionTimer(gettext("Ringing"), call.ringing_at, "ringing")]
        else:
            items = [InteractionTimer(gettext("On the call"), call.answered_at, "call")]
            if call.hold_started_at is not None:
                items.append(InteractionTimer(gettext("On hold"), call.hold_started_at, "hold"))
        timers[call.interaction_id] = items
    return timers


def can_dial(user) -> bool:
    """The agent may call customers' phones: Twilio (or the demo's phone simulator), a voice
    number to call from, and a phone of theirs for Twilio to ring first."""
    if not (settings.TWILIO_ACCOUNT_SID or settings.DEMO_MODE):
        return False
    profile = getattr(user, "agent_profile", None)
    if not (profile and profile.voice_endpoint):
        return False
    return EntryPoint.objects.filter(channel=Channel.VOICE, active=True).exists()


def contact_dial_url(user, contact_id: int) -> str | None:
    """The contact page's *Call* (the contacts app's phone dialer port)."""
    return reverse("voice-contact-dial", args=[contact_id]) if can_dial(user) else None


def _dial_numbers(conversation, user) -> list[str]:
    """The contact's numbers the agent may call through Twilio from this conversation (none when
    Twilio, a voice number or the agent's phone is missing)."""
    if conversation.status != "open" or not can_dial(user):
        return []
    return list(
        Identity.objects.filter(contact_id=conversation.contact_id, kind=Identity.Kind.PHONE)
        .order_by("-id")
        .values_list("value", flat=True)[:3]
    )


def _colleagues(user) -> list:
    """Agents the agent on a call may consult (not themselves; those on a call are refused when
    asked, with their name)."""
    return list(
        AgentProfile.objects.exclude(user=user)
        .select_related("user")
        .order_by("display_name", "user__username")
    )


def _name(user) -> str:
    if user is None:
        return ""
    profile = getattr(user, "agent_profile", None)
    return profile.name if profile else user.get_username()
