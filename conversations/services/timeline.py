"""The timeline's own writers: system lines (what the system itself says in a conversation:
transfers, joins, keyword opt-outs, timeouts) and internal notes."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import ValidationError

from .. import events
from ..models import Conversation, Interaction, Message, MessageStatus
from ..selectors import conversation_audiences
from ..system_lines import SystemText
from .guards import ensure_participant

NOTE_MAX_LENGTH = 10_000


def system_line_add(
    *,
    conversation: Conversation,
    interaction: Interaction | None,
    text: SystemText,
    params: dict | None = None,
    sender: AbstractBaseUser | None = None,
    extra_audiences: list[str] | None = None,
) -> Message:
    """Append a system line (``text`` with ``params``, stored as its code and parameters) and
    tell the conversation's agents (in the caller's transaction; the event rings after commit).
    Locks the conversation (most callers hold it already)."""
    params = {key: str(value) for key, value in (params or {}).items()}
    list(Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("pk"))
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        interaction=interaction,
        channel=interaction.channel if interaction else "",
        direction=Message.Direction.INTERNAL,
        kind=Message.Kind.SYSTEM,
        body=text.stored(params),
        system_code=text.code,
        system_params=params,
        sender=sender,
        status=MessageStatus.RECEIVED,
        created_at=now,
        status_changed_at=now,
    )
    realtime.publish(
        audiences=[*conversation_audiences(conversation), *(extra_audiences or [])],
        type=events.MESSAGE_CREATED,
        payload=events.message_payload(message),
    )
    return message


def note_add(*, conversation: Conversation, user: AbstractBaseUser, body: str) -> Message:
    """An internal note in the timeline: staff only, never sent to the customer."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("The note is empty."), field="body")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        ensure_participant(conversation, user, allow_closed=True)
        message = Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.INTERNAL,
            kind=Message.Kind.NOTE,
            body=body[:NOTE_MAX_LENGTH],
            sender=user,
            status=MessageStatus.RECEIVED,
        )
        realtime.publish(
            audiences=conversation_audiences(conversation),
            type=events.MESSAGE_CREATED,
            payload=events.message_payload(message),
        )
    return message
