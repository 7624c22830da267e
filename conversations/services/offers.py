"""Offers: an interaction proposed to an agent, accepted, rejected, expired or withdrawn.

A partial unique constraint allows one live offer per interaction; every offer is made while the
router holds the agent's row lock (see ``queue``), so no agent is ever over capacity.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound

from .. import events
from ..models import AgentProfile, AgentState, Conversation, Interaction, Offer
from ..ports import Lifecycle
from ..selectors import conversation_audiences
from ..system_lines import SystemLine
from . import agent_state, handover
from .guards import agent_name
from .lifecycle import lifecycle_notify
from .timeline import system_line_add
from .triggers import expire_offer_on_commit, route_service_on_commit


def _offer_audiences(offer: Offer) -> list[str]:
    return [realtime.agent_audience(offer.agent_id), realtime.SUPERVISORS]


def offer_create(
    *,
    interaction: Interaction,
    profile: AgentProfile,
    is_transfer: bool = False,
    is_conference: bool = False,
) -> Offer:
    """Offer ``interaction`` to the agent of ``profile`` (whose row the caller has locked)."""
    now = timezone.now()
    service = interaction.service or interaction.conversation.service
    timeout = service.offer_timeout_seconds
    offer = Offer.objects.create(
        interaction=interaction,
        agent_id=profile.user_id,
        is_transfer=is_transfer,
        is_conference=is_conference,
        created_at=now,
        expires_at=now + timedelta(seconds=timeout),
    )
    if not is_conference:
        interaction.state = Interaction.State.OFFERED
        interaction.agent_id = profile.user_id
        interaction.save(update_fields=["state", "agent"])
        profile.last_routed_at = now
        profile.save(update_fields=["last_routed_at"])
        if not is_transfer and interaction.service_id:  # it left the queue agents can pull from
            realtime.publish(
                audiences=[realtime.service_audience(interaction.service_id)],
                type=events.QUEUE_CHANGED,
                payload=events.queue_payload(
                    service_id=interaction.service_id, interaction_id=interaction.pk
                ),
            )
    realtime.publish(
        audiences=_offer_audiences(offer),
        type=events.OFFER_CREATED,
        payload=events.offer_payload(offer),
    )
    if not is_transfer and not is_conference:
        lifecycle_notify(
            Lifecycle.OFFERED,
            conversation=interaction.conversation,
            interaction=interaction,
            agent_id=profile.user_id,
        )
    if not is_conference and interaction.channel in (service.auto_accept_channels or []):
        return offer_accept(offer_id=offer.pk, user=profile.user)
    expire_offer_on_commit(offer.pk, after_seconds=timeout + 1)
    return offer


def lock_conversation_of_offer(offer_id: int) -> Conversation | None:
    """Lock the conversation an offer is about (before the offer itself: conversation first is
    the lock order of every writer, and it keeps the conversation's events in commit order)."""
    conversation_id = (
        Offer.objects.filter(pk=offer_id)
        .values_list("interaction__conversation_id", flat=True)
        .first()
    )
    if conversation_id is None:
        return None
    return Conversation.objects.select_for_update().filter(pk=conversation_id).first()


def _live_offer_for_update(*, offer_id: int) -> Offer:
    conversation = lock_conversation_of_offer(offer_id)
    offer = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("interaction")
        .filter(pk=offer_id)
        .first()
    )
    if offer is None or conversation is None:
        raise NotFound(gettext("Offer not found."))
    offer.interaction.conversation = conversation
    return offer


def _ensure_live(offer: Offer, *, answered_state: str) -> bool:
    """False when the offer was already answered this way (a double click); raises when it ended
    otherwise."""
    if offer.state == answered_state:
        return False
    if offer.state != Offer.State.OFFERED:
        raise InvalidState(
            gettext("This offer was %(state)s.") % {"state": offer.get_state_display().lower()}
        )
    return True


def offer_accept(*, offer_id: int, user: AbstractBaseUser) -> Offer:
    """The agent takes the interaction; the conversation becomes theirs."""
    with transaction.atomic():
        offer = _live_offer_for_update(offer_id=offer_id)
        if offer.agent_id != user.pk:
            raise NotFound(gettext("Offer not found."))
        if not _ensure_live(offer, answered_state=Offer.State.ACCEPTED):
            return offer
        now = timezone.now()
        if offer.expires_at <= now:
            _offer_expire_locked(offer)
            raise InvalidState(gettext("This offer has expired."))
        offer.state = Offer.State.ACCEPTED
        offer.ended_at = now
        offer.save(update_fields=["state", "ended_at"])
        realtime.publish(
            audiences=_offer_audiences(offer),
            type=events.OFFER_ACCEPTED,
            payload=events.offer_payload(offer),
        )
        if offer.is_conference:
            handover.conference_join(offer=offer, user=user)
            return offer
        interaction_take(
            interaction=offer.interaction, user=user, now=now, transfer=offer.is_transfer
        )
    return offer


def interaction_take(
    *, interaction: Interaction, user: AbstractBaseUser, now: datetime, transfer: bool = False
) -> None:
    """``interaction`` becomes ``user``'s, and so does its conversation (its other open legs
    follow them: one conversation, one agent). Called by an accepted offer, or when a phone
    system put a call on the agent (CTI); the caller holds the conversation's lock.
    ``transfer``: an agent handed it over (counted as a transfer when it changes hands)."""
    interaction.state = Interaction.State.ACTIVE
    interaction.agent_id = user.pk
    interaction.answered_at = interaction.answered_at or now
    interaction.save(update_fields=["state", "agent", "answered_at"])
    conversation = interaction.conversation
    previous_agent_id = conversation.agent_id
    handed_over = bool(previous_agent_id and previous_agent_id != user.pk)
    if transfer and handed_over:
        Interaction.objects.filter(pk=interaction.pk).update(transfers=F("transfers") + 1)
    conversation.agent_id = user.pk
    conversation.case_state = Conversation.CaseState.OPEN
    conversation.save(update_fields=["agent", "case_state"])
    siblings = _siblings_join(interaction, user=user, now=now)
    if handed_over:
        conversation.interactions.exclude(state=Interaction.State.ENDED).update(agent=user)
        system_line_add(
            conversation=conversation,
            interaction=interaction,
            text=SystemLine.JOINED,
            params={"agent": agent_name(user)},
        )
    agent_state.agent_work_state_sync(user_id=user.pk)
    if handed_over:
        agent_state.agent_work_state_sync(user_id=previous_agent_id)
    audiences = conversation_audiences(conversation)
    if handed_over:
        audiences.append(realtime.agent_audience(previous_agent_id))
    realtime.publish(
        audiences=audiences,
        type=events.CONVERSATION_ASSIGNED,
        payload=events.conversation_payload(conversation),
    )
    lifecycle_notify(
        Lifecycle.TRANSFERRED if transfer and handed_over else Lifecycle.ASSIGNED,
        conversation=conversation,
        interaction=interaction,
        agent_id=user.pk,
        previous_agent_id=previous_agent_id if handed_over else None,
    )
    for sibling in siblings:
        lifecycle_notify(
            Lifecycle.ASSIGNED, conversation=conversation, interaction=sibling, agent_id=user.pk
        )


def _siblings_join(
    interaction: Interaction, *, user: AbstractBaseUser, now: datetime
) -> list[Interaction]:
    """One conversation, one agent: the conversation's other legs still waiting (a chat and a
    call sent to a service's queue together) join the agent who took this one, as a new leg of
    an open conversation does, instead of being offered to a second agent who would take the
    conversation away from the first."""
    siblings = list(
        interaction.conversation.interactions.select_for_update(of=("self",))
        .filter(state__in=[Interaction.State.QUEUED, Interaction.State.OFFERED])
        .exclude(pk=interaction.pk)
    )
    for sibling in siblings:
        offers_cancel_for(interaction=sibling)
        sibling.state = Interaction.State.ACTIVE
        sibling.agent_id = user.pk
        sibling.answered_at = sibling.answered_at or now
        sibling.save(update_fields=["state", "agent", "answered_at"])
        sibling.conversation = interaction.conversation
    return siblings


def offer_reject(*, offer_id: int, user: AbstractBaseUser) -> Offer:
    with transaction.atomic():
        offer = _live_offer_for_update(offer_id=offer_id)
        if offer.agent_id != user.pk:
            raise NotFound(gettext("Offer not found."))
        if _ensure_live(offer, answered_state=Offer.State.REJECTED):
            offer_end(offer, Offer.State.REJECTED)
    return offer


def offer_expire(*, offer_id: int) -> bool:
    """Expire one offer if it is still live and past its time; idempotent."""
    with transaction.atomic():
        conversation = lock_conversation_of_offer(offer_id)
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("interaction")
            .filter(pk=offer_id, state=Offer.State.OFFERED, expires_at__lte=timezone.now())
            .first()
        )
        if offer is None or conversation is None:
            return False
        offer.interaction.conversation = conversation
        _offer_expire_locked(offer)
    return True


def expired_offer_ids() -> list[int]:
    return list(
        Offer.objects.filter(state=Offer.State.OFFERED, expires_at__lte=timezone.now())
        .order_by("expires_at")
        .values_list("id", flat=True)[:500]
    )


def _offer_expire_locked(offer: Offer) -> None:
    offer_end(offer, Offer.State.EXPIRED)
    if offer.is_conference:
        return
    profile = AgentProfile.objects.select_for_update().get(user_id=offer.agent_id)
    if profile.state in (AgentState.READY, AgentState.BUSY):
        agent_state.state_change(
            profile=profile, state=AgentState.NOT_READY, reason=settings.MISSED_OFFER_REASON
        )


def offers_withdraw_from(*, user_id: int, state: str) -> None:
    """End the agent's live offers (logging out, disconnected): their interactions go back to
    the queue. Call it before locking the agent's profile (lock order: conversation, offer,
    agent)."""
    live = Offer.objects.filter(agent_id=user_id, state=Offer.State.OFFERED)
    for offer_id in live.values_list("id", flat=True):
        conversation = lock_conversation_of_offer(offer_id)
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("interaction")
            .filter(pk=offer_id, state=Offer.State.OFFERED)
            .first()
        )
        if offer is None or conversation is None:
            continue
        offer.interaction.conversation = conversation
        offer_end(offer, state)


def offers_cancel_for(*, interaction: Interaction) -> None:
    """The customer left while the interaction was offered: withdraw its live offers."""
    now = timezone.now()
    for offer in Offer.objects.select_for_update(of=("self",)).filter(
        interaction=interaction, state=Offer.State.OFFERED
    ):
        offer.state = Offer.State.CANCELLED
        offer.ended_at = now
        offer.save(update_fields=["state", "ended_at"])
        offer.interaction = interaction
        realtime.publish(
            audiences=_offer_audiences(offer),
            type=events.OFFER_CANCELLED,
            payload=events.offer_payload(offer),
        )


def offer_end(offer: Offer, state: str) -> None:
    """Close a live offer and put the interaction back at the head of its queue (or, for a
    declined transfer, back with the agent who asked for it)."""
    offer.state = state
    offer.ended_at = timezone.now()
    offer.save(update_fields=["state", "ended_at"])
    interaction = offer.interaction
    conversation = interaction.conversation
    realtime.publish(
        audiences=_offer_audiences(offer),
        type=events.OFFER_ENDED[state],
        payload=events.offer_payload(offer),
    )
    if offer.is_conference:
        system_line_add(
            conversation=conversation,
            interaction=interaction,
            text=SystemLine.CONFERENCE_DECLINED,
            params={"target": agent_name(offer.agent)},
        )
        return
    if offer.is_transfer and conversation.agent_id and conversation.agent_id != offer.agent_id:
        # A declined transfer goes back to the agent who asked for it.
        interaction.state = Interaction.State.ACTIVE
        interaction.agent_id = conversation.agent_id
        interaction.save(update_fields=["state", "agent"])
        system_line_add(
            conversation=conversation,
            interaction=interaction,
            text=SystemLine.TRANSFER_NOT_ACCEPTED,
        )
        return
    interaction.state = Interaction.State.QUEUED
    interaction.agent = None
    interaction.save(update_fields=["state", "agent"])  # queued_at kept: head of the queue
    lifecycle_notify(Lifecycle.QUEUED, conversation=conversation, interaction=interaction)
    route_service_on_commit(interaction.service_id)
