"""Where a waiting chat stands in its service queue, for the customer's widget.

The position is ``conversations.selectors.queue_position``; the wait is
``conversations.selectors.estimated_wait_seconds`` — the same function supervisors and the API
see, fed with the same figures (cached a couple of seconds per service: every waiting widget asks
for them when the queue moves).
"""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Q

from conversations.models import AgentProfile, AgentState, Interaction
from conversations.selectors import estimated_wait_seconds, queue_figures, queue_position

FIGURES_CACHE_SECONDS = 2


@dataclass(frozen=True)
class QueueStanding:
    position: int
    estimated_wait_seconds: int | None


def agents_staffed(*, service_id: int) -> int:
    """Agents of the service who are logged in (in any state but Logged out)."""
    return (
        AgentProfile.objects.filter(Q(services=service_id) | Q(teams__services=service_id))
        .exclude(state=AgentState.LOGGED_OUT)
        .values("pk")
        .distinct()
        .count()
    )


def _service_numbers(interaction: Interaction) -> tuple[float | None, dict[str, int]]:
    key = f"webchat:queue-figures:{interaction.service_id}"
    numbers = cache.get(key)
    if numbers is None:
        figures = queue_figures(service=interaction.service)
        numbers = (figures.average_speed_of_answer_seconds, figures.agents_by_state)
        cache.set(key, numbers, timeout=FIGURES_CACHE_SECONDS)
    return numbers


def queue_standing(*, interaction: Interaction) -> QueueStanding:
    # 0 while it is being offered to an agent: the customer is next.
    position = max(queue_position(interaction=interaction), 1)
    if interaction.service_id is None:
        return QueueStanding(position=position, estimated_wait_seconds=None)
    average_answer, agents_by_state = _service_numbers(interaction)
    wait = estimated_wait_seconds(
        position=position, average_answer_seconds=average_answer, agents_by_state=agents_by_state
    )
    return QueueStanding(position=position, estimated_wait_seconds=wait)
