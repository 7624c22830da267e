"""Writers on ``conversations`` models that the channel side needs and ``conversations`` does not
offer publicly (yet); the one place the channel side writes conversations' rows directly.

- ``system_line_add``: an internal system line in the agent's timeline (e.g. "Customer texted
  STOP"). ``conversations.routing`` and ``lifecycle`` each write their own privately; one public
  service in conversations should replace all three.
- ``AgentLine`` / ``agent_line``: the texts of those lines. They are stored in the site's language
  and shown in each agent's language (``conversations.stored_text``); ``ChannelsAppConfig.ready``
  registers them.
"""

from django.utils import timezone
from django.utils.translation import gettext_noop

from contactcenter import realtime
from conversations.models import Conversation, Interaction, Message, MessageStatus
from conversations.selectors import conversation_audiences
from conversations.stored_text import stored_text


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


class AgentLine:
    """System lines and delivery errors the channel side writes into conversations."""

    SMS_OPTED_OUT = gettext_noop(
        "The customer texted %(word)s: they opted out of SMS. Nothing more can be sent to them by "
        "SMS until they text START."
    )
    SMS_OPTED_IN = gettext_noop("The customer texted %(word)s: they opted back in to SMS.")
    SMS_HELP = gettext_noop("The customer texted %(word)s (asking for help).")
    CHAT_PRECHAT = gettext_noop("Pre-chat form: %(details)s.")
    CHAT_PAGE_TITLED = gettext_noop("Customer is on the page “%(title)s” (%(url)s).")
    CHAT_PAGE = gettext_noop("Customer is on the page %(url)s.")
    CHAT_ENDED_INACTIVE = gettext_noop(
        "The chat ended: the customer was inactive for %(minutes)s min."
    )
    CHAT_ENDED_BY_CUSTOMER = gettext_noop("The customer ended the chat.")
    CHAT_TRANSCRIPT_REQUESTED = gettext_noop(
        "The customer asked for the transcript by email (%(email)s)."
    )
    CHAT_NOT_DELIVERED = gettext_noop(
        "The customer has left the chat; the message was not delivered."
    )


AGENT_LINES = tuple(value for name, value in vars(AgentLine).items() if not name.startswith("_"))


def agent_line(text: str, **params: object) -> str:
    """A system line's text in the site's language, not the customer's (whose language is active
    while the customer's requests are handled); each agent reads it in their own. ``text`` is one
    of ``AgentLine``."""
    return stored_text(text, **params)
