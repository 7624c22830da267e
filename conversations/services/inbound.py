"""Inbound: one channel-agnostic writer for every customer message, call or email that arrives."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from contactcenter import realtime
from contacts.services import contact_recognize
from contacts.services.recognition import RACE_ATTEMPTS

from .. import events
from ..models import Conversation, Interaction, Message, MessageStatus, Service
from ..ports import Lifecycle
from ..selectors import conversation_audiences
from ..system_lines import SystemLine
from . import queue
from .lifecycle import lifecycle_notify
from .timeline import system_line_add


@dataclass
class InboundRecord:
    """A channel-agnostic inbound unit, as a channel adapter parsed it.

    ``conversation_ids``: conversations the message itself names as the one it continues (an
    email's In-Reply-To/References, the case number in its subject), best first. Only one of the
    sender's own contact counts: it is continued when open or closed within the channel's
    continuation window (and reopened); closed longer ago, a new conversation opens, linked to it.
    When none belongs to the contact, the usual rule applies (the contact's open conversation, or
    one closed within the window).

    ``own_leg``: a new leg even when the channel has an open one (each phone call is its own
    leg: a second call from the same number is a second call).

    ``external_routing``: a call a phone system (CTI) queues and routes itself: a new leg waits
    without being offered by our router (the system's events put it on an agent).

    ``quiet``: record only (an auto-reply): the message is added to the matching conversation
    without reopening it, queueing or routing anything; with no matching conversation nothing is
    stored (``InboundResult.ignored``).
    """

    channel: str
    service: Service
    identities: list[tuple[str, str]]
    provider_id: str
    body: str = ""
    customer_address: str = ""
    service_address: str = ""
    attachments: list[dict] = field(default_factory=list)
    first_name: str = ""
    last_name: str = ""
    required_skills: dict[str, int] = field(default_factory=dict)
    conversation_ids: list[int] = field(default_factory=list)
    quiet: bool = False
    external_routing: bool = False
    own_leg: bool = False


@dataclass
class InboundResult:
    """``message`` is None only when a quiet record matched no conversation (``ignored``)."""

    message: Message | None
    duplicate: bool
    ignored: bool = False
    conversation_created: bool = False


class _NothingToStore(Exception):
    """A quiet record without a conversation to attach to: roll back what recognition wrote."""


def continuation_window(channel: str) -> timedelta:
    return timedelta(seconds=settings.CONTINUATION_WINDOW_SECONDS.get(channel, 0))


def inbound_receive(
    *, record: InboundRecord, on_stored: Callable[[Message], None] | None = None
) -> InboundResult:
    """Store one inbound message, idempotent on (channel, provider id).

    Recognizes the contact, attaches to the conversation the message names (of that contact),
    else to the contact's open conversation or one closed within the channel's continuation
    window, else opens a new one; then assigns it if nobody has it. ``on_stored`` runs in the
    same transaction once a new message is stored (a channel's own rules about it).

    One transaction, no savepoint inside and one INSERT for all its events: the hot path of
    every channel. A repeated delivery (same provider id) is told by the message's unique
    constraint, not by a read before every message: its transaction rolls back and the first
    delivery's message is answered. A race lost to the same new customer writing twice at once
    (the identity's unique constraint) runs the whole transaction again, now recognizing the
    winner's contact.
    """
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            with transaction.atomic(), realtime.publishing_batched():
                message, created = _inbound_store(record)
                if on_stored is not None:
                    on_stored(message)
        except _NothingToStore:
            return InboundResult(message=None, duplicate=False, ignored=True)
        except IntegrityError:
            existing = _message_by_provider_id(record.channel, record.provider_id)
            if existing is not None:
                return InboundResult(message=existing, duplicate=True)
            if attempt == RACE_ATTEMPTS:
                raise
            continue
        return InboundResult(message=message, duplicate=False, conversation_created=created)
    raise AssertionError("unreachable")


def _message_by_provider_id(channel: str, provider_id: str) -> Message | None:
    if not provider_id:
        return None
    return Message.objects.filter(channel=channel, provider_id=provider_id).first()


def _inbound_store(record: InboundRecord) -> tuple[Message, bool]:
    now = timezone.now()
    recognition = contact_recognize(
        identities=record.identities,
        first_name=record.first_name,
        last_name=record.last_name,
        savepoint=False,
    )
    contact = recognition.contact
    # A contact created just now has no conversation, no last agent and no participants yet:
    # a new customer's first message skips those reads.
    new_contact = recognition.created
    named = (
        None if new_contact else _named_conversation(record.conversation_ids, contact_id=contact.pk)
    )
    follows = None
    if named is not None and (record.quiet or _within_window(named, record.channel, now)):
        conversation = named
    elif named is not None or new_contact:
        conversation, follows = None, named
    else:
        conversation = _continuing_conversation(
            contact_id=contact.pk, channel=record.channel, now=now
        )
    if record.quiet:
        if conversation is None:
            raise _NothingToStore
        return _quiet_store(conversation=conversation, record=record, now=now), False
    created = conversation is None
    reopened = False
    parked = False
    if created:
        conversation = Conversation.objects.create(
            contact=contact,
            service=record.service,
            opened_at=now,
            last_message_at=now,
            follows=follows,
        )
    else:
        parked = conversation.is_parked
        if conversation.status == Conversation.Status.CLOSED:
            reopened = True
            conversation.status = Conversation.Status.OPEN
            conversation.closed_at = None
        if reopened or parked:
            conversation.case_state = Conversation.CaseState.OPEN
            conversation.pending_reason = ""
            conversation.follow_up_at = conversation.resolved_at = None
        conversation.last_message_at = now
        conversation.save(
            update_fields=[
                "status",
                "closed_at",
                "last_message_at",
                "case_state",
                "pending_reason",
                "follow_up_at",
                "resolved_at",
            ]
        )
    if recognition.possible_duplicate:
        conversation.duplicate_candidates.add(*recognition.candidates[1:])

    open_legs = (
        conversation.interactions.select_for_update()
        .filter(channel=record.channel)
        .exclude(state=Interaction.State.ENDED)
    )
    if record.customer_address:
        # Two browsers (or phones) of one contact are two legs, not one shared leg.
        open_legs = open_legs.filter(customer_address=record.customer_address)
    interaction = None if created or record.own_leg else open_legs.first()
    audiences = conversation_audiences(conversation, participant_ids=() if created else None)
    if created:
        realtime.publish(
            audiences=audiences,
            type=events.CONVERSATION_CREATED,
            payload=events.conversation_payload(conversation),
        )
        if follows is not None:
            system_line_add(
                conversation=conversation,
                interaction=None,
                text=SystemLine.FOLLOWS,
                params={"number": follows.number},
            )
    elif reopened:
        realtime.publish(
            audiences=audiences,
            type=events.CONVERSATION_REOPENED,
            payload=events.conversation_payload(conversation),
        )
        lifecycle_notify(Lifecycle.REOPENED, conversation=conversation)
    elif parked:
        realtime.publish(
            audiences=audiences,
            type=events.CONVERSATION_CASE_CHANGED,
            payload=events.conversation_payload(conversation),
        )
    if interaction is None:
        interaction = _inbound_interaction(
            conversation=conversation,
            record=record,
            returning=reopened or parked,
            new_contact=new_contact,
            now=now,
        )
    message = Message.objects.create(
        conversation=conversation,
        interaction=interaction,
        channel=record.channel,
        direction=Message.Direction.INBOUND,
        body=record.body,
        attachments=record.attachments,
        status=MessageStatus.RECEIVED,
        provider_id=record.provider_id,
        created_at=now,
        status_changed_at=now,
    )
    realtime.publish(
        audiences=audiences, type=events.MESSAGE_CREATED, payload=events.message_payload(message)
    )
    return message, created


def _quiet_store(*, conversation: Conversation, record: InboundRecord, now: datetime) -> Message:
    """Add the message to ``conversation`` as it is: closed stays closed, nothing is queued. It
    goes on the channel's open leg of that address, else the latest leg of the channel, else a
    leg that starts and ends with it."""
    legs = conversation.interactions.filter(channel=record.channel).order_by("-started_at", "-id")
    interaction = (
        legs.exclude(state=Interaction.State.ENDED)
        .filter(customer_address=record.customer_address)
        .first()
        or legs.first()
    )
    if interaction is None:
        interaction = Interaction.objects.create(
            conversation=conversation,
            channel=record.channel,
            direction=Interaction.Direction.INBOUND,
            state=Interaction.State.ENDED,
            customer_address=record.customer_address,
            service_address=record.service_address,
            service_id=conversation.service_id,
            started_at=now,
            ended_at=now,
        )
    message = Message.objects.create(
        conversation=conversation,
        interaction=interaction,
        channel=record.channel,
        direction=Message.Direction.INBOUND,
        body=record.body,
        attachments=record.attachments,
        status=MessageStatus.RECEIVED,
        provider_id=record.provider_id,
        created_at=now,
        status_changed_at=now,
    )
    realtime.publish(
        audiences=conversation_audiences(conversation),
        type=events.MESSAGE_CREATED,
        payload=events.message_payload(message),
    )
    return message


def _inbound_interaction(
    *,
    conversation: Conversation,
    record: InboundRecord,
    returning: bool,
    new_contact: bool,
    now: datetime,
) -> Interaction:
    """A new channel leg. It joins the agent already handling an open conversation; otherwise
    (a new conversation, or a returning one: reopened, or a parked case the customer wrote to)
    it waits in the service queue, preferring the last agent."""
    interaction = Interaction(
        conversation=conversation,
        channel=record.channel,
        direction=Interaction.Direction.INBOUND,
        customer_address=record.customer_address,
        service_address=record.service_address,
        service_id=conversation.service_id,
        required_skills=record.required_skills,
        started_at=now,
    )
    if conversation.agent_id and not returning:
        interaction.state = Interaction.State.ACTIVE
        interaction.agent_id = conversation.agent_id
        interaction.answered_at = now
        interaction.save()
        return interaction
    preferred = (
        None
        if new_contact
        else queue.preferred_agent_for(contact_id=conversation.contact_id, now=now)
    )
    if returning and conversation.agent_id:
        conversation.agent = None
        conversation.save(update_fields=["agent"])
    interaction.queued_at = now
    interaction.preferred_agent_id = preferred
    interaction.external_routing = record.external_routing
    queue.interaction_enqueue(interaction=interaction)  # inserts the row
    return interaction


def _named_conversation(conversation_ids: list[int], *, contact_id: int) -> Conversation | None:
    """The first of ``conversation_ids`` that belongs to the sender's contact, locked."""
    if not conversation_ids:
        return None
    candidates = {
        conversation.pk: conversation
        for conversation in Conversation.objects.select_for_update().filter(
            pk__in=conversation_ids, contact_id=contact_id
        )
    }
    for pk in conversation_ids:
        if pk in candidates:
            return candidates[pk]
    return None


def _within_window(conversation: Conversation, channel: str, now: datetime) -> bool:
    if conversation.status != Conversation.Status.CLOSED:
        return True
    closed_at = conversation.closed_at or conversation.opened_at
    return closed_at >= now - continuation_window(channel)


def _continuing_conversation(
    *, contact_id: int, channel: str, now: datetime
) -> Conversation | None:
    window_start = now - continuation_window(channel)
    return (
        Conversation.objects.select_for_update()
        .filter(contact_id=contact_id)
        .filter(~Q(status=Conversation.Status.CLOSED) | Q(closed_at__gte=window_start))
        .order_by("-opened_at")
        .first()
    )
