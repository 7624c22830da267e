from django import template

from ..models import AgentState, Message
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
