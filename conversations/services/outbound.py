"""Outbound: the outbox. An agent's reply is a ``queued`` Message row written with the action;
delivery claims it, hands it to the channel's adapter and records what the provider said.

The rules that keep a message from being sent twice or lost:

- A delivery claims the row with a conditional update (``queued -> sending``), so a duplicated or
  redelivered task finds nothing to do.
- A row with a provider id is never sent again: the provider has it. The sweeper asks the
  provider what became of it (``reconcile``) or, when the provider cannot say, marks it ``sent``.
- A row whose send may have reached the provider without its id being recorded (the worker died
  mid-send, a timeout) is reconciled before it is sent again: the adapter looks for it at the
  provider and adopts the id it finds.
- Status only moves forward (``STATUS_RANK``): a late ``sent`` never undoes ``delivered``.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, ValidationError

from .. import events
from ..models import STATUS_RANK, Channel, Conversation, Interaction, Message, MessageStatus
from ..ports import Reconciliation, SendError, get_sender, sender_addresses
from ..selectors import SPOKEN_CHANNELS, conversation_audiences
from .guards import ensure_participant
from .legs import interaction_open
from .triggers import deliver_message_on_commit

logger = logging.getLogger(__name__)

MAX_BODY_LENGTH = {Channel.SMS: 1600, Channel.CHAT: 5000, Channel.EMAIL: 100_000}
#: Provider statuses that only say "accepted, on its way": once the sweeper has waited this long
#: for a callback, the message counts as sent.
IN_FLIGHT = (MessageStatus.QUEUED, MessageStatus.SENDING)


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
    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("The message is empty."), field="body")
    if client_token:
        previous = Message.objects.filter(sender=user, client_token=client_token).first()
        if previous:
            return previous
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        ensure_participant(conversation, user)
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
        update = ["last_message_at"]
        if conversation.is_parked:  # writing to the customer takes a parked case up again
            conversation.case_state = Conversation.CaseState.OPEN
            conversation.pending_reason = ""
            conversation.follow_up_at = conversation.resolved_at = None
            update += ["case_state", "pending_reason", "follow_up_at", "resolved_at"]
            realtime.publish(
                audiences=conversation_audiences(conversation),
                type=events.CONVERSATION_CASE_CHANGED,
                payload=events.conversation_payload(conversation),
            )
        conversation.save(update_fields=update)
        realtime.publish(
            audiences=conversation_audiences(conversation),
            type=events.MESSAGE_CREATED,
            payload=events.message_payload(message),
        )
        deliver_message_on_commit(message.pk)
    return message


def message_send_automatic(
    *,
    conversation: Conversation,
    channel: str,
    body: str,
    to_address: str,
    from_address: str,
    interaction: Interaction | None = None,
) -> Message:
    """Queue a message the system sends on its own (an acknowledgement, a chat transcript).

    It is written to the outbox and delivered like an agent's reply, with no sender: on
    ``interaction``, or on a new outbound leg of ``channel`` to ``to_address`` that starts and
    ends with it (the system keeps nothing open, so the conversation closes as it would have).
    There is no identity check: the caller decides where the system writes. Idempotency is the
    caller's (it writes this in the same transaction as what it answers, once).
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("The message is empty."), field="body")
    if channel not in Channel.values:
        raise ValidationError(
            gettext("Unknown channel '%(channel)s'.") % {"channel": channel}, field="channel"
        )
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        now = timezone.now()
        audiences = conversation_audiences(conversation)
        if interaction is None:
            interaction = Interaction.objects.create(
                conversation=conversation,
                channel=channel,
                direction=Interaction.Direction.OUTBOUND,
                state=Interaction.State.ENDED,
                customer_address=to_address,
                service_address=from_address,
                service_id=conversation.service_id,
                started_at=now,
                ended_at=now,
            )
            realtime.publish(
                audiences=audiences,
                type=events.INTERACTION_STARTED,
                payload=events.interaction_payload(interaction),
            )
        message = Message.objects.create(
            conversation=conversation,
            interaction=interaction,
            channel=interaction.channel,
            direction=Message.Direction.OUTBOUND,
            body=body[: MAX_BODY_LENGTH.get(interaction.channel, 5000)],
            status=MessageStatus.QUEUED,
            created_at=now,
            status_changed_at=now,
        )
        realtime.publish(
            audiences=audiences,
            type=events.MESSAGE_CREATED,
            payload=events.message_payload(message),
        )
        deliver_message_on_commit(message.pk)
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
    interactions = conversation.interactions.filter(state=Interaction.State.ACTIVE).exclude(
        channel__in=SPOKEN_CHANNELS
    )
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
    return interaction_open(
        conversation=conversation,
        channel=channel,
        user=user,
        customer_address=to_address,
        service_address=from_address,
    )


# --- Delivery -------------------------------------------------------------------------------


def message_deliver(*, message_id: int) -> Message | None:
    """Claim a queued message and hand it to its channel's adapter (called by the deliver task).

    The claim is a conditional update (queued -> sending), so a redelivered or duplicated task
    finds nothing to do. A message tried before whose outcome is unknown is first looked for at
    the provider. Raises SendError when the failure is transient so the task retries.
    """
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id,
        status=MessageStatus.QUEUED,
        direction=Message.Direction.OUTBOUND,
        provider_id="",
    ).update(status=MessageStatus.SENDING, status_changed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    message = Message.objects.select_related("interaction", "conversation").get(pk=message_id)
    sender = get_sender(message.channel)
    if message.attempts > 1 and hasattr(sender, "reconcile"):
        found = _reconcile_quietly(sender, message)
        if found is not None and found.found:
            return _adopt(message, found)
    try:
        result = sender.send(message)
    except SendError as exc:
        return _send_failed(message_id, exc)
    return message_status_update(
        message_id=message_id, status=result.status, provider_id=result.provider_id
    )


def _send_failed(message_id: int, exc: SendError) -> Message:
    with transaction.atomic():
        _lock_conversation_of(message_id)
        message = Message.objects.select_for_update().get(pk=message_id)
        permanent = not exc.transient or message.attempts >= settings.OUTBOUND_MAX_RETRIES
        message.status = MessageStatus.FAILED if permanent else MessageStatus.QUEUED
        message.error_code = exc.code[:40]
        message.error_message = exc.message[:500]
        message.status_changed_at = timezone.now()
        message.save(update_fields=["status", "error_code", "error_message", "status_changed_at"])
        if permanent:
            _publish_status(message)
    if not permanent:
        raise exc
    logger.warning("message %s failed permanently: %s", message_id, exc.message)
    return message


def _reconcile_quietly(sender, message: Message) -> Reconciliation | None:
    try:
        return sender.reconcile(message)
    except SendError as exc:
        logger.warning("message %s: the provider could not be asked (%s)", message.pk, exc)
        return None


def _adopt(message: Message, found: Reconciliation) -> Message | None:
    return message_status_update(
        message_id=message.pk,
        status=found.status or MessageStatus.SENDING,
        provider_id=found.provider_id,
        error_code=found.error_code,
        error_message=found.error_message,
    )


def message_status_update(
    *,
    message_id: int,
    status: str,
    provider_id: str = "",
    error_code: str = "",
    error_message: str = "",
) -> Message | None:
    """Move a message's delivery status forward only; a late ``sent`` never undoes ``delivered``.

    The conversation is locked first (as every writer of its events does), so its events are
    numbered in the order they commit."""
    if status not in MessageStatus.values:
        raise ValidationError(
            gettext("Unknown message status '%(status)s'.") % {"status": status}, field="status"
        )
    with transaction.atomic():
        _lock_conversation_of(message_id)
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return None
        changed = []
        if provider_id and not message.provider_id:
            message.provider_id = provider_id
            changed.append("provider_id")
        if STATUS_RANK[status] > STATUS_RANK[message.status]:
            message.status = status
            message.status_changed_at = timezone.now()
            changed += ["status", "status_changed_at"]
            if error_code or error_message:
                message.error_code = error_code[:40]
                message.error_message = error_message[:500]
                changed += ["error_code", "error_message"]
            _publish_status(message)
        if changed:
            message.save(update_fields=changed)
    return message


def _lock_conversation_of(message_id: int) -> None:
    """Conversation first, then the message: the lock order of every writer (it also keeps the
    conversation's events in commit order)."""
    conversation_id = Message.objects.filter(pk=message_id).values("conversation_id")[:1]
    list(Conversation.objects.select_for_update().filter(pk=conversation_id).values_list("pk"))


def _publish_status(message: Message) -> None:
    realtime.publish(
        audiences=conversation_audiences(message.conversation),
        type=events.MESSAGE_STATUS_CHANGED,
        payload=events.message_status_payload(message),
    )


# --- The sweeper ------------------------------------------------------------------------------


def outbound_stuck_ids(*, older_than_seconds: int, limit: int = 500) -> list[int]:
    """Outbound messages left in queued/sending longer than ``older_than_seconds``: never handed
    to the worker (the broker was down), a worker that died mid-send, or a provider that never
    called back. Each is looked at again by :func:`outbound_reconcile`."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Message.objects.filter(
            direction=Message.Direction.OUTBOUND,
            status__in=IN_FLIGHT,
            status_changed_at__lt=cutoff,
        )
        .order_by("status_changed_at")
        .values_list("id", flat=True)[:limit]
    )


def outbound_reconcile(*, message_id: int, older_than_seconds: int) -> str:
    """Settle one stuck outbound message; returns what to do next: ``"deliver"`` (it is queued
    and was never sent: the caller enqueues a delivery), or ``""`` (settled here or not stuck).

    - With a provider id it is never sent again: its status comes from the provider, else it is
      marked sent (the provider accepted it; a later callback still moves it forward).
    - Sending without a provider id (the send crashed): looked for at the provider; found, the id
      is adopted; not found, it goes back to queued and is delivered again.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    message = (
        Message.objects.select_related("interaction", "conversation")
        .filter(
            pk=message_id,
            direction=Message.Direction.OUTBOUND,
            status__in=IN_FLIGHT,
            status_changed_at__lt=cutoff,
        )
        .first()
    )
    if message is None:
        return ""
    try:
        sender = get_sender(message.channel)
    except SendError:
        sender = None
    can_ask = sender is not None and hasattr(sender, "reconcile")
    if message.provider_id:
        found = _reconcile_quietly(sender, message) if can_ask else None
        status = found.status if found is not None and found.found else ""
        if not status or status in IN_FLIGHT:
            status = MessageStatus.SENT
        message_status_update(
            message_id=message.pk,
            status=status,
            error_code=found.error_code if found else "",
            error_message=found.error_message if found else "",
        )
        return ""
    if message.status == MessageStatus.SENDING and can_ask:
        found = _reconcile_quietly(sender, message)
        if found is None:
            return ""  # the provider cannot be asked now: look again next sweep
        if found.found:
            _adopt(message, found)
            return ""
    if message.status == MessageStatus.SENDING:
        Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING, provider_id="").update(
            status=MessageStatus.QUEUED, status_changed_at=timezone.now()
        )
    return "deliver"
