"""Case states of a conversation: New, Open, Pending, Resolved, Closed.

A conversation is **New** until an agent takes it and **Open** while it is worked. The agent can
park it:

- **Pending** (a reason and a follow-up time): its interactions end, the case waits in the
  agent's My queue. A customer message takes it up again (routed, the agent preferred); at the
  follow-up time it comes back to the agent's Active Conversations by itself.
- **Resolved** (with the disposition and notes wrap-up would ask for): its interactions end; a
  customer message reopens it; ``CASE_RESOLVED_CLOSE_SECONDS`` later it closes.

Parked cases keep ``status`` open and their agent; ``closing`` leaves them alone when their last
interaction ends. The periodic jobs select candidate ids and act per id under lock with the
condition checked again, so overlapping runs change nothing twice.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import InvalidState, ValidationError

from .. import events
from ..models import Conversation, Disposition, Interaction
from ..selectors import conversation_audiences
from ..system_lines import SystemLine
from . import agent_state
from .closing import conversation_close_locked, ensure_wrap_up_complete, interaction_end
from .guards import agent_name, ensure_handler
from .timeline import system_line_add

PENDING_REASON_MAX = 200


def case_pend(
    *,
    conversation: Conversation,
    user: AbstractBaseUser,
    reason: str,
    follow_up_at: datetime | None,
) -> Conversation:
    """Park the case as Pending until ``follow_up_at`` (required, in the future), saying why."""
    reason = " ".join((reason or "").split())[:PENDING_REASON_MAX]
    if not reason:
        raise ValidationError(gettext("Say what the case is waiting for."), field="reason")
    now = timezone.now()
    if follow_up_at is None:
        raise ValidationError(gettext("Choose a follow-up time."), field="follow_up_at")
    if follow_up_at <= now:
        raise ValidationError(
            gettext("The follow-up time must be in the future."), field="follow_up_at"
        )
    with transaction.atomic():
        conversation = _open_case_for_update(conversation, user)
        conversation.case_state = Conversation.CaseState.PENDING
        conversation.pending_reason = reason
        conversation.follow_up_at = follow_up_at
        conversation.resolved_at = None
        conversation.save(
            update_fields=["case_state", "pending_reason", "follow_up_at", "resolved_at"]
        )
        system_line_add(
            conversation=conversation,
            interaction=None,
            sender=user,
            text=SystemLine.CASE_PENDING,
            params={
                "agent": agent_name(user),
                "time": timezone.localtime(follow_up_at).strftime("%Y-%m-%d %H:%M %Z"),
                "reason": reason,
            },
        )
        _park(conversation)
    return conversation


def case_resolve(
    *,
    conversation: Conversation,
    user: AbstractBaseUser,
    disposition: Disposition | None = None,
    notes: str = "",
) -> Conversation:
    """The agent considers the case done. It closes by itself ``CASE_RESOLVED_CLOSE_SECONDS``
    later unless the customer writes again (which reopens it). The disposition is asked here, as
    wrap-up would."""
    with transaction.atomic():
        conversation = _open_case_for_update(conversation, user)
        ensure_wrap_up_complete(conversation, disposition)
        conversation.case_state = Conversation.CaseState.RESOLVED
        conversation.resolved_at = timezone.now()
        conversation.pending_reason = ""
        conversation.follow_up_at = None
        conversation.disposition = disposition
        conversation.wrap_up_notes = (notes or "").strip()
        conversation.save(
            update_fields=[
                "case_state",
                "resolved_at",
                "pending_reason",
                "follow_up_at",
                "disposition",
                "wrap_up_notes",
            ]
        )
        system_line_add(
            conversation=conversation,
            interaction=None,
            sender=user,
            text=SystemLine.CASE_RESOLVED,
            params={"agent": agent_name(user)},
        )
        _park(conversation)
    return conversation


def _open_case_for_update(conversation: Conversation, user: AbstractBaseUser) -> Conversation:
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("service")
        .get(pk=conversation.pk)
    )
    ensure_handler(conversation, user)
    if conversation.status != Conversation.Status.OPEN:
        raise InvalidState(gettext("The conversation is in wrap-up."))
    return conversation


def _park(conversation: Conversation) -> None:
    """End what is still open (the case no longer takes the agent's capacity) and tell the
    desktops. ``closing`` sees the parked state and neither wraps up nor closes."""
    for interaction in conversation.interactions.exclude(state=Interaction.State.ENDED):
        interaction_end(interaction=interaction, reason=conversation.case_state)
    if conversation.agent_id:
        agent_state.agent_work_state_sync(user_id=conversation.agent_id)
    _publish(conversation)


def _publish(conversation: Conversation) -> None:
    realtime.publish(
        audiences=conversation_audiences(conversation),
        type=events.CONVERSATION_CASE_CHANGED,
        payload=events.conversation_payload(conversation),
    )


# --- Periodic: follow-ups and closing resolved cases --------------------------------------------


def case_follow_ups_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Conversation.objects.filter(
            case_state=Conversation.CaseState.PENDING, follow_up_at__lte=now
        )
        .order_by("follow_up_at")
        .values_list("id", flat=True)[:limit]
    )


def case_follow_up(*, conversation_id: int) -> bool:
    """A pending case whose follow-up time came: Open again, back in its agent's Active
    Conversations with a line saying why. Idempotent."""
    now = timezone.now()
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .filter(
                pk=conversation_id,
                case_state=Conversation.CaseState.PENDING,
                follow_up_at__lte=now,
            )
            .first()
        )
        if conversation is None:
            return False
        reason = conversation.pending_reason
        conversation.case_state = Conversation.CaseState.OPEN
        conversation.follow_up_at = None
        conversation.save(update_fields=["case_state", "follow_up_at"])
        system_line_add(
            conversation=conversation,
            interaction=None,
            text=SystemLine.CASE_FOLLOW_UP,
            params={"reason": reason},
        )
        _publish(conversation)
    return True


def resolved_cases_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CASE_RESOLVED_CLOSE_SECONDS)
    return list(
        Conversation.objects.filter(
            case_state=Conversation.CaseState.RESOLVED,
            status=Conversation.Status.OPEN,
            resolved_at__lte=cutoff,
        )
        .order_by("resolved_at")
        .values_list("id", flat=True)[:limit]
    )


def case_close_resolved(*, conversation_id: int) -> bool:
    """Close a case resolved long enough ago with no new customer message. Idempotent."""
    cutoff = timezone.now() - timedelta(seconds=settings.CASE_RESOLVED_CLOSE_SECONDS)
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .filter(
                pk=conversation_id,
                case_state=Conversation.CaseState.RESOLVED,
                status=Conversation.Status.OPEN,
                resolved_at__lte=cutoff,
            )
            .first()
        )
        if conversation is None:
            return False
        system_line_add(
            conversation=conversation,
            interaction=None,
            text=SystemLine.CASE_CLOSED_RESOLVED,
        )
        conversation_close_locked(conversation, now=timezone.now())
        if conversation.agent_id:
            agent_state.agent_work_state_sync(user_id=conversation.agent_id)
    return True
