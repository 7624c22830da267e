"""Reads of voice calls."""

import time

from django.conf import settings
from django.utils.translation import gettext

from conversations.models import AgentProfile
from conversations.ports import InteractionTimer

from ..models import VoiceCall


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
