"""Where a waiting chat stands in its service queue, for the customer's widget.

One function, ``queue_standing``, over the routing engine's selectors: the position is
``conversations.selectors.queue_position``; the wait comes from ``queue_figures`` (today's average
speed of answer x position / agents logged in). Before anyone was answered today, or with nobody
Ready or Busy, it falls back to position x ``WEBCHAT_AVERAGE_HANDLE_SECONDS`` / agents staffed.
The service's figures are cached for a few seconds: every waiting widget asks for them.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from conversations.models import AgentProfile, AgentState, Interaction
from conversations.selectors import queue_figures, queue_position

WORKING_STATES = (AgentState.READY, AgentState.BUSY, AgentState.OFFERED)


@dataclass(frozen=True)
class QueueStanding:
    position: int
    estimated_wait_seconds: int | None


def agents_staffed(*, service_id: int) -> int:
    """Agents of the service who are logged in (in any state but Logged out)."""
    return (
        AgentProfile.objects.filter(services=service_id)
        .exclude(state=AgentState.LOGGED_OUT)
        .count()
    )


def _service_numbers(interaction: Interaction) -> tuple[float | None, int, int]:
    key = f"webchat:queue-figures:{interaction.service_id}"
    numbers = cache.get(key)
    if numbers is None:
        figures = queue_figures(service=interaction.service)
        states = figures.agents_by_state
        numbers = (
            figures.average_speed_of_answer_seconds,
            sum(n for state, n in states.items() if state in WORKING_STATES),
            sum(n for state, n in states.items() if state != AgentState.LOGGED_OUT),
        )
        cache.set(key, numbers, timeout=max(1, int(settings.WEBCHAT_SYNC_SECONDS)))
    return numbers


def queue_standing(*, interaction: Interaction) -> QueueStanding:
    # 0 while it is being offered to an agent: the customer is next.
    position = max(queue_position(interaction=interaction), 1)
    if interaction.service_id is None:
        return QueueStanding(position=position, estimated_wait_seconds=None)
    average_answer, working, staffed = _service_numbers(interaction)
    if average_answer is not None and working:
        wait = average_answer * position / working
    elif staffed:
        wait = position * settings.WEBCHAT_AVERAGE_HANDLE_SECONDS / staffed
    else:
        return QueueStanding(position=position, estimated_wait_seconds=None)
    return QueueStanding(position=position, estimated_wait_seconds=math.ceil(wait))
