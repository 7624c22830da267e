"""Inbound: one channel-agnostic writer for every customer message, call or email that arrives."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from contactcenter import realtime
from contacts.services import contact_recognize

from .. import events
from ..models import Conversation, Interaction, Message, MessageStatus, Service
from ..ports import Lifecycle
from ..selectors import conversation_audiences
from . import queue
from .lifecycle import lifecycle_notify


@dataclass
class InboundRecord:
    """A channel-agnostic inbound unit, as a channel adapter parsed it."""

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


@dataclass
class InboundResult:
    message: Message
    duplicate: bool


def continuation_window(channel: str) -> timedelta:
    return timedelta(seconds=settings.CONTINUATION_WINDOW_SECONDS.get(channel, 0))


def inbound_receive(*, record: InboundRecord) -> InboundResult:
    """Store one inbound message, idempotent on (channel, provider id).

    Recognizes the contact, attaches to the contact's open conversation or one closed within the
    channel's continuation window, else opens a new one; then assigns it if nobody has it.
    """
    existing = _message_by_provider_id(record.channel, record.provider_id)
    if existing:
        return InboundResult(message=existing, duplicate=True)
    try:
        with transaction.atomic():
            message = _inbound_store(record)
    except IntegrityError:
        existing = _message_by_provider_id(record.channel, record.provider_id)
        if existing is None:
            raise
        return InboundResult(message=existing, duplicate=True)
    return InboundResult(message=message, duplicate=False)


def _message_by_provider_id(channel: str, provider_id: str) -> Message | None:
    if not provider_id:
        return None
    return Message.objects.filter(channel=channel, provider_id=provider_id).first()


def _inbound_store(record: InboundRecord) -> Message:
    now = timezone.now()
    recognition = contact_recognize(
        identities=record.identities, first_name=record.first_name, last_name=record.last_name
    )
    contact = recognition.contact
    conversation = _continuing_conversation(contact_id=contact.pk, channel=record.channel, now=now)
    created = conversation is None
    reopened = False
    if created:
        conversation = Conversation.objects.create(
            contact=contact, service=record.service, opened_at=now, last_message_at=now
        )
    else:
        if conversation.status == Conversation.Status.CLOSED:
            reopened = True
            conversation.status = Conversation.Status.OPEN
            conversation.closed_at = None
        conversation.last_message_at = now
        conversation.save(update_fields=["status", "closed_at", "last_message_at"])
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
    interaction = None if created else open_legs.first()
    audiences = conversation_audiences(conversation)
    if created:
        realtime.publish(
            audiences=audiences,
            type=events.CONVERSATION_CREATED,
            payload=events.conversation_payload(conversation),
        )
    elif reopened:
        realtime.publish(
            audiences=audiences,
            type=events.CONVERSATION_REOPENED,
            payload=events.conversation_payload(conversation),
        )
        lifecycle_notify(Lifecycle.REOPENED, conversation=conversation)
    if interaction is None:
        interaction = _inbound_interaction(
            conversation=conversation, record=record, reopened=reopened, now=now
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
    return message


def _inbound_interaction(
    *, conversation: Conversation, record: InboundRecord, reopened: bool, now: datetime
) -> Interaction:
    """A new channel leg. It joins the agent already handling an open conversation; otherwise
    (new or reopened conversation) it waits in the service queue, preferring the last agent."""
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
    if conversation.agent_id and not reopened:
        interaction.state = Interaction.State.ACTIVE
        interaction.agent_id = conversation.agent_id
        interaction.answered_at = now
        interaction.save()
        return interaction
    preferred = queue.preferred_agent_for(contact_id=conversation.contact_id, now=now)
    if reopened and conversation.agent_id:
        conversation.agent = None
        conversation.save(update_fields=["agent"])
    interaction.queued_at = now
    interaction.preferred_agent_id = preferred
    queue.interaction_enqueue(interaction=interaction)  # inserts the row
    return interaction


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
