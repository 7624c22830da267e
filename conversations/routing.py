"""The routing engine: service queues, eligibility (skills, state, capacity), offers.

Correctness under concurrency: an interaction is taken from the queue with
``SELECT ... FOR UPDATE SKIP LOCKED`` and an agent is locked the same way before their load is
read, so every assignment to an agent happens while holding that agent's row lock: no agent ever
exceeds capacity, and the partial unique constraint on live offers means no interaction is ever
offered twice, with any number of web and worker processes routing at once.

Routing runs on events (inbound, agent Ready, interaction ended, offer rejected/expired) through
``route_service_on_commit`` plus a periodic sweep (``conversations.tasks.route_all``).
"""

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound, ValidationError

from .models import (
    AgentProfile,
    AgentSkill,
    AgentState,
    Conversation,
    ConversationParticipant,
    Interaction,
    Message,
    Offer,
    Service,
)
from .selectors import conversation_audiences, is_supervisor
from .stored_text import SystemLine, stored_text
from .timeline import system_line_add

logger = logging.getLogger(__name__)

QUEUE_SCAN = 50
LOAD_STATES = (Interaction.State.OFFERED, Interaction.State.ACTIVE)
ROUTABLE_STATES = (AgentState.READY, AgentState.BUSY)


# --- Triggers -------------------------------------------------------------------------------


def route_service_on_commit(service_id: int) -> None:
    from .tasks import route_service

    transaction.on_commit(lambda: route_service.delay(service_id))


def route_service(*, service_id: int, limit: int = 500) -> int:
    """Make offers for the service's queue until nobody eligible is left; returns offers made."""
    made = 0
    while made < limit:
        with transaction.atomic():
            offer = _route_one(service_id=service_id)
        if offer is None:
            break
        made += 1
    return made


def services_with_waiting() -> list[int]:
    return list(
        Interaction.objects.filter(state=Interaction.State.QUEUED, service__isnull=False)
        .values_list("service_id", flat=True)
        .distinct()
    )


# --- Queue ----------------------------------------------------------------------------------


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
        type="queue.changed",
        payload={"service_id": interaction.service_id, "interaction_id": interaction.pk},
    )
    route_service_on_commit(interaction.service_id)


def _route_one(*, service_id: int) -> Offer | None:
    heads = (
        Interaction.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(service_id=service_id, state=Interaction.State.QUEUED)
        .select_related("service", "conversation")
        .order_by("-priority", "queued_at", "id")[:QUEUE_SCAN]
    )
    for interaction in heads:
        profile = _pick_agent(interaction)
        if profile is not None:
            return _offer_create(interaction=interaction, profile=profile)
    return None


def _candidate_ids(interaction: Interaction) -> list[int]:
    service = interaction.service
    candidates = AgentProfile.objects.filter(
        Q(services=service) | Q(teams__services=service), state__in=ROUTABLE_STATES
    ).distinct()
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
    refused = Offer.objects.filter(
        interaction=interaction, state__in=[Offer.State.REJECTED, Offer.State.EXPIRED]
    ).values("agent_id")
    candidates = candidates.exclude(user_id__in=refused)
    ordered = candidates.order_by(F("last_routed_at").asc(nulls_first=True), "state_changed_at")
    ids = list(ordered.values_list("id", "user_id"))
    preferred = interaction.preferred_agent_id
    ids.sort(key=lambda pair: pair[1] != preferred)  # stable: preferred agent first
    return [profile_id for profile_id, _ in ids]


def _pick_agent(interaction: Interaction) -> AgentProfile | None:
    for profile_id in _candidate_ids(interaction):
        profile = (
            AgentProfile.objects.select_for_update(skip_locked=True)
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


# --- Offers ---------------------------------------------------------------------------------


def _offer_create(
    *, interaction: Interaction, profile: AgentProfile, is_transfer: bool = False
) -> Offer:
    from .tasks import expire_offer

    now = timezone.now()
    timeout = interaction.service.offer_timeout_seconds
    offer = Offer.objects.create(
        interaction=interaction,
        agent_id=profile.user_id,
        is_transfer=is_transfer,
        created_at=now,
        expires_at=now + timedelta(seconds=timeout),
    )
    interaction.state = Interaction.State.OFFERED
    interaction.agent_id = profile.user_id
    interaction.save(update_fields=["state", "agent"])
    profile.last_routed_at = now
    profile.save(update_fields=["last_routed_at"])
    realtime.publish(
        audiences=[realtime.agent_audience(profile.user_id), realtime.SUPERVISORS],
        type="offer.created",
        payload=offer_payload(offer),
    )
    if interaction.channel in (interaction.service.auto_accept_channels or []):
        return offer_accept(offer_id=offer.pk, user=profile.user)
    if not current_app.conf.task_always_eager:
        transaction.on_commit(lambda: expire_offer.apply_async((offer.pk,), countdown=timeout + 1))
    return offer


def _live_offer_for_update(*, offer_id: int) -> Offer:
    offer = (
        Offer.objects.select_for_update().select_related("interaction").filter(pk=offer_id).first()
    )
    if offer is None:
        raise NotFound(gettext("Offer not found."))
    return offer


def offer_accept(*, offer_id: int, user: AbstractBaseUser) -> Offer:
    """The agent takes the interaction; the conversation becomes theirs."""
    with transaction.atomic():
        offer = _live_offer_for_update(offer_id=offer_id)
        if offer.agent_id != user.pk:
            raise NotFound(gettext("Offer not found."))
        if offer.state == Offer.State.ACCEPTED:
            return offer  # double click
        if offer.state != Offer.State.OFFERED:
            raise InvalidState(
                gettext("This offer was %(state)s.") % {"state": offer.get_state_display().lower()}
            )
        now = timezone.now()
        if offer.expires_at <= now:
            _offer_expire_locked(offer)
            raise InvalidState(gettext("This offer has expired."))
        offer.state = Offer.State.ACCEPTED
        offer.ended_at = now
        offer.save(update_fields=["state", "ended_at"])
        if offer.is_conference:
            _conference_join(offer=offer, user=user)
            return offer
        interaction = offer.interaction
        interaction.state = Interaction.State.ACTIVE
        interaction.answered_at = interaction.answered_at or now
        interaction.save(update_fields=["state", "answered_at"])
        conversation = Conversation.objects.select_for_update().get(pk=interaction.conversation_id)
        previous_agent_id = conversation.agent_id
        conversation.agent_id = user.pk
        conversation.save(update_fields=["agent"])
        if previous_agent_id and previous_agent_id != user.pk:
            conversation.interactions.exclude(state=Interaction.State.ENDED).update(agent=user)
            _system_line(
                conversation, interaction, stored_text(SystemLine.JOINED, agent=_name(user))
            )
        agent_work_state_sync(user_id=user.pk)
        realtime.publish(
            audiences=[realtime.agent_audience(user.pk), realtime.SUPERVISORS],
            type="offer.accepted",
            payload=offer_payload(offer),
        )
        audiences = conversation_audiences(conversation)
        if previous_agent_id and previous_agent_id != user.pk:
            audiences.append(realtime.agent_audience(previous_agent_id))
        realtime.publish(
            audiences=audiences,
            type="conversation.assigned",
            payload={
                "conversation_id": conversation.pk,
                "number": conversation.number,
                "status": conversation.status,
                "agent_id": conversation.agent_id,
                "service_id": conversation.service_id,
            },
        )
    return offer


def offer_reject(*, offer_id: int, user: AbstractBaseUser) -> Offer:
    with transaction.atomic():
        offer = _live_offer_for_update(offer_id=offer_id)
        if offer.agent_id != user.pk:
            raise NotFound(gettext("Offer not found."))
        if offer.state == Offer.State.REJECTED:
            return offer
        if offer.state != Offer.State.OFFERED:
            raise InvalidState(
                gettext("This offer was %(state)s.") % {"state": offer.get_state_display().lower()}
            )
        _offer_end(offer, Offer.State.REJECTED)
    return offer


def offer_expire(*, offer_id: int) -> bool:
    """Expire one offer if it is still live and past its time; idempotent."""
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update()
            .select_related("interaction")
            .filter(pk=offer_id, state=Offer.State.OFFERED, expires_at__lte=timezone.now())
            .first()
        )
        if offer is None:
            return False
        _offer_expire_locked(offer)
    return True


def expired_offer_ids() -> list[int]:
    return list(
        Offer.objects.filter(state=Offer.State.OFFERED, expires_at__lte=timezone.now())
        .order_by("expires_at")
        .values_list("id", flat=True)[:500]
    )


def _offer_expire_locked(offer: Offer) -> None:
    _offer_end(offer, Offer.State.EXPIRED)
    profile = AgentProfile.objects.select_for_update().get(user_id=offer.agent_id)
    _state_change(profile=profile, state=AgentState.NOT_READY, reason=settings.MISSED_OFFER_REASON)


def _offer_end(offer: Offer, state: str) -> None:
    """Close a live offer and put the interaction back at the head of its queue."""
    offer.state = state
    offer.ended_at = timezone.now()
    offer.save(update_fields=["state", "ended_at"])
    interaction = offer.interaction
    conversation = interaction.conversation
    realtime.publish(
        audiences=[realtime.agent_audience(offer.agent_id), realtime.SUPERVISORS],
        type=f"offer.{state}",
        payload=offer_payload(offer),
    )
    if offer.is_conference:
        target = offer.agent
        text = stored_text(SystemLine.CONFERENCE_DECLINED, target=_name(target))
        _system_line(conversation, interaction, text)
        return
    if offer.is_transfer and conversation.agent_id and conversation.agent_id != offer.agent_id:
        # A declined transfer goes back to the agent who asked for it.
        interaction.state = Interaction.State.ACTIVE
        interaction.agent_id = conversation.agent_id
        interaction.save(update_fields=["state", "agent"])
        _system_line(conversation, interaction, stored_text(SystemLine.TRANSFER_NOT_ACCEPTED))
        return
    interaction.state = Interaction.State.QUEUED
    interaction.agent = None
    interaction.save(update_fields=["state", "agent"])  # queued_at kept: head of the queue
    route_service_on_commit(interaction.service_id)


def offer_payload(offer: Offer) -> dict:
    interaction = offer.interaction
    return {
        "offer_id": offer.pk,
        "interaction_id": interaction.pk,
        "conversation_id": interaction.conversation_id,
        "channel": interaction.channel,
        "agent_id": offer.agent_id,
        "state": offer.state,
        "expires_at": offer.expires_at.isoformat(),
    }


# --- Agent state ----------------------------------------------------------------------------


def _state_change(*, profile: AgentProfile, state: str, reason: str = "") -> None:
    if profile.state == state and profile.not_ready_reason == reason:
        return
    was_routable = profile.state in ROUTABLE_STATES
    profile.state = state
    profile.not_ready_reason = reason if state == AgentState.NOT_READY else ""
    profile.state_changed_at = timezone.now()
    if state in ROUTABLE_STATES and not was_routable:
        profile.ready_since = profile.state_changed_at
    profile.save(update_fields=["state", "not_ready_reason", "state_changed_at", "ready_since"])
    realtime.publish(
        audiences=[realtime.agent_audience(profile.user_id), realtime.SUPERVISORS],
        type="agent.state_changed",
        payload={
            "agent_id": profile.user_id,
            "state": profile.state,
            "reason": profile.not_ready_reason,
            "since": profile.state_changed_at.isoformat(),
        },
    )


def agent_has_work(*, user_id: int) -> bool:
    return Interaction.objects.filter(agent_id=user_id, state__in=LOAD_STATES).exists()


def agent_has_wrap_up(*, user_id: int) -> bool:
    wrap_up = Conversation.objects.filter(agent_id=user_id, status=Conversation.Status.WRAP_UP)
    return wrap_up.exists()


def agent_work_state_sync(*, user_id: int) -> None:
    """Busy and After Call Work are derived from work: with live interactions the agent is Busy;
    with none but a conversation in wrap-up, After Call Work; with neither, Ready again (or the
    Not Ready they asked for meanwhile)."""
    profile = AgentProfile.objects.select_for_update().filter(user_id=user_id).first()
    if profile is None:
        return
    derived = (AgentState.READY, AgentState.BUSY, AgentState.AFTER_CALL_WORK)
    if profile.state in derived:
        if agent_has_work(user_id=user_id):
            _state_change(profile=profile, state=AgentState.BUSY)
        elif agent_has_wrap_up(user_id=user_id):
            _state_change(profile=profile, state=AgentState.AFTER_CALL_WORK)
        elif profile.requested_state == AgentState.NOT_READY:
            _state_change(
                profile=profile, state=AgentState.NOT_READY, reason=profile.requested_reason
            )
            profile.requested_state = profile.requested_reason = ""
            profile.save(update_fields=["requested_state", "requested_reason"])
        else:
            _state_change(profile=profile, state=AgentState.READY)
    for service_id in profile.services.values_list("id", flat=True):
        route_service_on_commit(service_id)


def agent_state_set(*, user: AbstractBaseUser, state: str, reason: str = "") -> AgentProfile:
    """The agent picks Ready or Not Ready. Ready while working shows as Busy."""
    if state not in (AgentState.READY, AgentState.NOT_READY):
        raise ValidationError(gettext("Agents can choose Ready or Not Ready."), field="state")
    with transaction.atomic():
        profile, _ = AgentProfile.objects.select_for_update().get_or_create(user=user)
        profile.requested_state = profile.requested_reason = ""
        profile.save(update_fields=["requested_state", "requested_reason"])
        if state == AgentState.READY:
            working = agent_has_work(user_id=user.pk)
            _state_change(profile=profile, state=AgentState.BUSY if working else AgentState.READY)
            for service_id in profile.services.values_list("id", flat=True):
                route_service_on_commit(service_id)
        elif agent_has_work(user_id=user.pk) or agent_has_wrap_up(user_id=user.pk):
            # Takes effect when the current work and wrap-up are done.
            profile.requested_state, profile.requested_reason = AgentState.NOT_READY, reason
            profile.save(update_fields=["requested_state", "requested_reason"])
            realtime.publish(
                audiences=[realtime.agent_audience(user.pk), realtime.SUPERVISORS],
                type="agent.state_requested",
                payload={"agent_id": user.pk, "state": AgentState.NOT_READY, "reason": reason},
            )
        else:
            _state_change(profile=profile, state=AgentState.NOT_READY, reason=reason)
    return profile


def agent_state_force(
    *, supervisor: AbstractBaseUser, agent: AbstractBaseUser, state: str, reason: str = ""
) -> AgentProfile:
    """A supervisor forces an agent's state (e.g. Not Ready for a forgotten break)."""
    if not is_supervisor(supervisor):
        raise NotFound(gettext("Agent not found."))
    if state not in (AgentState.READY, AgentState.NOT_READY, AgentState.LOGGED_OUT):
        raise ValidationError(gettext("Choose Ready, Not Ready or Logged out."), field="state")
    with transaction.atomic():
        profile = AgentProfile.objects.select_for_update().filter(user=agent).first()
        if profile is None:
            raise NotFound(gettext("Agent not found."))
        profile.requested_state = profile.requested_reason = ""
        profile.save(update_fields=["requested_state", "requested_reason"])
        if state == AgentState.READY and agent_has_work(user_id=agent.pk):
            state = AgentState.BUSY
        _state_change(profile=profile, state=state, reason=reason or "forced by supervisor")
        if state in ROUTABLE_STATES:
            for service_id in profile.services.values_list("id", flat=True):
                route_service_on_commit(service_id)
    return profile


def agent_logging_out(*, user: AbstractBaseUser) -> None:
    """Logging out: no new offers (Not Ready, system reason "logging out"); live offers go back
    to the queue. Conversations in hand stay the agent's (the page asked before logging out)."""
    with transaction.atomic():
        profile = AgentProfile.objects.select_for_update().filter(user=user).first()
        if profile is None:
            return
        for offer in Offer.objects.select_for_update().filter(
            agent=user, state=Offer.State.OFFERED
        ):
            _offer_end(offer, Offer.State.REJECTED)
        profile.requested_state = profile.requested_reason = ""
        profile.save(update_fields=["requested_state", "requested_reason"])
        _state_change(
            profile=profile, state=AgentState.NOT_READY, reason=settings.LOGGING_OUT_REASON
        )


def agent_seen(*, user_id: int) -> None:
    """The desktop's websocket connected or sent its heartbeat."""
    AgentProfile.objects.filter(user_id=user_id).update(last_seen_at=timezone.now())


def disconnected_agent_ids() -> list[int]:
    """Routable agents whose desktop has been silent past AGENT_DISCONNECT_SECONDS."""
    cutoff = timezone.now() - timedelta(seconds=settings.AGENT_DISCONNECT_SECONDS)
    return list(
        AgentProfile.objects.filter(state__in=ROUTABLE_STATES, last_seen_at__lt=cutoff).values_list(
            "user_id", flat=True
        )[:500]
    )


def agent_disconnected(*, user_id: int) -> bool:
    """Not Ready "disconnected" (live offers return to the queue), if still silent; idempotent."""
    cutoff = timezone.now() - timedelta(seconds=settings.AGENT_DISCONNECT_SECONDS)
    with transaction.atomic():
        profile = (
            AgentProfile.objects.select_for_update()
            .filter(user_id=user_id, state__in=ROUTABLE_STATES, last_seen_at__lt=cutoff)
            .first()
        )
        if profile is None:
            return False
        for offer in Offer.objects.select_for_update().filter(
            agent_id=user_id, state=Offer.State.OFFERED
        ):
            _offer_end(offer, Offer.State.EXPIRED)
        _state_change(
            profile=profile, state=AgentState.NOT_READY, reason=settings.DISCONNECTED_REASON
        )
    return True


# --- Pulling from a queue -------------------------------------------------------------------


def interaction_pull(*, interaction: Interaction, user: AbstractBaseUser) -> Offer:
    """An agent takes a waiting interaction straight from a service queue (e.g. an email)."""
    with transaction.atomic():
        interaction = (
            Interaction.objects.select_for_update(of=("self",))
            .select_related("service")
            .filter(pk=interaction.pk)
            .first()
        )
        if interaction is None or interaction.state != Interaction.State.QUEUED:
            raise InvalidState(gettext("This interaction is no longer waiting."))
        if interaction.personal_agent_id and interaction.personal_agent_id != user.pk:
            raise NotFound(gettext("Interaction not found."))
        member = (
            AgentProfile.objects.filter(
                Q(services=interaction.service_id) | Q(teams__services=interaction.service_id)
            )
            .filter(user=user)
            .values_list("pk", flat=True)
            .first()
        )
        profile = AgentProfile.objects.select_for_update().filter(pk=member).first()
        if member is None or profile is None:
            raise NotFound(gettext("Interaction not found."))
        if not has_capacity_for(profile=profile, channel=interaction.channel):
            raise InvalidState(gettext("You have no spare capacity for this channel."))
        offer = _offer_create(interaction=interaction, profile=profile)
        if offer.state == Offer.State.OFFERED:
            offer = offer_accept(offer_id=offer.pk, user=user)
    return offer


# --- Conference -----------------------------------------------------------------------------


def conference_invite(
    *, conversation: Conversation, user: AbstractBaseUser, target: AbstractBaseUser
) -> Offer:
    """Invite another agent into the conversation; they must accept. The inviting agent keeps it
    until they leave (then it is the invitee's: a transfer completed by leaving)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        _ensure_handler(conversation, user)
        if (
            target.pk == conversation.agent_id
            or conversation.participants.filter(agent=target, left_at__isnull=True).exists()
        ):
            raise ValidationError(gettext("They are already in the conversation."), field="agent")
        profile = AgentProfile.objects.filter(user=target).first()
        if profile is None:
            raise ValidationError(gettext("That user is not an agent."), field="agent")
        interaction = (
            conversation.interactions.filter(state=Interaction.State.ACTIVE)
            .select_related("service")
            .order_by("-started_at")
            .first()
        )
        if interaction is None:
            raise InvalidState(gettext("There is no active interaction to share."))
        now = timezone.now()
        timeout = (interaction.service or conversation.service).offer_timeout_seconds
        offer = Offer.objects.create(
            interaction=interaction,
            agent=target,
            is_conference=True,
            created_at=now,
            expires_at=now + timedelta(seconds=timeout),
        )
        text = stored_text(
            SystemLine.INVITED_TO_CONFERENCE, agent=_name(user), target=_name(target)
        )
        _system_line(conversation, interaction, text)
        realtime.publish(
            audiences=[realtime.agent_audience(target.pk), realtime.SUPERVISORS],
            type="offer.created",
            payload=offer_payload(offer),
        )
        if not current_app.conf.task_always_eager:
            from .tasks import expire_offer

            transaction.on_commit(
                lambda: expire_offer.apply_async((offer.pk,), countdown=timeout + 1)
            )
    return offer


def _conference_join(*, offer: Offer, user: AbstractBaseUser) -> None:
    conversation = Conversation.objects.select_for_update().get(
        pk=offer.interaction.conversation_id
    )
    ConversationParticipant.objects.create(conversation=conversation, agent=user)
    _system_line(conversation, offer.interaction, stored_text(SystemLine.JOINED, agent=_name(user)))
    realtime.publish(
        audiences=conversation_audiences(conversation),
        type="conversation.assigned",
        payload={
            "conversation_id": conversation.pk,
            "number": conversation.number,
            "status": conversation.status,
            "agent_id": conversation.agent_id,
            "service_id": conversation.service_id,
        },
    )


def conversation_leave(*, conversation: Conversation, user: AbstractBaseUser) -> Conversation:
    """Leave a conference. The owner leaving hands the conversation to the first participant."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        now = timezone.now()
        active = conversation.participants.select_for_update().filter(left_at__isnull=True)
        interaction = conversation.interactions.order_by("-started_at").first()
        mine = active.filter(agent=user).first()
        if mine is not None:
            mine.left_at = now
            mine.save(update_fields=["left_at"])
            _system_line(conversation, interaction, stored_text(SystemLine.LEFT, agent=_name(user)))
            realtime.publish(
                audiences=[realtime.agent_audience(user.pk)],
                type="conversation.left",
                payload={"conversation_id": conversation.pk},
            )
            return conversation
        if conversation.agent_id != user.pk:
            raise NotFound(gettext("Conversation not found."))
        successor = active.select_related("agent").first()
        if successor is None:
            raise InvalidState(gettext("Nobody else is in the conversation: end it instead."))
        successor.left_at = now
        successor.save(update_fields=["left_at"])
        conversation.agent = successor.agent
        conversation.save(update_fields=["agent"])
        conversation.interactions.exclude(state=Interaction.State.ENDED).update(
            agent=successor.agent
        )
        text = stored_text(
            SystemLine.LEFT_HANDING_OVER, agent=_name(user), target=_name(successor.agent)
        )
        _system_line(conversation, interaction, text)
        realtime.publish(
            audiences=[*conversation_audiences(conversation), realtime.agent_audience(user.pk)],
            type="conversation.transferred",
            payload={"conversation_id": conversation.pk, "service_id": conversation.service_id},
        )
        agent_work_state_sync(user_id=user.pk)
        agent_work_state_sync(user_id=successor.agent_id)
    return conversation


# --- Transfers -------------------------------------------------------------------


def transfer_to_service(
    *, conversation: Conversation, user: AbstractBaseUser, service: Service
) -> Conversation:
    """Send the conversation's open interactions to another service's queue (same conversation)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        _ensure_handler(conversation, user)
        previous_agent_id = conversation.agent_id
        conversation.service = service
        conversation.agent = None
        conversation.save(update_fields=["service", "agent"])
        open_interactions = list(conversation.interactions.exclude(state=Interaction.State.ENDED))
        if not open_interactions:
            raise InvalidState(gettext("There is no open interaction to transfer."))
        now = timezone.now()
        for interaction in open_interactions:
            interaction.service = service
            interaction.queued_at = now
            interaction.preferred_agent = None
            interaction.conversation = conversation
            interaction_enqueue(interaction=interaction)
            _system_line(
                conversation,
                interaction,
                stored_text(
                    SystemLine.TRANSFERRED_TO_SERVICE, agent=_name(user), service=service.name
                ),
            )
        audiences = [realtime.SUPERVISORS]
        if previous_agent_id:
            audiences.append(realtime.agent_audience(previous_agent_id))
            agent_work_state_sync(user_id=previous_agent_id)
        realtime.publish(
            audiences=audiences,
            type="conversation.transferred",
            payload={"conversation_id": conversation.pk, "service_id": service.pk},
        )
    return conversation


def transfer_to_agent(
    *, conversation: Conversation, user: AbstractBaseUser, target: AbstractBaseUser
) -> Offer:
    """Offer the conversation's current interaction to another agent, who must accept."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        _ensure_handler(conversation, user)
        if target.pk == conversation.agent_id:
            raise ValidationError(gettext("The conversation is already theirs."), field="agent")
        profile = AgentProfile.objects.select_for_update().filter(user=target).first()
        if profile is None:
            raise ValidationError(gettext("That user is not an agent."), field="agent")
        interaction = (
            conversation.interactions.select_for_update()
            .filter(state=Interaction.State.ACTIVE)
            .order_by("-started_at")
            .first()
        )
        if interaction is None:
            raise InvalidState(gettext("There is no active interaction to transfer."))
        if interaction.offers.filter(state=Offer.State.OFFERED).exists():
            raise InvalidState(gettext("A transfer of this interaction is already waiting."))
        _system_line(
            conversation,
            interaction,
            stored_text(SystemLine.ASKED_TO_TAKE_OVER, agent=_name(user), target=_name(target)),
        )
        interaction.service = interaction.service or conversation.service
        return _offer_create(interaction=interaction, profile=profile, is_transfer=True)


def _ensure_handler(conversation: Conversation, user: AbstractBaseUser) -> None:
    if conversation.agent_id != user.pk and not is_supervisor(user):
        raise NotFound(gettext("Conversation not found."))
    if conversation.status == Conversation.Status.CLOSED:
        raise InvalidState(gettext("The conversation is closed."))


def _name(user: AbstractBaseUser) -> str:
    profile = getattr(user, "agent_profile", None)
    return profile.name if profile else user.get_username()


def _system_line(conversation: Conversation, interaction: Interaction, text: str) -> Message:
    return system_line_add(conversation=conversation, interaction=interaction, body=text)


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
