"""Writers of the web chat channel.

Every function runs in one transaction, locks the chat session it changes, appends events to the
customer's audience (``chat.<session id>``) and, for what agents must see, to the conversation's
audiences through ``conversations`` services. The customer's websocket consumer, the chat sender,
the lifecycle listener (``lifecycle.py``) and the beat tasks only call these.

Lock order, as everywhere: the conversation first, then the chat session (a session already bound
to its conversation is locked after it: ``_lock_session``).
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound, RateLimited, ValidationError
from contacts.models import Identity
from contacts.normalize import normalize_email
from conversations.models import (
    AgentProfile,
    Channel,
    Conversation,
    Interaction,
    Message,
    MessageStatus,
)
from conversations.selectors import service_is_open
from conversations.services import (
    InboundRecord,
    inbound_receive,
    interaction_end,
    message_status_update,
    system_line_add,
)

from ..conversation_ops import AgentLine
from ..email.services import chat_transcript_email, email_acknowledge
from ..models import ChatNotice, ChatSession, ChatTranscriptRequest, EntryPoint
from ..voice.selectors import live_call_for_session
from . import events
from .config import chat_config
from .limits import rate_limit_hit
from .queue import agents_staffed, queue_standing

logger = logging.getLogger(__name__)

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
PAGE_URL_MAX = 2000
PAGE_TITLE_MAX = 300
QUESTION_MAX = 4000


# --- Availability -------------------------------------------------------------------------


class Availability:
    OPEN = "open"
    CLOSED = "closed"  # outside opening hours
    UNAVAILABLE = "unavailable"  # nobody of the service logged in


def chat_entry_point(*, slug: str) -> EntryPoint:
    entry_point = (
        EntryPoint.objects.select_related("service")
        .filter(channel=Channel.CHAT, address=slug, active=True)
        .first()
    )
    if entry_point is None:
        raise NotFound(gettext("This chat does not exist or is switched off."), field="slug")
    return entry_point


def chat_availability(*, entry_point: EntryPoint, now: datetime | None = None) -> str:
    """Closed outside the service's business hours (and holidays); unavailable when nobody of
    the service is logged in. Otherwise open: with nobody Ready, the customer waits in the queue."""
    if not service_is_open(service=entry_point.service, at=now):
        return Availability.CLOSED
    if not agents_staffed(service_id=entry_point.service_id):
        return Availability.UNAVAILABLE
    return Availability.OPEN


# --- Sessions -----------------------------------------------------------------------------


@dataclass
class PreChatAnswers:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    question: str = ""


@dataclass
class Page:
    url: str = ""
    title: str = ""

    @classmethod
    def from_client(cls, data: object) -> "Page | None":
        """A page the widget reported, or None when it is not an http(s) URL."""
        if not isinstance(data, dict):
            return None
        url = str(data.get("url") or "").replace("\x00", "")[:PAGE_URL_MAX]
        title = " ".join(str(data.get("title") or "").replace("\x00", "").split())[:PAGE_TITLE_MAX]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None
        return cls(url=url, title=title)


def open_session_for(*, entry_point: EntryPoint, visitor_id: str) -> ChatSession | None:
    return (
        ChatSession.objects.filter(
            entry_point=entry_point, visitor_id=visitor_id, state=ChatSession.State.OPEN
        )
        .order_by("-id")
        .first()
    )


def address_limit_hit(*, kind: str, address: str) -> bool:
    """Count one new chat (or offline message) from a client address. A visitor who drops their
    token is a new visitor, but still the same address: this bounds the contacts and
    conversations one address can create (``WEBCHAT_ADDRESS_LIMIT`` per window)."""
    if not address:
        return False
    return rate_limit_hit(
        key=f"address:{kind}:{address}",
        limit=settings.WEBCHAT_ADDRESS_LIMIT,
        window_seconds=settings.WEBCHAT_ADDRESS_WINDOW_SECONDS,
    )


def chat_session_start(
    *,
    entry_point: EntryPoint,
    visitor_id: str,
    answers: PreChatAnswers | None = None,
    page: Page | None = None,
    language: str = "",
    address: str = "",
) -> ChatSession:
    """Open the visitor's chat session, or return the one already open (idempotent). New chats
    are limited per client ``address``."""
    existing = open_session_for(entry_point=entry_point, visitor_id=visitor_id)
    if existing is not None:
        return existing
    if address_limit_hit(kind="chat", address=address):
        raise RateLimited(
            gettext("Too many new chats from your network. Please try again later."),
            field="session",
        )
    config = chat_config(entry_point)
    answers = answers or PreChatAnswers()
    now = timezone.now()
    try:
        with transaction.atomic():
            session = ChatSession.objects.create(
                entry_point=entry_point,
                visitor_id=visitor_id,
                first_name=answers.first_name,
                last_name=answers.last_name,
                email=answers.email,
                phone=answers.phone,
                question=answers.question[:QUESTION_MAX],
                language=language[:12],
                inactivity_seconds=config.inactivity_timeout_seconds,
                page_url=page.url if page else "",
                page_title=page.title if page else "",
                page_changed_at=now if page else None,
                created_at=now,
            )
    except IntegrityError:
        session = open_session_for(entry_point=entry_point, visitor_id=visitor_id)
        if session is None:
            raise
    return session


def _lock_session(session_id: int, visitor_id: str | None = None) -> ChatSession:
    """Lock the session, after its conversation when it has one (the lock order of every
    writer: a lifecycle listener runs inside a transaction holding the conversation)."""
    query = ChatSession.objects.filter(pk=session_id)
    if visitor_id is not None:
        query = query.filter(visitor_id=visitor_id)
    conversation_id = query.values_list("conversation_id", flat=True).first()
    if conversation_id:
        list(Conversation.objects.select_for_update().filter(pk=conversation_id).values("pk"))
    session = query.select_for_update(of=("self",)).select_related("entry_point").first()
    if session is None:
        raise NotFound(gettext("This chat does not exist."), field="session")
    return session


def publish_to_customer(session: ChatSession, type: str, payload: dict) -> None:
    realtime.publish(audiences=[session.audience], type=type, payload=payload)


def notice_add(session: ChatSession, code: str, **params: object) -> ChatNotice:
    """A notice in the customer's transcript, stored as a code and parameters (shown in the
    customer's language by the widget)."""
    notice = ChatNotice.objects.create(session=session, code=code, params=params)
    publish_to_customer(session, events.CHAT_NOTICE, {"notice": notice_view(notice)})
    return notice


def notice_view(notice: ChatNotice) -> dict:
    return {
        "id": notice.pk,
        "code": notice.code,
        "params": notice.params,
        "at": notice.created_at.isoformat(),
    }


def queue_view(session: ChatSession) -> dict:
    return {"position": session.queue_position, "wait_seconds": session.queue_wait_seconds}


def agent_display_name(user) -> str:
    try:
        return user.agent_profile.name
    except AgentProfile.DoesNotExist:
        return user.get_full_name() or ""


# --- Customer messages --------------------------------------------------------------------


def chat_message_receive(*, session_id: int, visitor_id: str, body: str, client_id: str) -> Message:
    """Store one customer line (idempotent on the widget's client id) and tell the widget."""
    body = (body or "").strip()
    if not CLIENT_ID.match(client_id or ""):
        raise ValidationError(gettext("The message has no valid id."), field="client_id")
    if not body:
        raise ValidationError(gettext("The message is empty."), field="body")
    if "\x00" in body:  # a database cannot store it
        raise ValidationError(gettext("The message contains a null character."), field="body")
    if rate_limit_hit(key=f"msg:{visitor_id}"):
        raise RateLimited(
            gettext("You are sending messages too quickly. Please wait a moment."), field="body"
        )
    with transaction.atomic():
        session = _lock_session(session_id, visitor_id)
        limit = chat_config(session.entry_point).max_message_length
        if len(body) > limit:
            raise ValidationError(
                gettext("The message is %(length)s characters long; the limit is %(limit)s.")
                % {"length": len(body), "limit": limit},
                field="body",
            )
        if not session.is_open:
            raise InvalidState(gettext("This chat has ended."), field="session")
        now = timezone.now()
        result = inbound_receive(
            record=InboundRecord(
                channel=Channel.CHAT,
                service=session.entry_point.service,
                identities=session_identities(session),
                provider_id=f"webchat:{session.pk}:{client_id}",
                body=body,
                customer_address=session.email,
                service_address=session.entry_point.address,
                first_name=session.first_name,
                last_name=session.last_name,
            )
        )
        message = result.message
        if result.duplicate:
            return message
        if session.interaction_id != message.interaction_id:
            _bind(session, message)
        _customer_active(session, now)
        session.customer_seen_at = now
        session.save()
        publish_to_customer(
            session, events.CHAT_MESSAGE, {"message_id": message.pk, "client_id": client_id}
        )
    return message


def session_identities(session: ChatSession) -> list[tuple[str, str]]:
    """The visitor id first, then the pre-chat email and phone, unless those belong to a contact
    who is chatting right now from another browser: the pre-chat answers are not verified, so
    they must not put this visitor into someone else's chat (the agent still sees them)."""
    identities = [(Identity.Kind.WEBCHAT, session.visitor_id)]
    answers = ((Identity.Kind.EMAIL, session.email), (Identity.Kind.PHONE, session.phone))
    claimed = [(kind, value) for kind, value in answers if value]
    if not claimed:
        return identities
    owners = set()
    for kind, value in claimed:
        owners.update(
            Identity.objects.filter(kind=kind, value=value).values_list("contact_id", flat=True)
        )
    busy = (
        owners
        and ChatSession.objects.filter(
            state=ChatSession.State.OPEN, conversation__contact_id__in=owners
        )
        .exclude(visitor_id=session.visitor_id)
        .exists()
    )
    if busy:
        logger.info("chat %s: pre-chat identities belong to a contact chatting now", session.pk)
        return identities
    return identities + claimed


def _bind(session: ChatSession, message: Message) -> None:
    """The first message tied the session to its conversation and interaction; what the widget
    shows next comes from the interaction's lifecycle (queued, offered, assigned...)."""
    first = session.interaction_id is None
    session.conversation_id = message.conversation_id
    session.interaction_id = message.interaction_id
    session.save(update_fields=["conversation", "interaction"])
    interaction = Interaction.objects.select_related("conversation", "agent__agent_profile").get(
        pk=message.interaction_id
    )
    if first:
        lines = []
        if session.customer_name or session.email or session.phone:
            details = ", ".join(
                part for part in (session.customer_name, session.email, session.phone) if part
            )
            lines.append((AgentLine.CHAT_PRECHAT, {"details": details}))
        if session.page_url:
            lines.append(_page_line(session.page_title, session.page_url))
        for text, params in lines:
            system_line_add(
                conversation=interaction.conversation,
                interaction=interaction,
                text=text,
                params=params,
            )
    # The lifecycle events of this interaction ran before the session was bound to it (in this
    # very transaction): bring the session to where the interaction is.
    if interaction.state == Interaction.State.ACTIVE and interaction.agent_id:
        session_agent_set(session, interaction.agent, joined=True)
    elif interaction.state in (Interaction.State.QUEUED, Interaction.State.OFFERED):
        session_queue_update(session, interaction)


def _page_line(title: str, url: str) -> tuple:
    if title:
        return AgentLine.CHAT_PAGE_TITLED, {"title": title, "url": url}
    return AgentLine.CHAT_PAGE, {"url": url}


# --- The customer's view of the conversation (called by the lifecycle listener) --------------


def session_agent_set(session: ChatSession, agent, *, joined: bool = False, previous=None) -> None:
    """The agent on the chat is now ``agent`` (None: nobody). Tells the customer once: joined,
    transferred from ``previous``, or left."""
    agent_id = agent.pk if agent is not None else None
    if agent_id == session.agent_id:
        return
    now = timezone.now()
    name = agent_display_name(agent) if agent is not None else ""
    if agent is None:
        notice_add(session, ChatNotice.Code.AGENT_LEFT, name=session.agent_name)
    elif previous is not None and previous.pk != agent_id:
        notice_add(
            session,
            ChatNotice.Code.AGENT_TRANSFERRED,
            previous=agent_display_name(previous),
            name=name,
        )
    elif joined or session.agent_id is None:
        notice_add(session, ChatNotice.Code.AGENT_JOINED, name=name)
    session.agent_id = agent_id
    session.agent_name = name
    publish_to_customer(session, events.CHAT_AGENT, {"name": name or None})
    if agent_id:
        _restart_idle_timer(session, now)
        if session.queue_position is not None:
            session.queue_position = session.queue_wait_seconds = None
            publish_to_customer(session, events.CHAT_QUEUE, queue_view(session))
    else:
        session.idle_since = session.warn_at = session.expires_at = session.warned_at = None
    session.save()


def session_queue_update(
    session: ChatSession, interaction: Interaction, *, connecting: bool = False
) -> None:
    """The customer waits: their place in the queue and the estimated wait (or "connecting" while
    an agent is offered the chat)."""
    if connecting:
        publish_to_customer(
            session, events.CHAT_QUEUE, {"position": 0, "wait_seconds": 0, "connecting": True}
        )
        return
    standing = queue_standing(interaction=interaction)
    figures = (standing.position, standing.estimated_wait_seconds)
    if figures != (session.queue_position, session.queue_wait_seconds):
        session.queue_position, session.queue_wait_seconds = figures
        session.save(update_fields=["queue_position", "queue_wait_seconds"])
        publish_to_customer(session, events.CHAT_QUEUE, queue_view(session))


def chat_queue_standing(*, session_id: int) -> dict | None:
    """A waiting customer's place in the queue now (read; for the widget when the queue moved),
    or None when the customer is not waiting."""
    session = ChatSession.objects.filter(pk=session_id, state=ChatSession.State.OPEN).first()
    if session is None or session.interaction_id is None or session.agent_id:
        return None
    interaction = (
        Interaction.objects.select_related("service").filter(pk=session.interaction_id).first()
    )
    if interaction is None or interaction.state != Interaction.State.QUEUED:
        return None
    standing = queue_standing(interaction=interaction)
    return {"position": standing.position, "wait_seconds": standing.estimated_wait_seconds}


# --- Activity and the inactivity timeout ----------------------------------------------------


def _restart_idle_timer(session: ChatSession, now: datetime) -> None:
    timeout = timedelta(seconds=session.inactivity_seconds)
    session.idle_since = now
    session.warn_at = now + timeout / 2
    session.expires_at = now + timeout
    if session.warned_at is not None:
        session.warned_at = None
        publish_to_customer(session, events.CHAT_WARNING, {"expires_at": None})


def _customer_active(session: ChatSession, now: datetime) -> None:
    if session.agent_id:
        _restart_idle_timer(session, now)


ACTIVITY_THROTTLE = timedelta(seconds=15)


def chat_customer_activity(*, session_id: int, visitor_id: str) -> None:
    """The customer is typing: that is activity too (at most one write per 15 s)."""
    now = timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id, visitor_id)
        if not session.is_open or not session.agent_id:
            return
        if session.idle_since and now - session.idle_since < ACTIVITY_THROTTLE:
            return
        _restart_idle_timer(session, now)
        session.save()


def chat_customer_seen(*, session_id: int, visitor_id: str) -> None:
    """The customer's widget is connected (hello, heartbeat, goodbye): a waiting customer whose
    widget stays away ``WEBCHAT_QUEUE_ABANDON_SECONDS`` leaves the queue. One conditional write
    at most every 15 s."""
    now = timezone.now()
    ChatSession.objects.filter(
        pk=session_id, visitor_id=visitor_id, state=ChatSession.State.OPEN
    ).exclude(customer_seen_at__gt=now - ACTIVITY_THROTTLE).update(customer_seen_at=now)


def chat_inactivity_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of open sessions whose warning or end is due, or whose waiting customer is gone
    (candidates; each is re-checked)."""
    now = now or timezone.now()
    open_sessions = ChatSession.objects.filter(state=ChatSession.State.OPEN)
    ending = open_sessions.filter(expires_at__lte=now).values_list("id", flat=True)[:limit]
    warning = open_sessions.filter(warn_at__lte=now, warned_at__isnull=True).values_list(
        "id", flat=True
    )[:limit]
    gone = open_sessions.filter(
        agent__isnull=True,
        interaction__isnull=False,
        customer_seen_at__lt=now - timedelta(seconds=settings.WEBCHAT_QUEUE_ABANDON_SECONDS),
    ).values_list("id", flat=True)[:limit]
    return sorted(set(ending) | set(warning) | set(gone))


def chat_inactivity_check(*, session_id: int, now: datetime | None = None) -> str:
    """Warn or end one session if due. Conditional updates make overlapping runs harmless.
    Returns what it did: "ended", "warned", "left" or ""."""
    now = now or timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id)
        if not session.is_open:
            return ""
        if session.expires_at is not None and live_call_for_session(session.pk) is not None:
            # Talking is activity: the chat's idle time starts again when the call is over.
            _restart_idle_timer(session, now)
            session.save()
            return ""
        if session.agent_id is None and session.interaction_id is not None:
            abandon_after = timedelta(seconds=settings.WEBCHAT_QUEUE_ABANDON_SECONDS)
            seen = session.customer_seen_at
            if seen is not None and seen < now - abandon_after:
                _end_locked(session, ChatSession.EndReason.LEFT, now, end_interaction=True)
                return "left"
        if session.expires_at is not None and session.expires_at <= now:
            _end_locked(session, ChatSession.EndReason.INACTIVITY, now, end_interaction=True)
            return "ended"
        due = session.warn_at is not None and session.warn_at <= now
        if due and session.warned_at is None and session.expires_at > now:
            session.warned_at = now
            session.save(update_fields=["warned_at"])
            expires_at = session.expires_at.isoformat()
            notice_add(session, ChatNotice.Code.INACTIVITY_WARNING, expires_at=expires_at)
            publish_to_customer(session, events.CHAT_WARNING, {"expires_at": expires_at})
            return "warned"
    return ""


# --- Ending -------------------------------------------------------------------------------


def chat_end(*, session_id: int, visitor_id: str) -> ChatSession:
    """The customer ended the chat."""
    now = timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id, visitor_id)
        if session.is_open:
            _end_locked(session, ChatSession.EndReason.CUSTOMER, now, end_interaction=True)
    return session


def session_end(session: ChatSession, reason: str) -> None:
    """End a locked session whose interaction ended or whose conversation closed (the lifecycle
    listener): the customer is told, nothing else is ended."""
    if session.is_open:
        _end_locked(session, reason, timezone.now(), end_interaction=False)


def _end_locked(session: ChatSession, reason: str, now: datetime, *, end_interaction: bool) -> None:
    session.state = ChatSession.State.ENDED
    session.end_reason = reason
    session.ended_at = now
    session.warn_at = session.expires_at = None
    session.queue_position = session.queue_wait_seconds = None
    session.save()
    notice_add(session, ChatNotice.Code.ENDED, reason=session.end_reason)
    publish_to_customer(session, events.CHAT_ENDED, {"reason": session.end_reason})
    if not (session.interaction_id and end_interaction):
        return
    interaction = Interaction.objects.select_related("conversation").get(pk=session.interaction_id)
    if interaction.state == Interaction.State.ENDED:
        return
    if session.end_reason == ChatSession.EndReason.INACTIVITY:
        text = AgentLine.CHAT_ENDED_INACTIVE
        params = {"minutes": max(1, round(session.inactivity_seconds / 60))}
    elif session.end_reason == ChatSession.EndReason.LEFT:
        text, params = AgentLine.CHAT_LEFT_WAITING, {}
    else:
        text, params = AgentLine.CHAT_ENDED_BY_CUSTOMER, {}
    system_line_add(
        conversation=interaction.conversation, interaction=interaction, text=text, params=params
    )
    interaction_end(interaction=interaction, reason=f"customer_{session.end_reason}")


# --- Page, reads, transcript -------------------------------------------------------------


def chat_page_update(*, session_id: int, visitor_id: str, page: Page) -> bool:
    """The customer moved to another page: kept on the session, told to the agent."""
    if rate_limit_hit(key=f"page:{visitor_id}", limit=30):
        return False
    now = timezone.now()
    with transaction.atomic():
        session = _lock_session(session_id, visitor_id)
        if not session.is_open or (session.page_url, session.page_title) == (page.url, page.title):
            return False
        url_changed = session.page_url != page.url
        session.page_url, session.page_title, session.page_changed_at = page.url, page.title, now
        session.save(update_fields=["page_url", "page_title", "page_changed_at"])
        if session.interaction_id and url_changed:
            interaction = Interaction.objects.select_related("conversation").get(
                pk=session.interaction_id
            )
            text, params = _page_line(page.title, page.url)
            system_line_add(
                conversation=interaction.conversation,
                interaction=interaction,
                text=text,
                params=params,
            )
    return True


def chat_agent_read(*, conversation: Conversation, user, up_to: int) -> int:
    """The handling agent has the conversation on screen up to message ``up_to``: the customer's
    chat lines so far are read. Returns how many messages became read."""
    if conversation.agent_id != user.pk:
        return 0
    count = 0
    sessions = ChatSession.objects.filter(
        conversation=conversation,
        state=ChatSession.State.OPEN,
        interaction__isnull=False,
        agent_read_up_to__lt=up_to,
    )
    for session in sessions:
        unread = list(
            Message.objects.filter(
                interaction_id=session.interaction_id,
                direction=Message.Direction.INBOUND,
                id__lte=up_to,
                status=MessageStatus.RECEIVED,
            ).values_list("id", flat=True)
        )
        if not unread:
            continue
        with transaction.atomic():
            for message_id in unread:
                message_status_update(message_id=message_id, status=MessageStatus.READ)
            newest = max(unread)
            updated = ChatSession.objects.filter(pk=session.pk, agent_read_up_to__lt=newest).update(
                agent_read_up_to=newest
            )
            if updated:
                publish_to_customer(session, events.CHAT_READ, {"up_to": newest})
        count += len(unread)
    return count


def chat_agent_messages_progress(
    *, session_id: int, visitor_id: str, up_to: int, status: str
) -> list[int]:
    """The widget received (``delivered``) or showed (``read``) the agent's lines up to
    ``up_to``: move their delivery status forward."""
    if status not in (MessageStatus.DELIVERED, MessageStatus.READ):
        raise ValidationError(gettext("Unknown status."), field="status")
    session = ChatSession.objects.filter(pk=session_id, visitor_id=visitor_id).first()
    if session is None or session.interaction_id is None:
        return []
    # Pushed to the widget (sending/sent) and not yet at ``status``; never failed ones.
    behind = [MessageStatus.SENDING, MessageStatus.SENT]
    if status == MessageStatus.READ:
        behind.append(MessageStatus.DELIVERED)
    ids = list(
        Message.objects.filter(
            interaction_id=session.interaction_id,
            direction=Message.Direction.OUTBOUND,
            id__lte=up_to,
            status__in=behind,
        ).values_list("id", flat=True)[:200]
    )
    for message_id in ids:
        message_status_update(message_id=message_id, status=status)
    return ids


def chat_transcript_request(
    *, session_id: int, visitor_id: str, email: str
) -> ChatTranscriptRequest:
    """The customer wants the transcript by email: it is emailed once the chat has ended (the
    email channel's lifecycle listener), at once when it already has; once per address."""
    if rate_limit_hit(key=f"transcript:{visitor_id}", limit=5):
        raise RateLimited(gettext("Too many requests. Please wait a moment."), field="email")
    with transaction.atomic():
        session = _lock_session(session_id, visitor_id)
        if session.interaction_id is None:
            raise InvalidState(gettext("There is nothing to send yet."), field="email")
        request, created = ChatTranscriptRequest.objects.get_or_create(session=session, email=email)
        if created:
            interaction = Interaction.objects.select_related("conversation").get(
                pk=session.interaction_id
            )
            system_line_add(
                conversation=interaction.conversation,
                interaction=interaction,
                text=AgentLine.CHAT_TRANSCRIPT_REQUESTED,
                params={"email": email},
            )
            if interaction.state == Interaction.State.ENDED:
                chat_transcript_email(request_id=request.pk)
                request.refresh_from_db()
    return request


# --- Offline message ------------------------------------------------------------------------


@dataclass
class OfflineMessage:
    first_name: str
    last_name: str
    email: str
    message: str
    phone: str = ""
    extra: dict = field(default_factory=dict)


def chat_offline_message(
    *,
    entry_point: EntryPoint,
    visitor_id: str,
    offline: OfflineMessage,
    client_id: str,
    language: str = "",
    address: str = "",
) -> Message:
    """Nobody can chat now: the customer's message becomes an email conversation of the
    service, answered by email, and the customer gets one acknowledgement email in their
    ``language`` (default: the active one). Idempotent on the widget's client id; limited per
    visitor and per client ``address``."""
    if not CLIENT_ID.match(client_id or ""):
        raise ValidationError(gettext("The message has no valid id."), field="client_id")
    if rate_limit_hit(key=f"offline:{visitor_id}", limit=5):
        raise RateLimited(gettext("Too many requests. Please wait a moment."), field="message")
    if address_limit_hit(kind="offline", address=address):
        raise RateLimited(
            gettext("Too many messages from your network. Please try again later."),
            field="message",
        )
    identities = [(Identity.Kind.WEBCHAT, visitor_id), (Identity.Kind.EMAIL, offline.email)]
    if offline.phone:
        identities.append((Identity.Kind.PHONE, offline.phone))
    service_email = (
        EntryPoint.objects.filter(
            channel=Channel.EMAIL, service_id=entry_point.service_id, active=True
        )
        .values_list("address", flat=True)
        .first()
    )
    with transaction.atomic():
        result = inbound_receive(
            record=InboundRecord(
                channel=Channel.EMAIL,
                service=entry_point.service,
                identities=identities,
                provider_id=f"webchat-offline:{visitor_id}:{client_id}",
                body=offline.message,
                customer_address=normalize_email(offline.email),
                service_address=service_email or settings.DEFAULT_FROM_EMAIL,
                first_name=offline.first_name,
                last_name=offline.last_name,
            )
        )
        if not result.duplicate:
            email_acknowledge(
                message=result.message,
                language=language or translation.get_language() or "",
                name=offline.first_name,
            )
    return result.message


# --- Agent lines out ---------------------------------------------------------------------


def chat_deliver(*, message: Message) -> list[int]:
    """Push an agent's line to the customer's widget (called by the chat sender). Returns the ids
    of the open sessions it went to; none means the customer has left."""
    now = timezone.now()
    delivered = []
    with transaction.atomic():
        list(
            Conversation.objects.select_for_update().filter(pk=message.conversation_id).values("pk")
        )
        sessions = ChatSession.objects.select_for_update().filter(
            interaction_id=message.interaction_id, state=ChatSession.State.OPEN
        )
        for session in sessions:
            publish_to_customer(session, events.CHAT_MESSAGE, {"message_id": message.pk})
            if session.agent_id:
                _restart_idle_timer(session, now)
                session.save()
            delivered.append(session.pk)
    return delivered
