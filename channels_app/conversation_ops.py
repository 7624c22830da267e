"""Writers on ``conversations`` models that the channel side needs and ``conversations`` does not
offer publicly (yet); the one place the channel side writes conversations' rows directly.

- ``system_line_add``: an internal system line in the agent's timeline (e.g. "Customer texted
  STOP"). ``conversations.routing`` and ``lifecycle`` each write their own privately; one public
  service in conversations should replace all three.
"""

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from contactcenter import realtime
from conversations.models import Conversation, Interaction, Message, MessageStatus
from conversations.selectors import conversation_audiences


def system_line_add(*, conversation: Conversation, interaction: Interaction | None, body: str):
    """Append a system line to the conversation's timeline and tell its agents (in the caller's
    transaction; the event rings after commit)."""
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        interaction=interaction,
        channel=interaction.channel if interaction else "",
        direction=Message.Direction.INTERNAL,
        kind=Message.Kind.SYSTEM,
        body=body,
        status=MessageStatus.RECEIVED,
        created_at=now,
        status_changed_at=now,
    )
    realtime.publish(
        audiences=conversation_audiences(conversation),
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


def agent_line(text: str, **params: object) -> str:
    """A system line's text in the site's language, not the customer's (whose language is active
    while the customer's requests are handled). Mark ``text`` with ``gettext_noop``."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(text) % params if params else gettext(text)
