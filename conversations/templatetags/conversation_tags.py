from django import template

from ..models import AgentState
from ..stored_text import stored_text_display

register = template.Library()


@register.filter
def stored_text(value: str) -> str:
    """A text the system stored (a system line, its own delivery error) in the reader's language;
    anything else unchanged. Never for customer text."""
    return stored_text_display(value or "")


@register.filter
def agent_state_label(value: str) -> str:
    """``ready`` -> "Ready", translated; an unknown state as is."""
    try:
        return str(AgentState(value).label)
    except ValueError:
        return value
