"""Agent state: Ready, Not Ready (+ reason), Busy and After Call Work derived from work, Logged
out; presence (the desktop's heartbeat)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import NotFound, ValidationError

from .. import events
from ..capacity import ROUTABLE_STATES, agent_has_work, agent_has_wrap_up
from ..models import AgentProfile, AgentState, Offer
from ..permissions import can_supervise_agent
from . import offers
from .triggers import route_service_on_commit

#: A heartbeat refreshes ``last_seen_at`` only when it is older than this (no write per ping).
SEEN_REFRESH_SECONDS = 30


def state_change(*, profile: AgentProfile, state: str, reason: str = "") -> None:
    """Write the agent's state (the caller holds the profile's row lock) and tell their desktop
    and the supervisors."""
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
        type=events.AGENT_STATE_CHANGED,
        payload=events.agent_state_payload(profile),
    )


def _route_services_of(profile: AgentProfile) -> None:
    for service_id in profile.services.values_list("id", flat=True):
        route_service_on_commit(service_id)


def agent_work_state_sync(*, user_id: int) -> None:
    """Busy and After Call Work are derived from work: with live interactions the agent is Busy;
    with none but a conversation in wrap-up, After Call Work; with neither, Ready again (or the
    Not Ready they asked for meanwhile). Runs in the caller's transaction."""
    profile = AgentProfile.objects.select_for_update().filter(user_id=user_id).first()
    if profile is None:
        return
    derived = (AgentState.READY, AgentState.BUSY, AgentState.AFTER_CALL_WORK)
    if profile.state in derived:
        if agent_has_work(user_id=user_id):
            state_change(profile=profile, state=AgentState.BUSY)
        elif agent_has_wrap_up(user_id=user_id):
            state_change(profile=profile, state=AgentState.AFTER_CALL_WORK)
        elif profile.requested_state == AgentState.NOT_READY:
            state_change(
                profile=profile, state=AgentState.NOT_READY, reason=profile.requested_reason
            )
            profile.requested_state = profile.requested_reason = ""
            profile.save(update_fields=["requested_state", "requested_reason"])
        else:
            state_change(profile=profile, state=AgentState.READY)
    _route_services_of(profile)


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
            state_change(profile=profile, state=AgentState.BUSY if working else AgentState.READY)
            _route_services_of(profile)
        elif agent_has_work(user_id=user.pk) or agent_has_wrap_up(user_id=user.pk):
            # Takes effect when the current work and wrap-up are done.
            profile.requested_state, profile.requested_reason = AgentState.NOT_READY, reason
            profile.save(update_fields=["requested_state", "requested_reason"])
            realtime.publish(
                audiences=[realtime.agent_audience(user.pk), realtime.SUPERVISORS],
                type=events.AGENT_STATE_REQUESTED,
                payload=events.agent_state_requested_payload(
                    agent_id=user.pk, state=AgentState.NOT_READY, reason=reason
                ),
            )
        else:
            state_change(profile=profile, state=AgentState.NOT_READY, reason=reason)
    return profile


def agent_state_force(
    *, supervisor: AbstractBaseUser, agent: AbstractBaseUser, state: str, reason: str = ""
) -> AgentProfile:
    """A supervisor forces the state of an agent of their services (e.g. Not Ready for a forgotten
    break)."""
    if not can_supervise_agent(supervisor, agent):
        raise NotFound(gettext("Agent not found."))
    if state not in (AgentState.READY, AgentState.NOT_READY, AgentState.LOGGED_OUT):
        raise ValidationError(gettext("Choose Ready, Not Ready or Logged out."), field="state")
    with transaction.atomic():
        if state == AgentState.LOGGED_OUT:
            offers.offers_withdraw_from(user_id=agent.pk, state=Offer.State.REJECTED)
        profile = AgentProfile.objects.select_for_update().filter(user=agent).first()
        if profile is None:
            raise NotFound(gettext("Agent not found."))
        profile.requested_state = profile.requested_reason = ""
        profile.save(update_fields=["requested_state", "requested_reason"])
        if state == AgentState.READY and agent_has_work(user_id=agent.pk):
            state = AgentState.BUSY
        if state != AgentState.NOT_READY:
            reason = ""
        state_change(profile=profile, state=state, reason=reason or "forced by supervisor")
        if state in ROUTABLE_STATES:
            _route_services_of(profile)
    return profile


def agent_logged_in(*, user: AbstractBaseUser) -> AgentProfile | None:
    """Logging in: Ready when the agent's profile says so, else Not Ready with the configured
    default reason (``AGENT_LOGIN_NOT_READY_REASON``). Agents already working keep their state."""
    with transaction.atomic():
        profile = AgentProfile.objects.select_for_update().filter(user=user).first()
        if profile is None:
            return None
        profile.last_seen_at = timezone.now()
        profile.save(update_fields=["last_seen_at"])
        system_reasons = {settings.MISSED_OFFER_REASON, settings.DISCONNECTED_REASON}
        fresh = profile.state == AgentState.LOGGED_OUT or (
            profile.state == AgentState.NOT_READY and profile.not_ready_reason in system_reasons
        )
        if not fresh:
            return profile  # already working, or a Not Ready the agent chose
        if profile.ready_on_login:
            working = agent_has_work(user_id=user.pk)
            state_change(profile=profile, state=AgentState.BUSY if working else AgentState.READY)
            _route_services_of(profile)
        else:
            state_change(
                profile=profile,
                state=AgentState.NOT_READY,
                reason=settings.AGENT_LOGIN_NOT_READY_REASON,
            )
    return profile


def agent_logging_out(*, user: AbstractBaseUser) -> None:
    """Logging out: the agent is Logged out (no offers); live offers go back to the queue.
    Conversations in hand stay the agent's (the page asked before logging out)."""
    with transaction.atomic():
        offers.offers_withdraw_from(user_id=user.pk, state=Offer.State.REJECTED)
        profile = AgentProfile.objects.select_for_update().filter(user=user).first()
        if profile is None:
            return
        profile.requested_state = profile.requested_reason = ""
        profile.save(update_fields=["requested_state", "requested_reason"])
        state_change(profile=profile, state=AgentState.LOGGED_OUT)


def agent_seen(*, user_id: int) -> None:
    """The desktop's websocket connected or sent its heartbeat. Writes only when the last mark is
    older than ``SEEN_REFRESH_SECONDS`` (a heartbeat is not a row write each time)."""
    now = timezone.now()
    stale = now - timedelta(seconds=SEEN_REFRESH_SECONDS)
    AgentProfile.objects.filter(user_id=user_id, last_seen_at__lt=stale).update(last_seen_at=now)
    AgentProfile.objects.filter(user_id=user_id, last_seen_at__isnull=True).update(last_seen_at=now)


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
    silent = AgentProfile.objects.filter(
        user_id=user_id, state__in=ROUTABLE_STATES, last_seen_at__lt=cutoff
    )
    with transaction.atomic():
        if not silent.exists():
            return False
        offers.offers_withdraw_from(user_id=user_id, state=Offer.State.EXPIRED)
        profile = silent.select_for_update().first()
        if profile is None:
            return False
        state_change(
            profile=profile, state=AgentState.NOT_READY, reason=settings.DISCONNECTED_REASON
        )
    return True
