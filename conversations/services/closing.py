"""Ending work: interactions end, conversations go through wrap-up and close.

Ending the last interaction of a conversation an agent handled puts it in wrap-up when the
service uses after-call work or requires a disposition; otherwise it closes. Submitting wrap-up
closes it and returns the agent to Ready (or the Not Ready they asked for meanwhile); a close-out
job enforces the after-call-work timeout.
"""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, ValidationError

from .. import events
from ..models import Conversation, Disposition, Interaction
from ..ports import Lifecycle
from ..selectors import conversation_audiences
from ..system_lines import SystemLine
from . import agent_state, offers
from .custom_fields import ensure_required_fields, required_fields_missing
from .guards import ensure_handler
from .lifecycle import lifecycle_notify
from .timeline import system_line_add
from .triggers import route_service_on_commit


def interaction_end(
    *, interaction: Interaction, reason: str = "", abandoned: bool = True
) -> Interaction:
    """End one interaction. Ending it while it waits or rings is an abandon, unless staff ended
    it (``abandoned=False``: a supervisor closing a waiting conversation is no customer abandon)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(
            pk=Interaction.objects.filter(pk=interaction.pk).values("conversation_id")[:1]
        )
        interaction = Interaction.objects.select_for_update().get(pk=interaction.pk)
        interaction.conversation = conversation
        if interaction.state == Interaction.State.ENDED:
            return interaction
        now = timezone.now()
        if interaction.state in (Interaction.State.QUEUED, Interaction.State.OFFERED):
            if abandoned:
                interaction.abandoned_at = now
            offers.offers_cancel_for(interaction=interaction)
        interaction.state = Interaction.State.ENDED
        interaction.ended_at = now
        interaction.save(update_fields=["state", "ended_at", "abandoned_at"])
        realtime.publish(
            audiences=conversation_audiences(conversation),
            type=events.INTERACTION_ENDED,
            payload=events.interaction_payload(interaction),
        )
        lifecycle_notify(
            Lifecycle.ENDED, conversation=conversation, interaction=interaction, reason=reason
        )
        _after_interaction_end(interaction)
        if interaction.agent_id:
            agent_state.agent_work_state_sync(user_id=interaction.agent_id)
        if interaction.service_id:
            route_service_on_commit(interaction.service_id)
    return interaction


def _after_interaction_end(interaction: Interaction) -> None:
    conversation = interaction.conversation
    still_open = conversation.interactions.exclude(state=Interaction.State.ENDED).exists()
    if still_open or conversation.status != Conversation.Status.OPEN or conversation.is_parked:
        return  # a parked case (Pending, Resolved) stays open with its agent, no interaction
    _wrap_up_or_close(conversation)


def _wrap_up_or_close(conversation: Conversation) -> None:
    service = conversation.service
    now = timezone.now()
    if conversation.agent_id and (
        service.after_call_work
        or service.disposition_required
        or required_fields_missing(conversation)
    ):
        conversation.status = Conversation.Status.WRAP_UP
        conversation.wrap_up_started_at = now
        conversation.save(update_fields=["status", "wrap_up_started_at"])
        _publish(conversation, events.CONVERSATION_WRAP_UP)
    else:
        conversation_close_locked(conversation, now=now)


def conversation_end(*, conversation: Conversation, user: AbstractBaseUser) -> Conversation:
    """The agent ends every open interaction of the conversation (then wrap-up or closed)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        ensure_handler(conversation, user)
        if conversation.status != Conversation.Status.OPEN:
            return conversation
        interactions = list(conversation.interactions.exclude(state=Interaction.State.ENDED))
        for interaction in interactions:
            interaction_end(interaction=interaction, reason="agent")
        if not interactions:
            _wrap_up_or_close(conversation)
            if conversation.agent_id:
                agent_state.agent_work_state_sync(user_id=conversation.agent_id)
        conversation.refresh_from_db()
    return conversation


def ensure_wrap_up_complete(conversation: Conversation, disposition: Disposition | None) -> None:
    """What wrap-up (or resolving a case) needs: a disposition of the service when it requires
    one, and the service's required fields filled."""
    if disposition is not None and (
        disposition.service_id != conversation.service_id or not disposition.active
    ):
        raise ValidationError(
            gettext("That disposition does not belong to this service."), field="disposition"
        )
    if disposition is None and conversation.service.disposition_required:
        raise ValidationError(
            gettext("Choose a disposition: this service requires one."), field="disposition"
        )
    ensure_required_fields(conversation)


def conversation_wrap_up(
    *,
    conversation: Conversation,
    user: AbstractBaseUser,
    disposition: Disposition | None,
    notes: str = "",
) -> Conversation:
    """Submit wrap-up: disposition (required when the service says so) and notes; closes."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("service")
            .get(pk=conversation.pk)
        )
        ensure_handler(conversation, user)
        if conversation.status == Conversation.Status.OPEN:
            raise InvalidState(gettext("End the conversation's interactions before wrap-up."))
        ensure_wrap_up_complete(conversation, disposition)
        conversation.disposition = disposition
        conversation.wrap_up_notes = (notes or "").strip()
        conversation_close_locked(conversation, now=timezone.now())
        if conversation.agent_id:
            agent_state.agent_work_state_sync(user_id=conversation.agent_id)
    return conversation


def expired_wrap_up_ids() -> list[int]:
    """Conversations whose after-call work is past their service's timeout (checked again per id
    under lock by ``wrap_up_expire``). Few conversations are in wrap-up at once, so the timeout
    arithmetic is done here rather than in SQL, portably."""
    now = timezone.now()
    rows = Conversation.objects.filter(status=Conversation.Status.WRAP_UP).values_list(
        "id", "wrap_up_started_at", "service__after_call_work_seconds"
    )
    return [
        pk
        for pk, started, seconds in rows[:5000]
        if started is not None and started + timedelta(seconds=seconds) <= now
    ]


def wrap_up_expire(*, conversation_id: int) -> bool:
    """Close one conversation whose after-call-work time ran out; idempotent."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("service")
            .filter(pk=conversation_id, status=Conversation.Status.WRAP_UP)
            .first()
        )
        if conversation is None:
            return False
        deadline = conversation.wrap_up_started_at + timedelta(
            seconds=conversation.service.after_call_work_seconds
        )
        if timezone.now() < deadline:
            return False
        interaction = conversation.interactions.order_by("-id").first()
        system_line_add(
            conversation=conversation,
            interaction=interaction,
            text=SystemLine.WRAP_UP_TIMED_OUT,
        )
        conversation_close_locked(conversation, now=timezone.now())
        if conversation.agent_id:
            agent_state.agent_work_state_sync(user_id=conversation.agent_id)
    return True


def conversation_close_locked(conversation: Conversation, *, now: datetime) -> None:
    """Close a conversation whose row the caller holds locked. Closing a wrap-up records when it
    ended on the interaction whose end started it (reports: handle time = talk + wrap-up)."""
    if conversation.status == Conversation.Status.WRAP_UP:
        last = (
            conversation.interactions.filter(answered_at__isnull=False, ended_at__isnull=False)
            .order_by("-ended_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        if last is not None:
            Interaction.objects.filter(pk=last).update(wrap_up_ended_at=now)
    conversation.status = Conversation.Status.CLOSED
    conversation.closed_at = now
    conversation.case_state = Conversation.CaseState.CLOSED
    conversation.follow_up_at = None
    conversation.save()
    _publish(conversation, events.CONVERSATION_CLOSED)
    lifecycle_notify(Lifecycle.CLOSED, conversation=conversation)


def _publish(conversation: Conversation, type_: str) -> None:
    realtime.publish(
        audiences=conversation_audiences(conversation),
        type=type_,
        payload=events.conversation_payload(conversation),
    )
