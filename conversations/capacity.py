"""Who can take what: agents' load, spare capacity and eligibility for an interaction (reads).

Routing calls these while holding the agent's row lock, so what they read cannot change under it.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .models import AgentProfile, AgentSkill, AgentState, Conversation, Interaction, Offer

LOAD_STATES = (Interaction.State.OFFERED, Interaction.State.ACTIVE)
ROUTABLE_STATES = (AgentState.READY, AgentState.BUSY)
REFUSED_STATES = (Offer.State.REJECTED, Offer.State.EXPIRED)


def agent_load(*, user_id: int, profile: AgentProfile | None = None) -> int:
    """Percent of the agent's capacity used by their offered and active interactions."""
    profile = profile or AgentProfile.objects.get(user_id=user_id)
    counts = (
        Interaction.objects.filter(agent_id=user_id, state__in=LOAD_STATES)
        .values("channel")
        .annotate(n=Count("id"))
    )
    return sum(profile.capacity_share(row["channel"]) * row["n"] for row in counts)


def has_capacity_for(*, profile: AgentProfile, channel: str) -> bool:
    spare = 100 - agent_load(user_id=profile.user_id, profile=profile)
    return spare >= profile.capacity_spare_needed(channel) and spare >= profile.capacity_share(
        channel
    )


def agent_has_work(*, user_id: int) -> bool:
    return Interaction.objects.filter(agent_id=user_id, state__in=LOAD_STATES).exists()


def agent_has_wrap_up(*, user_id: int) -> bool:
    return Conversation.objects.filter(
        agent_id=user_id, status=Conversation.Status.WRAP_UP
    ).exists()


def in_ramp_up(*, profile: AgentProfile, channel: str) -> bool:
    """Chats to an agent who just became Ready are staggered: during the ramp-up interval after
    Ready, at most one chat per ``ROUTING_RAMP_UP_STEP_SECONDS``."""
    ramp = settings.ROUTING_RAMP_UP_SECONDS
    if channel != "chat" or not ramp or profile.ready_since is None:
        return False
    now = timezone.now()
    if now - profile.ready_since >= timedelta(seconds=ramp):
        return False
    step = timedelta(seconds=settings.ROUTING_RAMP_UP_STEP_SECONDS)
    return (
        profile.last_routed_at is not None
        and profile.last_routed_at >= profile.ready_since
        and now - profile.last_routed_at < step
    )


def service_agents(service_id: int):
    """Profiles of the agents who work ``service_id`` (directly or through a team)."""
    return AgentProfile.objects.filter(Q(services=service_id) | Q(teams__services=service_id))


def candidate_profile_ids(interaction: Interaction) -> list[int]:
    """Agents who may be offered ``interaction``, best first.

    Eligible: working its service, Ready or Busy, with every required skill. Order: the preferred
    (returning customer's) agent first, then the longest idle; agents who already refused or
    missed it go last, and are left out altogether for ``ROUTING_REOFFER_AFTER_SECONDS`` after
    refusing unless they became Ready again since (an agent who missed an offer and goes Ready
    gets it again rather than strand the customer).
    """
    return preferred_first(candidate_rows(interaction), interaction)


def candidate_rows(interaction: Interaction) -> list[tuple[int, int]]:
    """(profile id, user id) of the agents who may be offered ``interaction``, in the order of
    :func:`candidate_profile_ids` before the preferred agent is moved first."""
    service = interaction.service
    candidates = AgentProfile.objects.filter(
        pk__in=service_agents(service.pk).values("pk"), state__in=ROUTABLE_STATES
    )
    if interaction.personal_agent_id:
        candidates = candidates.filter(user_id=interaction.personal_agent_id)
    required = {
        requirement.skill.name: requirement.min_level
        for requirement in service.required_skills.select_related("skill")
    }
    required.update(interaction.required_skills or {})
    for skill, level in required.items():
        candidates = candidates.filter(
            skills__in=AgentSkill.objects.filter(skill__name=skill, level__gte=int(level))
        )
    cooldown_start = timezone.now() - timedelta(seconds=settings.ROUTING_REOFFER_AFTER_SECONDS)
    refusals = Offer.objects.filter(
        interaction=interaction, agent_id=OuterRef("user_id"), state__in=REFUSED_STATES
    )
    candidates = candidates.annotate(
        refused=Exists(refusals),
        refused_lately=Exists(
            refusals.filter(
                ended_at__gt=Greatest(
                    Coalesce(OuterRef("ready_since"), Value(cooldown_start)), Value(cooldown_start)
                )
            )
        ),
    ).filter(refused_lately=False)
    ordered = candidates.order_by(
        "refused", F("last_routed_at").asc(nulls_first=True), "state_changed_at"
    )
    return list(ordered.values_list("id", "user_id"))


def preferred_first(rows: list[tuple[int, int]], interaction: Interaction) -> list[int]:
    """Profile ids of ``rows`` (profile id, user id), the interaction's preferred agent first,
    the others in their order."""
    preferred = interaction.preferred_agent_id
    return [profile_id for profile_id, user_id in sorted(rows, key=lambda r: r[1] != preferred)]
