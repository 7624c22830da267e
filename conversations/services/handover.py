"""Handing a conversation over: transfer to a service or an agent, conference (invite, join,
leave). The conversation, its timeline and its number stay the same throughout."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound, ValidationError

from .. import events
from ..models import (
    AgentProfile,
    Conversation,
    ConversationParticipant,
    Interaction,
    Offer,
    Service,
)
from ..ports import Lifecycle
from ..selectors import conversation_audiences, conversation_people_ids
from ..system_lines import SystemLine, SystemText
from . import agent_state, offers, queue
from .guards import agent_name, ensure_handler
from .lifecycle import lifecycle_notify
from .timeline import system_line_add


def _line(
    conversation: Conversation, interaction: Interaction | None, text: SystemText, **params: str
) -> None:
    system_line_add(conversation=conversation, interaction=interaction, text=text, params=params)


def _participants_changed(conversation: Conversation, *extra_audiences: str) -> None:
    realtime.publish(
        audiences=[*conversation_audiences(conversation), *extra_audiences],
        type=events.CONVERSATION_PARTICIPANTS_CHANGED,
        payload=events.conversation_payload(
            conversation, people=conversation_people_ids(conversation)
        ),
    )


# --- Transfers ------------------------------------------------------------------------------


def transfer_to_service(
    *, conversation: Conversation, user: AbstractBaseUser, service: Service
) -> Conversation:
    """Send the conversation's open interactions to another service's queue (same conversation)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        ensure_handler(conversation, user)
        previous_agent_id = conversation.agent_id
        open_interactions = list(conversation.interactions.exclude(state=Interaction.State.ENDED))
        if not open_interactions:
            raise InvalidState(gettext("There is no open interaction to transfer."))
        conversation.service = service
        conversation.agent = None
        conversation.save(update_fields=["service", "agent"])
        now = timezone.now()
        for interaction in open_interactions:
            offers.offers_cancel_for(interaction=interaction)
            lifecycle_notify(
                Lifecycle.TRANSFERRED,
                conversation=conversation,
                interaction=interaction,
                previous_agent_id=previous_agent_id,
                service_id=service.pk,
            )
            interaction.service = service
            interaction.queued_at = now
            interaction.preferred_agent = None
            interaction.transfers += 1
            # Reported once, under its new queue: its wait is measured from the transfer.
            interaction.answered_at = None
            interaction.conversation = conversation
            queue.interaction_enqueue(interaction=interaction)
            _line(
                conversation,
                interaction,
                SystemLine.TRANSFERRED_TO_SERVICE,
                agent=agent_name(user),
                service=service.name,
            )
        audiences = [realtime.SUPERVISORS]
        if previous_agent_id:
            audiences.append(realtime.agent_audience(previous_agent_id))
            agent_state.agent_work_state_sync(user_id=previous_agent_id)
        realtime.publish(
            audiences=audiences,
            type=events.CONVERSATION_TRANSFERRED,
            payload=events.conversation_payload(conversation),
        )
    return conversation


def transfer_to_agent(
    *, conversation: Conversation, user: AbstractBaseUser, target: AbstractBaseUser
) -> Offer:
    """Offer the conversation's current interaction to another agent, who must accept."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        ensure_handler(conversation, user)
        if target.pk == conversation.agent_id:
            raise ValidationError(gettext("The conversation is already theirs."), field="agent")
        profile = AgentProfile.objects.select_for_update(of=("self",)).select_related("user")
        profile = profile.filter(user=target).first()
        if profile is None:
            raise ValidationError(gettext("That user is not an agent."), field="agent")
        interaction = (
            conversation.interactions.select_for_update(of=("self",))
            .select_related("service", "conversation")
            .filter(state=Interaction.State.ACTIVE)
            .order_by("-started_at")
            .first()
        )
        if interaction is None:
            raise InvalidState(gettext("There is no active interaction to transfer."))
        if interaction.offers.filter(state=Offer.State.OFFERED).exists():
            raise InvalidState(gettext("A transfer of this interaction is already waiting."))
        _line(
            conversation,
            interaction,
            SystemLine.ASKED_TO_TAKE_OVER,
            agent=agent_name(user),
            target=agent_name(target),
        )
        interaction.service = interaction.service or conversation.service
        return offers.offer_create(interaction=interaction, profile=profile, is_transfer=True)


# --- Conference -----------------------------------------------------------------------------


def conference_invite(
    *,
    conversation: Conversation,
    user: AbstractBaseUser,
    target: AbstractBaseUser,
    interaction_id: int | None = None,
) -> Offer:
    """Invite another agent into the conversation; they must accept. The inviting agent keeps it
    until they leave (then it is the invitee's: a transfer completed by leaving). The offer is of
    the newest active interaction, or of ``interaction_id`` (a call the invitee is consulted on)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        ensure_handler(conversation, user)
        if (
            target.pk == conversation.agent_id
            or conversation.participants.filter(agent=target, left_at__isnull=True).exists()
        ):
            raise ValidationError(gettext("They are already in the conversation."), field="agent")
        profile = AgentProfile.objects.select_related("user").filter(user=target).first()
        if profile is None:
            raise ValidationError(gettext("That user is not an agent."), field="agent")
        shared = conversation.interactions.filter(state=Interaction.State.ACTIVE)
        if interaction_id is not None:
            shared = shared.filter(pk=interaction_id)
        interaction = (
            shared.select_related("service", "conversation").order_by("-started_at").first()
        )
        if interaction is None:
            raise InvalidState(gettext("There is no active interaction to share."))
        _line(
            conversation,
            interaction,
            SystemLine.INVITED_TO_CONFERENCE,
            agent=agent_name(user),
            target=agent_name(target),
        )
        return offers.offer_create(interaction=interaction, profile=profile, is_conference=True)


def conference_join(*, offer: Offer, user: AbstractBaseUser) -> None:
    """The invited agent accepted (called by ``offers.offer_accept`` in its transaction)."""
    conversation = Conversation.objects.select_for_update().get(
        pk=offer.interaction.conversation_id
    )
    ConversationParticipant.objects.create(conversation=conversation, agent=user)
    _line(conversation, offer.interaction, SystemLine.JOINED, agent=agent_name(user))
    realtime.publish(
        audiences=conversation_audiences(conversation),
        type=events.CONVERSATION_ASSIGNED,
        payload=events.conversation_payload(conversation),
    )
    _participants_changed(conversation)
    lifecycle_notify(
        Lifecycle.PARTICIPANT_JOINED,
        conversation=conversation,
        interaction=offer.interaction,
        agent_id=user.pk,
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
            _line(conversation, interaction, SystemLine.LEFT, agent=agent_name(user))
            realtime.publish(
                audiences=[realtime.agent_audience(user.pk)],
                type=events.CONVERSATION_LEFT,
                payload={"conversation_id": conversation.pk},
            )
            _participants_changed(conversation)
            lifecycle_notify(
                Lifecycle.PARTICIPANT_LEFT,
                conversation=conversation,
                interaction=interaction,
                agent_id=user.pk,
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
            agent=successor.agent, transfers=F("transfers") + 1
        )
        _line(
            conversation,
            interaction,
            SystemLine.LEFT_HANDING_OVER,
            agent=agent_name(user),
            target=agent_name(successor.agent),
        )
        realtime.publish(
            audiences=[*conversation_audiences(conversation), realtime.agent_audience(user.pk)],
            type=events.CONVERSATION_TRANSFERRED,
            payload=events.conversation_payload(conversation),
        )
        _participants_changed(conversation, realtime.agent_audience(user.pk))
        lifecycle_notify(
            Lifecycle.TRANSFERRED,
            conversation=conversation,
            interaction=interaction,
            agent_id=successor.agent_id,
            previous_agent_id=user.pk,
        )
        agent_state.agent_work_state_sync(user_id=user.pk)
        agent_state.agent_work_state_sync(user_id=successor.agent_id)
    return conversation
