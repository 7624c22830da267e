from django import template

from ..models import AgentState, Message
from ..selectors import customer_label
from ..system_lines import system_text_render

register = template.Library()


@register.filter
def message_text(message: Message) -> str:
    """A message's text as the reader sees it: a system line in the reader's language (from its
    code and parameters), anything else as written. Never marked safe."""
    if message.kind == Message.Kind.SYSTEM and message.system_code:
        return system_text_render(message.system_code, message.system_params, fallback=message.body)
    return message.body


@register.filter
def error_text(message: Message) -> str:
    """A delivery error: ours (a known code) in the reader's language, a provider's as it said."""
    return system_text_render(message.error_code, fallback=message.error_message)


@register.filter
def agent_state_label(value: str) -> str:
    """``ready`` -> "Ready", translated; an unknown state as is."""
    try:
        return str(AgentState(value).label)
    except ValueError:
        return value


@register.filter
def seconds_duration(value: float | int | None) -> str:
    """Seconds as m:ss (or h:mm:ss past an hour)."""
    if value is None:
        return ""
    seconds = max(0, round(float(value)))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@register.filter
def agent_display(user) -> str:
    """The name agents and supervisors see for a user (their agent profile's name)."""
    from ..services.guards import agent_name

    return agent_name(user)


@register.filter
def waiting_interaction(conversation):
    """The conversation's oldest interaction waiting in the queue (floor view rows)."""
    from ..floor import waiting_interaction as oldest_waiting

    return oldest_waiting(conversation)


@register.filter
def list_name(conversation) -> str:
    """What the Active Conversations list calls a conversation's customer (``customer_name`` of
    its live legs)."""
    return customer_name(conversation, getattr(conversation, "open_interactions", ()))


@register.filter
def customer_name(conversation, interactions) -> str:
    """A conversation's customer as agents see them (``selectors.customer_label``)."""
    return customer_label(conversation.contact, interactions)
