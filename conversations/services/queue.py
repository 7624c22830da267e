"""Service queues and routing: who gets offered what.

Correctness under concurrency: an interaction is taken from the queue with
``SELECT ... FOR UPDATE SKIP LOCKED`` and an agent is locked the same way before their load is
read, so every assignment to an agent happens while holding that agent's row lock: no agent ever
exceeds capacity, and the partial unique constraint on live offers means no interaction is ever
offered twice, with any number of web and worker processes routing at once.

Routing runs on events (inbound, agent Ready, interaction ended, offer rejected/expired) through
``triggers.route_service_on_commit`` plus a periodic sweep (``conversations.tasks.route_all``).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound

from .. import events
from ..capacity import (
    REFUSED_STATES,
    ROUTABLE_STATES,
    candidate_profile_ids,
    candidate_rows,
    has_capacity_for,
    in_ramp_up,
    preferred_first,
    service_agents,
)
from ..models import AgentProfile, Conversation, Interaction, Offer
from ..ports import Lifecycle
from . import offers
from .lifecycle import lifecycle_notify
from .triggers import route_service_on_commit

QUEUE_SCAN = 50
#: Offers one routing transaction makes at most: a burst is offered in passes of one commit and
#: one INSERT of events each, instead of a transaction (and its commit) per offer.
ROUTE_PASS = 25


def route_service(*, service_id: int, limit: int = 500) -> int:
    """Make offers for the service's queue until nobody eligible is left; returns offers made."""
    made = 0
    while made < limit:
        with transaction.atomic(), realtime.publishing_batched():
            offered = _route_pass(service_id=service_id, limit=min(ROUTE_PASS, limit - made))
        if not offered:
            break
        made += offered
    return made


def services_with_waiting() -> list[int]:
    return list(
        Interaction.objects.filter(
            state=Interaction.State.QUEUED, service__isnull=False, external_routing=False
        )
        .values_list("service_id", flat=True)
        .distinct()
    )


def interaction_enqueue(*, interaction: Interaction, preferred_agent_id: int | None = None) -> None:
    """Put an interaction in its service queue (called inside the caller's transaction)."""
    now = timezone.now()
    interaction.state = Interaction.State.QUEUED
    interaction.agent = None
    interaction.queued_at = interaction.queued_at or now
    interaction.service_id = interaction.service_id or interaction.conversation.service_id
    if preferred_agent_id:
        interaction.preferred_agent_id = preferred_agent_id
    interaction.save()
    realtime.publish(
        audiences=[realtime.SUPERVISORS, realtime.service_audience(interaction.service_id)],
        type=events.QUEUE_CHANGED,
        payload=events.queue_payload(
            service_id=interaction.service_id, interaction_id=interaction.pk
        ),
    )
    lifecycle_notify(
        Lifecycle.QUEUED,
        conversation=interaction.conversation,
        interaction=interaction,
        service_id=interaction.service_id,
    )
    route_service_on_commit(interaction.service_id)


def _route_pass(*, service_id: int, limit: int) -> int:
    """Offers for the heads of the service's queue, in queue order, each to an agent who can
    take it, at most ``limit``; returns how many were made.

    Locks in the order every writer uses: the conversation (waited for: its writers hold it for
    milliseconds), then the interaction (skipped when another router has it; its state is read
    again under the lock), then the agent (skipped when another router has them). The locks are
    held until the pass commits, so an agent's load read under their lock includes the offers
    made to them earlier in the pass."""
    heads = list(
        Interaction.objects.filter(
            service_id=service_id, state=Interaction.State.QUEUED, external_routing=False
        )
        .order_by("-priority", "queued_at", "id")
        .values_list("id", "conversation_id")[:QUEUE_SCAN]
    )
    candidates = _PassCandidates(interaction_ids=[interaction_id for interaction_id, _ in heads])
    made = 0
    for interaction_id, conversation_id in heads:
        conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
        interaction = (
            Interaction.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("service")
            .filter(pk=interaction_id, state=Interaction.State.QUEUED)
            .first()
        )
        if conversation is None or interaction is None:
            continue
        interaction.conversation = conversation
        profile = _pick_agent(interaction, candidates.profile_ids(interaction))
        if profile is None:
            continue
        offers.offer_create(interaction=interaction, profile=profile)
        candidates.routed(profile.pk)
        made += 1
        if made >= limit:
            break
    return made


class _PassCandidates:
    """The eligible agents of one routing pass, read once per kind of interaction.

    Interactions of a burst that nobody refused yet, with the same required skills and personal
    agent, have the same candidates in the same order (longest idle first), except that an agent
    offered one of them in this pass becomes the most recently routed: kept in memory, that is
    one query per kind instead of one per offer. An interaction someone refused is read on its
    own (its refusers go last or are left out)."""

    def __init__(self, *, interaction_ids: list[int]) -> None:
        self.refused = set(
            Offer.objects.filter(
                interaction_id__in=interaction_ids, state__in=REFUSED_STATES
            ).values_list("interaction_id", flat=True)
        )
        self.rows: dict[tuple, list[tuple[int, int]]] = {}

    def profile_ids(self, interaction: Interaction) -> list[int]:
        if interaction.pk in self.refused:
            return candidate_profile_ids(interaction)
        kind = (
            tuple(sorted((interaction.required_skills or {}).items())),
            interaction.personal_agent_id,
        )
        if kind not in self.rows:
            self.rows[kind] = candidate_rows(interaction)
        return preferred_first(self.rows[kind], interaction)

    def routed(self, profile_id: int) -> None:
        for rows in self.rows.values():
            routed = [row for row in rows if row[0] == profile_id]
            if routed:
                rows.remove(routed[0])
                rows.append(routed[0])


def _pick_agent(interaction: Interaction, profile_ids: list[int]) -> AgentProfile | None:
    for profile_id in profile_ids:
        profile = (
            AgentProfile.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=profile_id, state__in=ROUTABLE_STATES)
            .first()
        )
        if profile is None:
            continue  # another router holds this agent, or their state just changed
        if in_ramp_up(profile=profile, channel=interaction.channel):
            continue
        if has_capacity_for(profile=profile, channel=interaction.channel):
            return profile
    return None


def interaction_pull(*, interaction: Interaction, user: AbstractBaseUser) -> Offer:
    """An agent takes a waiting interaction straight from a service queue (e.g. an email)."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .filter(pk=Interaction.objects.filter(pk=interaction.pk).values("conversation_id")[:1])
            .first()
        )
        interaction = (
            Interaction.objects.select_for_update(of=("self",))
            .select_related("service", "conversation")
            .filter(pk=interaction.pk)
            .first()
        )
        if (
            interaction is None
            or conversation is None
            or interaction.state != Interaction.State.QUEUED
        ):
            raise InvalidState(gettext("This interaction is no longer waiting."))
        if interaction.external_routing:
            raise InvalidState(
                gettext("The phone system routes this call: it rings on the agent it chooses.")
            )
        if interaction.personal_agent_id and interaction.personal_agent_id != user.pk:
            raise NotFound(gettext("Interaction not found."))
        member = (
            service_agents(interaction.service_id)
            .filter(user=user)
            .values_list("pk", flat=True)
            .first()
        )
        profile = (
            AgentProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=member)
            .first()
        )
        if member is None or profile is None:
            raise NotFound(gettext("Interaction not found."))
        if not has_capacity_for(profile=profile, channel=interaction.channel):
            raise InvalidState(gettext("You have no spare capacity for this channel."))
        offer = offers.offer_create(interaction=interaction, profile=profile)
        if offer.state == Offer.State.OFFERED:
            offer = offers.offer_accept(offer_id=offer.pk, user=user)
    return offer


def preferred_agent_for(*, contact_id: int, now: datetime) -> int | None:
    """The agent who last served this contact, within the routing continuation window."""
    since = now - timedelta(seconds=settings.ROUTING_CONTINUATION_SECONDS)
    return (
        Conversation.objects.filter(contact_id=contact_id, agent__isnull=False)
        .filter(Q(closed_at__gte=since) | Q(closed_at__isnull=True))
        .order_by("-opened_at")
        .values_list("agent_id", flat=True)
        .first()
    )
