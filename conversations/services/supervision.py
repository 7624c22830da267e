"""What supervisors do to the floor: force an agent's state or log them out, assign a waiting
interaction to an agent, transfer or close a conversation, monitor it, whisper to its agent and
barge in. Each checks the supervisor's permission and scope (``conversations.permissions``),
reuses the writer that does the work, leaves a line in the conversation's timeline and an audit
record, all in one transaction.

Voice (listen, whisper and barge on calls) comes with the voice channel: nothing here is
voice-specific yet.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.audit import audit_exists, audit_record
from contactcenter.exceptions import InvalidState, NotFound, PermissionDenied, ValidationError
from contactcenter.models import AuditAction

from .. import events
from ..capacity import agent_load
from ..models import (
    AgentProfile,
    AgentState,
    Channel,
    Conversation,
    ConversationParticipant,
    Interaction,
    Message,
    Offer,
    Service,
)
from ..permissions import (
    ASSIGN,
    FORCE_AGENT_STATE,
    MANAGE_CONVERSATIONS,
    MONITOR,
    can_supervise_agent,
    can_supervise_conversation,
    can_supervise_service,
    may,
    supervised_agents,
)
from ..system_lines import SystemLine, SystemText
from . import agent_state, closing, handover, offers, outbound, timeline
from .guards import agent_name

WHISPER_MAX_LENGTH = 2000


def _require(user: AbstractBaseUser, permission: str) -> None:
    if not may(user, permission):
        raise PermissionDenied(gettext("You do not have permission to do this."))


def _conversation_for_update(
    *, supervisor: AbstractBaseUser, conversation: Conversation, permission: str
) -> Conversation:
    """The conversation, locked, if ``supervisor`` supervises its service (else NotFound)."""
    _require(supervisor, permission)
    locked = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("service")
        .filter(pk=conversation.pk)
        .first()
    )
    if locked is None or not can_supervise_conversation(supervisor, locked, permission):
        raise NotFound(gettext("Conversation not found."))
    return locked


def _line(
    conversation: Conversation,
    text: SystemText,
    interaction: Interaction | None = None,
    **params: str,
) -> None:
    interaction = interaction or conversation.interactions.order_by("-started_at", "-id").first()
    timeline.system_line_add(
        conversation=conversation, interaction=interaction, text=text, params=params
    )


def _audit_conversation(
    supervisor: AbstractBaseUser, action: str, conversation: Conversation, **details: object
) -> None:
    audit_record(
        actor=supervisor,
        action=action,
        target=conversation,
        target_repr=conversation.number,
        details={"service_id": conversation.service_id, **details},
    )


# --- Agents ----------------------------------------------------------------------------------


def supervisor_agent_state_force(
    *, supervisor: AbstractBaseUser, agent: AbstractBaseUser, state: str, reason: str = ""
) -> AgentProfile:
    """Force the state of an agent the supervisor supervises (Ready, Not Ready + reason, Logged
    out); audited."""
    _require(supervisor, FORCE_AGENT_STATE)
    if not can_supervise_agent(supervisor, agent):
        raise NotFound(gettext("Agent not found."))
    with transaction.atomic():
        profile = agent_state.agent_state_force(
            supervisor=supervisor, agent=agent, state=state, reason=reason
        )
        audit_record(
            actor=supervisor,
            action=AuditAction.AGENT_STATE_FORCED,
            target=profile,
            target_repr=profile.name,
            details={"state": profile.state, "reason": profile.not_ready_reason},
        )
    return profile


def supervisor_agent_log_out(
    *, supervisor: AbstractBaseUser, agent: AbstractBaseUser
) -> AgentProfile:
    """Log an agent out: no more offers, their live offers go back to the queue. Conversations in
    hand stay theirs (a supervisor transfers them if needed)."""
    _require(supervisor, FORCE_AGENT_STATE)
    if not can_supervise_agent(supervisor, agent):
        raise NotFound(gettext("Agent not found."))
    with transaction.atomic():
        agent_state.agent_logging_out(user=agent)
        profile = AgentProfile.objects.select_related("user").get(user=agent)
        audit_record(
            actor=supervisor,
            action=AuditAction.AGENT_LOGGED_OUT,
            target=profile,
            target_repr=profile.name,
            details={"state": profile.state},
        )
    return profile


# --- Assigning waiting work ------------------------------------------------------------------


def interaction_assign(
    *, supervisor: AbstractBaseUser, interaction: Interaction, agent: AbstractBaseUser
) -> Offer:
    """Give a waiting interaction to the agent the supervisor chose: it becomes their offer, or
    their conversation at once when ``SUPERVISOR_ASSIGN_MODE`` is ``conversation``.

    The offer is made while holding the agent's row lock, after checking their spare capacity
    (``conversations.capacity``), so no agent is pushed over capacity; refusals say why.
    """
    _require(supervisor, ASSIGN)
    with transaction.atomic():
        interaction = (
            Interaction.objects.select_for_update(of=("self",))
            .select_related("service", "conversation")
            .filter(pk=interaction.pk)
            .first()
        )
        if interaction is None or not can_supervise_service(supervisor, interaction.service_id):
            raise NotFound(gettext("Interaction not found."))
        if interaction.state != Interaction.State.QUEUED:
            raise InvalidState(
                gettext("This interaction is no longer waiting (it is %(state)s).")
                % {"state": interaction.get_state_display().lower()}
            )
        profile = (
            supervised_agents(supervisor)
            .select_for_update(of=("self",))
            .select_related("user")
            .filter(user_id=agent.pk)
            .first()
        )
        if profile is None:
            raise ValidationError(gettext("Choose an agent you supervise."), field="agent")
        _ensure_can_take(profile, interaction)
        conversation = interaction.conversation
        _line(
            conversation,
            SystemLine.SUPERVISOR_ASSIGNED,
            interaction,
            agent=agent_name(supervisor),
            target=agent_name(profile.user),
        )
        offer = offers.offer_create(interaction=interaction, profile=profile)
        if settings.SUPERVISOR_ASSIGN_MODE == "conversation" and offer.state == Offer.State.OFFERED:
            offer = offers.offer_accept(offer_id=offer.pk, user=profile.user)
        _audit_conversation(
            supervisor,
            AuditAction.INTERACTION_ASSIGNED,
            conversation,
            interaction_id=interaction.pk,
            agent_id=profile.user_id,
            offer_id=offer.pk,
            offer_state=offer.state,
        )
    return offer


def _ensure_can_take(profile: AgentProfile, interaction: Interaction) -> None:
    """Refuse, saying why, an agent who is logged out or has too little spare capacity."""
    name = profile.name
    if profile.state == AgentState.LOGGED_OUT:
        raise InvalidState(gettext("%(agent)s is logged out.") % {"agent": name}, field="agent")
    channel = interaction.channel
    load = agent_load(user_id=profile.user_id, profile=profile)
    needed = max(profile.capacity_spare_needed(channel), profile.capacity_share(channel))
    if 100 - load < needed:
        raise InvalidState(
            gettext(
                "%(agent)s is over capacity: %(load)s %% of their capacity is in use and "
                "%(channel)s needs %(needed)s %% free."
            )
            % {
                "agent": name,
                "load": load,
                "channel": Channel(channel).label,
                "needed": needed,
            },
            field="agent",
        )


# --- Conversations ---------------------------------------------------------------------------


def supervisor_transfer(
    *,
    supervisor: AbstractBaseUser,
    conversation: Conversation,
    service: Service | None = None,
    agent: AbstractBaseUser | None = None,
) -> Conversation:
    """Transfer a conversation to a service's queue or to an agent (who must accept)."""
    if (service is None) == (agent is None):
        raise ValidationError(
            gettext("Choose a service or an agent to transfer to."), field="target"
        )
    with transaction.atomic():
        conversation = _conversation_for_update(
            supervisor=supervisor, conversation=conversation, permission=MANAGE_CONVERSATIONS
        )
        if service is not None:
            handover.transfer_to_service(
                conversation=conversation, user=supervisor, service=service
            )
            details = {"to_service_id": service.pk}
        else:
            handover.transfer_to_agent(conversation=conversation, user=supervisor, target=agent)
            details = {"to_agent_id": agent.pk}
        _audit_conversation(
            supervisor, AuditAction.CONVERSATION_TRANSFERRED, conversation, **details
        )
        conversation.refresh_from_db()
    return conversation


def supervisor_conversation_close(
    *, supervisor: AbstractBaseUser, conversation: Conversation
) -> Conversation:
    """Close a conversation: its open interactions end (a waiting one is not counted as the
    customer's abandon); its agent then wraps up as usual. A conversation stuck in wrap-up is
    closed at once, without a disposition."""
    with transaction.atomic():
        conversation = _conversation_for_update(
            supervisor=supervisor, conversation=conversation, permission=MANAGE_CONVERSATIONS
        )
        if conversation.status == Conversation.Status.CLOSED:
            raise InvalidState(gettext("The conversation is closed."))
        previous_status = conversation.status
        _line(conversation, SystemLine.SUPERVISOR_CLOSED, agent=agent_name(supervisor))
        if previous_status == Conversation.Status.OPEN:
            for interaction in conversation.interactions.exclude(state=Interaction.State.ENDED):
                closing.interaction_end(
                    interaction=interaction, reason="supervisor", abandoned=False
                )
            conversation.refresh_from_db()
            if conversation.status == Conversation.Status.OPEN:  # it had no open interaction
                closing.conversation_close_locked(conversation, now=timezone.now())
        else:
            closing.conversation_close_locked(conversation, now=timezone.now())
        if conversation.agent_id:
            agent_state.agent_work_state_sync(user_id=conversation.agent_id)
        _audit_conversation(
            supervisor,
            AuditAction.CONVERSATION_CLOSED,
            conversation,
            status_before=previous_status,
            status=conversation.status,
        )
    return conversation


def conversation_monitor(*, supervisor: AbstractBaseUser, conversation: Conversation) -> bool:
    """A supervisor opens the live, read-only view of a conversation. The timeline line and the
    audit record are written once per ``SUPERVISOR_MONITOR_LINE_SECONDS`` per supervisor (a
    reload is not a new monitoring session). Returns whether they were written now."""
    with transaction.atomic():
        conversation = _conversation_for_update(
            supervisor=supervisor, conversation=conversation, permission=MONITOR
        )
        since = timezone.now() - timedelta(seconds=settings.SUPERVISOR_MONITOR_LINE_SECONDS)
        if audit_exists(
            actor=supervisor,
            action=AuditAction.CONVERSATION_MONITORED,
            target=conversation,
            since=since,
        ):
            return False
        _line(conversation, SystemLine.SUPERVISOR_MONITORING, agent=agent_name(supervisor))
        _audit_conversation(supervisor, AuditAction.CONVERSATION_MONITORED, conversation)
    return True


def _handler_ids(conversation: Conversation) -> list[int]:
    """The agents working the conversation: its owner and the conference participants."""
    ids = list(
        ConversationParticipant.objects.filter(
            conversation_id=conversation.pk, left_at__isnull=True
        ).values_list("agent_id", flat=True)
    )
    if conversation.agent_id:
        ids.insert(0, conversation.agent_id)
    return list(dict.fromkeys(ids))


def conversation_whisper(
    *, supervisor: AbstractBaseUser, conversation: Conversation, body: str
) -> Message:
    """An internal note from the supervisor that pops up on the screen of the agents handling the
    conversation (event ``supervisor.whisper`` to their audiences). The customer never sees it:
    notes are never sent."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(gettext("The whisper is empty."), field="body")
    if len(body) > WHISPER_MAX_LENGTH:
        raise ValidationError(
            gettext("A whisper is at most %(limit)s characters.") % {"limit": WHISPER_MAX_LENGTH},
            field="body",
        )
    with transaction.atomic():
        conversation = _conversation_for_update(
            supervisor=supervisor, conversation=conversation, permission=MONITOR
        )
        if conversation.status == Conversation.Status.CLOSED:
            raise InvalidState(gettext("The conversation is closed."))
        handlers = _handler_ids(conversation)
        if not handlers:
            raise InvalidState(
                gettext("Nobody handles this conversation yet: there is no agent to whisper to.")
            )
        message = timeline.note_add(conversation=conversation, user=supervisor, body=body)
        realtime.publish(
            audiences=[realtime.agent_audience(agent_id) for agent_id in handlers],
            type=events.SUPERVISOR_WHISPER,
            payload=events.whisper_payload(
                message, supervisor_name=agent_name(supervisor), number=conversation.number
            ),
        )
        _audit_conversation(
            supervisor,
            AuditAction.CONVERSATION_WHISPERED,
            conversation,
            message_id=message.pk,
            agent_ids=handlers,
        )
    return message


def conversation_barge(
    *,
    supervisor: AbstractBaseUser,
    conversation: Conversation,
    body: str,
    channel: str | None = None,
    client_token: str = "",
) -> Message:
    """The supervisor writes to the customer in the conversation, as themselves (the customer sees
    the supervisor's name; the timeline shows their line). The first time, a line says they
    joined. A repeated ``client_token`` sends once."""
    if client_token:
        previous = Message.objects.filter(sender=supervisor, client_token=client_token).first()
        if previous is not None:
            return previous
    with transaction.atomic():
        conversation = _conversation_for_update(
            supervisor=supervisor, conversation=conversation, permission=MONITOR
        )
        if not audit_exists(
            actor=supervisor, action=AuditAction.CONVERSATION_BARGED, target=conversation
        ):
            _line(conversation, SystemLine.SUPERVISOR_BARGED_IN, agent=agent_name(supervisor))
        message = outbound.message_send(
            conversation=conversation,
            user=supervisor,
            body=body,
            channel=channel or None,
            client_token=client_token,
        )
        _audit_conversation(
            supervisor, AuditAction.CONVERSATION_BARGED, conversation, message_id=message.pk
        )
    return message
