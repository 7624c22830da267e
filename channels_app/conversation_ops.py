"""Writers on ``conversations`` models that the channel side needs and ``conversations`` does not
offer publicly (yet); the one place the channel side writes conversations' rows directly.

- ``system_line_add`` (re-exported from ``conversations.timeline``, the one writer of system
  lines): an internal system line in the agent's timeline (e.g. "Customer texted STOP").
- ``AgentLine`` / ``agent_line``: the texts of those lines. They are stored in the site's language
  and shown in each agent's language (``conversations.stored_text``); ``ChannelsAppConfig.ready``
  registers them.
"""

from django.utils.translation import gettext_noop

from conversations.stored_text import stored_text


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
    EMAIL_BOUNCED = gettext_noop("The email to %(address)s bounced: %(reason)s")
    CHAT_NOT_DELIVERED = gettext_noop(
        "The customer has left the chat; the message was not delivered."
    )


AGENT_LINES = tuple(value for name, value in vars(AgentLine).items() if not name.startswith("_"))


def agent_line(text: str, **params: object) -> str:
    """A system line's text in the site's language, not the customer's (whose language is active
    while the customer's requests are handled); each agent reads it in their own. ``text`` is one
    of ``AgentLine``."""
    return stored_text(text, **params)
