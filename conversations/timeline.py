"""The one writer of system lines: what the system itself says in a conversation's timeline
(transfers, joins, keyword opt-outs, timeouts). Texts come from ``stored_text`` so each reader
sees them in their language."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from contactcenter import realtime

from .models import Conversation, Interaction, Message, MessageStatus
from .selectors import conversation_audiences


def system_line_add(
    *,
    conversation: Conversation,
    interaction: Interaction | None,
    body: str,
    sender: AbstractBaseUser | None = None,
    extra_audiences: list[str] | None = None,
) -> Message:
    """Append a system line and tell the conversation's agents (in the caller's transaction; the
    event rings after commit)."""
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        interaction=interaction,
        channel=interaction.channel if interaction else "",
        direction=Message.Direction.INTERNAL,
        kind=Message.Kind.SYSTEM,
        body=body,
        sender=sender,
        status=MessageStatus.RECEIVED,
        created_at=now,
        status_changed_at=now,
    )
    realtime.publish(
        audiences=[*conversation_audiences(conversation), *(extra_audiences or [])],
        type="message.created",
        payload={
            "conversation_id": conversation.pk,
            "message_id": message.pk,
            "interaction_id": message.interaction_id,
            "channel": message.channel,
            "direction": message.direction,
            "status": message.status,
        },
    )
    return message
