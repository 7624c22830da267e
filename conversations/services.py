"""Writers for conversations, interactions, messages and agent state.

Every function here runs in one transaction, locks what it changes, appends events through
``contactcenter.realtime.publish`` and enqueues tasks only on commit.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound, ValidationError
from contacts.services import contact_recognize

from . import routing
from .models import (
    STATUS_RANK,
    Channel,
    Conversation,
    Interaction,
    Message,
    MessageStatus,
    Service,
)
from .selectors import conversation_audiences, takes_part_in

logger = logging.getLogger(__name__)

MAX_BODY_LENGTH = {Channel.SMS: 1600, Channel.CHAT: 5000, Channel.EMAIL: 100_000}


# --- Inbound --------------------------------------------------------------------------------


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
            contact=contact, service=record.service, opened_at=now
        )
    elif conversation.status == Conversation.Status.CLOSED:
        reopened = True
        conversation.status = Conversation.Status.OPEN
        conversation.closed_at = None
    if recognition.possible_duplicate:
        conversation.duplicate_candidates.add(*recognition.candidates[1:])
    conversation.last_message_at = now
    conversation.save()

    open_legs = (
        conversation.interactions.select_for_update()
        .filter(channel=record.channel)
        .exclude(state=Interaction.State.ENDED)
    )
    if record.customer_address:
        # Two browsers (or phones) of one contact are two legs, not one shared leg.
        open_legs = open_legs.filter(customer_address=record.customer_address)
    interaction = open_legs.first()
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
    audiences = conversation_audiences(conversation)
    if created:
        realtime.publish(
            audiences=audiences,
            type="conversation.created",
            payload=_conversation_payload(conversation),
        )
    realtime.publish(audiences=audiences, type="message.created", payload=_message_payload(message))
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
        interaction.save()
        return interaction
    preferred = routing.preferred_agent_for(contact_id=conversation.contact_id, now=now)
    if reopened and conversation.agent_id:
        conversation.agent = None
        conversation.save(update_fields=["agent"])
    interaction.queued_at = now
    interaction.save()
    routing.interaction_enqueue(interaction=interaction, preferred_agent_id=preferred)
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


# --- Outbound -------------------------------------------------------------------------------


def message_send(
    *,
    conversation: Conversation,
    user: AbstractBaseUser,
    body: str,
    channel: str | None = None,
    client_token: str = "",
    to_address: str = "",
    from_address: str = "",
) -> Message:
    """Queue an agent's reply. The Message row is the outbox; delivery runs after commit.

    A repeated ``client_token`` from the same user (double click, retried request) returns the
    first message instead of sending twice.
    """
    from .tasks import deliver_message

    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("The message is empty."), field="body")
    if client_token:
        previous = Message.objects.filter(sender=user, client_token=client_token).first()
        if previous:
            return previous
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        _ensure_can_act(conversation=conversation, user=user)
        interaction = _interaction_for_reply(
            conversation=conversation,
            channel=channel,
            user=user,
            to_address=to_address,
            from_address=from_address,
        )
        limit = MAX_BODY_LENGTH.get(interaction.channel, 5000)
        if len(body) > limit:
            raise ValidationError(
                gettext("The message is %(length)s characters long; the limit is %(limit)s.")
                % {"length": len(body), "limit": limit},
                field="body",
            )
        if interaction.channel == Channel.SMS and conversation.contact.do_not_text:
            raise ValidationError(
                gettext("This contact has opted out of SMS (STOP); nothing was sent."),
                field="channel",
            )
        now = timezone.now()
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    conversation=conversation,
                    interaction=interaction,
                    channel=interaction.channel,
                    direction=Message.Direction.OUTBOUND,
                    body=body,
                    sender=user,
                    status=MessageStatus.QUEUED,
                    client_token=client_token,
                    created_at=now,
                    status_changed_at=now,
                )
        except IntegrityError:
            return Message.objects.get(sender=user, client_token=client_token)
        conversation.last_message_at = now
        conversation.save(update_fields=["last_message_at"])
        realtime.publish(
            audiences=conversation_audiences(conversation),
            type="message.created",
            payload=_message_payload(message),
        )
        transaction.on_commit(lambda: deliver_message.delay(message.pk))
    return message


def message_retry(*, message: Message, user: AbstractBaseUser) -> Message:
    """Send a failed or undelivered outbound message again, as a new message on the same
    interaction (the failed one keeps its error). Retrying twice returns the same new message."""
    if message.direction != Message.Direction.OUTBOUND or message.status not in (
        MessageStatus.FAILED,
        MessageStatus.UNDELIVERED,
    ):
        raise InvalidState(gettext("Only a failed or undelivered message can be sent again."))
    interaction = message.interaction
    return message_send(
        conversation=message.conversation,
        user=user,
        body=message.body,
        channel=interaction.channel if interaction else None,
        to_address=interaction.customer_address if interaction else "",
        from_address=interaction.service_address if interaction else "",
        client_token=f"retry-{message.pk}",
    )


def _ensure_can_act(*, conversation: Conversation, user: AbstractBaseUser) -> None:
    if not takes_part_in(conversation=conversation, user=user):
        raise NotFound(gettext("Conversation not found."))
    if conversation.status == Conversation.Status.CLOSED:
        raise InvalidState(gettext("The conversation is closed."))


def _interaction_for_reply(
    *,
    conversation: Conversation,
    channel: str | None,
    user: AbstractBaseUser,
    to_address: str = "",
    from_address: str = "",
) -> Interaction:
    """The open interaction to reply on; or, with an address, a new outbound leg of ``channel``
    in the same conversation (an SMS to the contact's phone during a chat)."""
    interactions = conversation.interactions.filter(state=Interaction.State.ACTIVE)
    if channel:
        if channel not in Channel.values:
            raise ValidationError(
                gettext("Unknown channel '%(channel)s'.") % {"channel": channel}, field="channel"
            )
        interactions = interactions.filter(channel=channel)
    if to_address:
        interactions = interactions.filter(customer_address=to_address)
    interaction = interactions.order_by("-started_at", "-id").first()
    if interaction is not None:
        return interaction
    if not channel or not to_address:
        raise InvalidState(gettext("There is no open interaction to reply on."), field="channel")
    return _outbound_leg_open(
        conversation=conversation,
        channel=channel,
        user=user,
        to_address=to_address,
        from_address=from_address,
    )


def _outbound_leg_open(
    *,
    conversation: Conversation,
    channel: str,
    user: AbstractBaseUser,
    to_address: str,
    from_address: str,
) -> Interaction:
    from .outbound import sender_addresses

    if conversation.status != Conversation.Status.OPEN:
        raise InvalidState(gettext("The conversation is in wrap-up; no new interaction can start."))
    kind = {Channel.SMS: "phone", Channel.VOICE: "phone", Channel.EMAIL: "email"}.get(channel)
    if kind is None:
        raise ValidationError(
            gettext("Cannot start a %(channel)s interaction.") % {"channel": channel},
            field="channel",
        )
    owned = conversation.contact.identities.filter(kind=kind, value=to_address).exists()
    if not owned:
        raise ValidationError(
            gettext("%(address)s is not one of this contact's %(kind)s identities.")
            % {"address": to_address, "kind": kind},
            field="to",
        )
    addresses = sender_addresses(channel=channel, service_id=conversation.service_id)
    from_address = from_address or (addresses[0] if addresses else "")
    if from_address not in addresses:
        raise ValidationError(
            gettext("%(address)s is not an address this service can send from.")
            % {"address": from_address or gettext("Nothing")},
            field="from",
        )
    interaction = Interaction.objects.create(
        conversation=conversation,
        channel=channel,
        direction=Interaction.Direction.OUTBOUND,
        state=Interaction.State.ACTIVE,
        customer_address=to_address,
        service_address=from_address,
        agent=user,
        service_id=conversation.service_id,
        answered_at=timezone.now(),
    )
    realtime.publish(
        audiences=conversation_audiences(conversation),
        type="interaction.started",
        payload={
            "conversation_id": conversation.pk,
            "interaction_id": interaction.pk,
            "channel": channel,
        },
    )
    return interaction


def message_deliver(*, message_id: int) -> Message | None:
    """Claim a queued message and hand it to its channel's adapter (called by the deliver task).

    The claim is a conditional update (queued -> sending), so a redelivered or duplicated task
    finds nothing to do. Raises SendError when the failure is transient so the task retries.
    """
    from .outbound import SendError, get_sender

    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, status=MessageStatus.QUEUED, direction=Message.Direction.OUTBOUND
    ).update(status=MessageStatus.SENDING, status_changed_at=now)
    if not claimed:
        return None
    message = Message.objects.select_related("interaction", "conversation").get(pk=message_id)
    try:
        result = get_sender(message.channel).send(message)
    except SendError as exc:
        with transaction.atomic():
            message = Message.objects.select_for_update().get(pk=message_id)
            message.attempts += 1
            permanent = not exc.transient or message.attempts >= settings.OUTBOUND_MAX_RETRIES
            message.status = MessageStatus.FAILED if permanent else MessageStatus.QUEUED
            message.error_code = exc.code[:40]
            message.error_message = exc.message[:500]
            message.status_changed_at = timezone.now()
            message.save()
            if permanent:
                _publish_status(message)
        if not permanent:
            raise
        logger.warning("message %s failed permanently: %s", message_id, exc.message)
        return message
    return message_status_update(
        message_id=message_id, status=result.status, provider_id=result.provider_id
    )


def message_status_update(
    *,
    message_id: int,
    status: str,
    provider_id: str = "",
    error_code: str = "",
    error_message: str = "",
) -> Message | None:
    """Move a message's delivery status forward only; a late ``sent`` never undoes ``delivered``."""
    if status not in MessageStatus.values:
        raise ValidationError(
            gettext("Unknown message status '%(status)s'.") % {"status": status}, field="status"
        )
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return None
        changed = False
        if provider_id and not message.provider_id:
            message.provider_id = provider_id
            changed = True
        if STATUS_RANK[status] > STATUS_RANK[message.status]:
            message.status = status
            message.status_changed_at = timezone.now()
            if error_code or error_message:
                message.error_code = error_code[:40]
                message.error_message = error_message[:500]
            changed = True
            _publish_status(message)
        if changed:
            message.save()
    return message


def _publish_status(message: Message) -> None:
    realtime.publish(
        audiences=conversation_audiences(message.conversation),
        type="message.status_changed",
        payload={
            "conversation_id": message.conversation_id,
            "message_id": message.pk,
            "status": message.status,
            "error_code": message.error_code,
            "error_message": message.error_message,
        },
    )


def outbound_requeue_stuck(*, older_than_seconds: int) -> list[int]:
    """Ids of outbound messages stuck in queued/sending; sending ones go back to queued."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stuck = Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        status__in=[MessageStatus.QUEUED, MessageStatus.SENDING],
        status_changed_at__lt=cutoff,
    )
    ids = list(stuck.values_list("id", flat=True)[:500])
    Message.objects.filter(id__in=ids, status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, status_changed_at=timezone.now()
    )
    return ids


# --- Notes ----------------------------------------------------------------------------------


def note_add(*, conversation: Conversation, user: AbstractBaseUser, body: str) -> Message:
    """An internal note in the timeline: staff only, never sent to the customer."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("The note is empty."), field="body")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if not takes_part_in(conversation=conversation, user=user):
            raise NotFound(gettext("Conversation not found."))
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.INTERNAL,
            kind=Message.Kind.NOTE,
            body=body[:10_000],
            sender=user,
            status=MessageStatus.RECEIVED,
        )
        realtime.publish(
            audiences=conversation_audiences(conversation),
            type="message.created",
            payload=_message_payload(message),
        )
    return message


# --- Event payloads -------------------------------------------------------------------------


def _conversation_payload(conversation: Conversation) -> dict:
    return {
        "conversation_id": conversation.pk,
        "number": conversation.number,
        "status": conversation.status,
        "agent_id": conversation.agent_id,
        "service_id": conversation.service_id,
    }


def _message_payload(message: Message) -> dict:
    return {
        "conversation_id": message.conversation_id,
        "message_id": message.pk,
        "interaction_id": message.interaction_id,
        "channel": message.channel,
        "direction": message.direction,
        "status": message.status,
    }
