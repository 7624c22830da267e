"""SMS keywords carriers and Twilio treat specially (Twilio's default opt-out handling).

A message whose whole body is one keyword (case-insensitive, surrounding spaces and a final . or !
ignored) opts the sender out of or back in to SMS, or asks for help. Twilio itself blocks sends to
a number that texted STOP; ``Contact.do_not_text`` mirrors it so the agent sees it and
``message_send`` refuses before calling Twilio.
"""

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})


class Keyword:
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


def sms_keyword(body: str) -> tuple[str, str] | None:
    """(kind, the keyword as matched) or None when the body is not a keyword."""
    word = (body or "").strip().rstrip(".!").strip().upper()
    if word in OPT_OUT:
        return Keyword.OPT_OUT, word
    if word in OPT_IN:
        return Keyword.OPT_IN, word
    if word in HELP:
        return Keyword.HELP, word
    return None


def sms_keyword_apply(*, message) -> str | None:
    """Act on a keyword in a just-stored inbound SMS: set or clear the contact's do-not-text flag
    and put a system line in the agent's timeline (the SMS itself stays in the timeline too).
    Runs in the caller's transaction. Returns the keyword kind, or None."""
    from contacts.services import contact_set_do_not_text
    from conversations.services import system_line_add

    from ..conversation_ops import AgentLine

    found = sms_keyword(message.body)
    if found is None:
        return None
    kind, word = found
    contact = message.conversation.contact
    if kind == Keyword.OPT_OUT:
        contact_set_do_not_text(contact=contact, value=True, reason=f"SMS {word}")
        line = AgentLine.SMS_OPTED_OUT
    elif kind == Keyword.OPT_IN:
        changed = contact_set_do_not_text(contact=contact, value=False, reason=f"SMS {word}")
        if not changed:
            return None  # "YES" from someone never opted out is just a reply
        line = AgentLine.SMS_OPTED_IN
    else:
        line = AgentLine.SMS_HELP
    system_line_add(
        conversation=message.conversation,
        interaction=message.interaction,
        text=line,
        params={"word": word},
    )
    return kind


def web_media(media: list[dict]) -> list[dict]:
    """Only http(s) media URLs are kept (they are shown as links and images to agents)."""
    return [
        item
        for item in media
        if isinstance(item.get("url"), str)
        and item["url"].lower().startswith(("https://", "http://"))
    ]
