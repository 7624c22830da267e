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
