"""Reads for the customer's widget. Everything is scoped to one chat session: a visitor only ever
sees their own lines, the agents' replies on their chat and the notices of their session."""

from contactcenter.realtime import page_cursor
from conversations.models import Interaction, Message, MessageStatus

from ..models import ChatSession
from ..voice.selectors import customer_call_view, live_call_for_session
from .services import agent_display_name, notice_view, queue_view

TRANSCRIPT_LIMIT = 200


def message_view(message: Message, session: ChatSession) -> dict:
    mine = message.direction == Message.Direction.INBOUND
    return {
        "id": message.pk,
        "from": "customer" if mine else "agent",
        "body": message.body,
        "at": message.created_at.isoformat(),
        "name": "" if mine or message.sender is None else agent_display_name(message.sender),
        "read": mine and message.pk <= session.agent_read_up_to,
    }


def session_messages(*, session: ChatSession, ids: list[int] | None = None) -> list[dict]:
    """The session's chat lines (optionally only ``ids``), oldest first, at most the last 200."""
    if session.interaction_id is None:
        return []
    query = Message.objects.filter(
        interaction_id=session.interaction_id,
        kind=Message.Kind.TEXT,
        created_at__gte=session.created_at,
        direction__in=[Message.Direction.INBOUND, Message.Direction.OUTBOUND],
    ).exclude(  # an agent's line shows once pushed: never while queued, nor when it failed
        direction=Message.Direction.OUTBOUND,
        status__in=[
            MessageStatus.QUEUED,
            MessageStatus.FAILED,
            MessageStatus.UNDELIVERED,
        ],
    )
    if ids is not None:
        query = query.filter(id__in=ids)
    messages = list(
        query.select_related("sender__agent_profile").order_by("-id")[:TRANSCRIPT_LIMIT]
    )
    messages.reverse()
    return [message_view(message, session) for message in messages]


def session_snapshot(*, session: ChatSession) -> dict:
    """Everything the widget shows for a session, as a fresh page would render it. The settled
    cursor is read first: anything after it reaches the widget as an event (what the snapshot
    already shows is not shown twice)."""
    event_cursor = page_cursor()
    notices = [notice_view(notice) for notice in session.notices.order_by("id")[:TRANSCRIPT_LIMIT]]
    return {
        "id": session.pk,
        "state": session.state,
        "end_reason": session.end_reason,
        "agent": session.agent_name or None,
        "has_agent": session.agent_id is not None,
        "queue": queue_view(session),
        "warning": {"expires_at": session.expires_at.isoformat()}
        if session.warned_at and session.expires_at
        else None,
        "messages": session_messages(session=session),
        "notices": notices,
        "read_up_to": session.agent_read_up_to,
        "started": session.interaction_id is not None,
        "email": session.email,
        "event_cursor": event_cursor,
        "service_id": _queue_service_id(session),
        "call": _live_call(session),
    }


def _live_call(session: ChatSession) -> dict | None:
    """The web call ringing or going on in this chat, if any (a reloaded widget picks it up)."""
    if not session.is_open:
        return None
    call = live_call_for_session(session.pk)
    return customer_call_view(call) if call else None


def _queue_service_id(session: ChatSession) -> int | None:
    """The service whose queue the customer waits in (it follows transfers)."""
    if session.interaction_id:
        service_id = (
            Interaction.objects.filter(pk=session.interaction_id)
            .values_list("service_id", flat=True)
            .first()
        )
        if service_id:
            return service_id
    return session.entry_point.service_id
