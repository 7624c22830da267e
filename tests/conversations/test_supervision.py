"""Supervisor actions (conversations.services.supervision): each does its work through the writer
that owns it, leaves a line in the timeline and an audit record, and is refused to agents, to
users without a role and to supervisors of other services."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from contactcenter import exceptions
from contactcenter.models import AuditAction, AuditRecord, Event
from contacts.models import Identity
from conversations import services
from conversations.events import SUPERVISOR_WHISPER
from conversations.models import (
    AgentProfile,
    AgentState,
    Conversation,
    Interaction,
    Message,
    MessageStatus,
    Offer,
)
from tests.factories import AgentProfileFactory, TeamFactory

pytestmark = pytest.mark.django_db


def inbound(service, *, visitor="v1", body="Hello?", channel="chat"):
    return services.inbound_receive(
        record=services.InboundRecord(
            channel=channel,
            service=service,
            identities=[(Identity.Kind.WEBCHAT, visitor)],
            provider_id=f"{channel}-{visitor}-{body}",
            body=body,
            customer_address=visitor,
        )
    ).message.interaction


def set_state(user, state, reason=""):
    AgentProfile.objects.filter(user=user).update(state=state, not_ready_reason=reason)


@pytest.fixture
def waiting_chat(service_a, agent_a, run_on_commit):
    """A chat waiting in service A's queue (its only agent is Not Ready)."""
    set_state(agent_a, AgentState.NOT_READY)
    interaction = run_on_commit(lambda: inbound(service_a))
    interaction.refresh_from_db()
    assert interaction.state == Interaction.State.QUEUED
    return interaction


@pytest.fixture
def handled_chat(service_a, agent_a, run_on_commit):
    """A chat agent A accepted: an open conversation of theirs."""
    interaction = run_on_commit(lambda: inbound(service_a, visitor="v2"))
    offer = Offer.objects.get(interaction=interaction, state=Offer.State.OFFERED)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    return Conversation.objects.get(pk=interaction.conversation_id)


def audit(action, target=None):
    records = AuditRecord.objects.filter(action=action)
    if target is not None:
        records = records.filter(
            target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
        )
    return list(records)


def system_lines(conversation):
    return list(
        conversation.messages.filter(kind=Message.Kind.SYSTEM).values_list("body", flat=True)
    )


# --- Assigning a waiting interaction --------------------------------------------------------


def test_assigning_to_an_agent_with_capacity_makes_it_their_offer(
    waiting_chat, supervisor, agent_a, run_on_commit
):
    offer = run_on_commit(
        lambda: services.interaction_assign(
            supervisor=supervisor, interaction=waiting_chat, agent=agent_a
        )
    )

    assert (offer.state, offer.agent_id) == (Offer.State.OFFERED, agent_a.pk)
    waiting_chat.refresh_from_db()
    assert (waiting_chat.state, waiting_chat.agent_id) == (Interaction.State.OFFERED, agent_a.pk)
    conversation = waiting_chat.conversation
    assert "Sam Supervisor (supervisor) assigned it to Agent agent_a." in system_lines(conversation)
    [record] = audit(AuditAction.INTERACTION_ASSIGNED, conversation)
    assert record.actor == supervisor
    assert record.details["agent_id"] == agent_a.pk
    assert record.details["offer_state"] == "offered"


def test_assigning_with_the_conversation_setting_makes_it_their_conversation(
    waiting_chat, supervisor, agent_a, run_on_commit, settings
):
    settings.SUPERVISOR_ASSIGN_MODE = "conversation"

    offer = run_on_commit(
        lambda: services.interaction_assign(
            supervisor=supervisor, interaction=waiting_chat, agent=agent_a
        )
    )

    assert offer.state == Offer.State.ACCEPTED
    conversation = Conversation.objects.get(pk=waiting_chat.conversation_id)
    assert conversation.agent == agent_a
    waiting_chat.refresh_from_db()
    assert waiting_chat.state == Interaction.State.ACTIVE
    assert waiting_chat.answered_at is not None


def test_assigning_to_an_agent_over_capacity_is_refused_with_the_reason(
    service_a, waiting_chat, supervisor, agent_a, run_on_commit
):
    # Four chats already: 4 x 25 % = 100 % of agent A's capacity.
    for n in range(4):
        interaction = run_on_commit(lambda n=n: inbound(service_a, visitor=f"busy{n}"))
        Offer.objects.filter(interaction=interaction).delete()
        Interaction.objects.filter(pk=interaction.pk).update(
            state=Interaction.State.ACTIVE, agent=agent_a
        )

    with pytest.raises(exceptions.InvalidState) as refused:
        services.interaction_assign(supervisor=supervisor, interaction=waiting_chat, agent=agent_a)

    assert refused.value.field == "agent"
    assert refused.value.message == (
        "Agent agent_a is over capacity: 100 % of their capacity is in use and Chat needs "
        "25 % free."
    )
    waiting_chat.refresh_from_db()
    assert waiting_chat.state == Interaction.State.QUEUED
    assert not Offer.objects.filter(interaction=waiting_chat).exists()
    assert audit(AuditAction.INTERACTION_ASSIGNED) == []


def test_assigning_to_a_logged_out_agent_is_refused(waiting_chat, supervisor, agent_a):
    set_state(agent_a, AgentState.LOGGED_OUT)
    with pytest.raises(exceptions.InvalidState, match=r"Agent agent_a is logged out\."):
        services.interaction_assign(supervisor=supervisor, interaction=waiting_chat, agent=agent_a)


def test_assigning_an_interaction_no_longer_waiting_is_refused(handled_chat, supervisor, agent_a):
    interaction = handled_chat.interactions.get()
    with pytest.raises(exceptions.InvalidState, match="no longer waiting"):
        services.interaction_assign(supervisor=supervisor, interaction=interaction, agent=agent_a)


def test_assigning_to_an_agent_of_another_team_is_refused(waiting_chat, supervisor, agent_b):
    with pytest.raises(exceptions.ValidationError) as refused:
        services.interaction_assign(supervisor=supervisor, interaction=waiting_chat, agent=agent_b)
    assert refused.value.field == "agent"


def test_agents_and_outsiders_cannot_assign(waiting_chat, agent_a, agent_b, outsider):
    for user in (agent_a, agent_b, outsider):
        with pytest.raises(exceptions.PermissionDenied):
            services.interaction_assign(supervisor=user, interaction=waiting_chat, agent=agent_a)
    assert waiting_chat.offers.count() == 0


def test_a_supervisor_of_other_services_cannot_assign_its_work(
    waiting_chat, service_b, agent_a, run_on_commit
):
    from tests.conftest import with_role

    other = with_role(AgentProfileFactory(user__username="boss_b").user, "Supervisor")
    TeamFactory(services=[service_b], members=[other.agent_profile])
    with pytest.raises(exceptions.NotFound):
        services.interaction_assign(supervisor=other, interaction=waiting_chat, agent=agent_a)


def test_administrators_supervise_every_service(
    waiting_chat, administrator, agent_a, run_on_commit
):
    offer = run_on_commit(
        lambda: services.interaction_assign(
            supervisor=administrator, interaction=waiting_chat, agent=agent_a
        )
    )
    assert offer.agent_id == agent_a.pk


# --- Agents' state -----------------------------------------------------------------------------


def test_forcing_an_agents_state_is_audited(supervisor, agent_a, run_on_commit):
    profile = run_on_commit(
        lambda: services.supervisor_agent_state_force(
            supervisor=supervisor, agent=agent_a, state=AgentState.NOT_READY, reason="Meeting"
        )
    )

    assert (profile.state, profile.not_ready_reason) == (AgentState.NOT_READY, "Meeting")
    [record] = audit(AuditAction.AGENT_STATE_FORCED, profile)
    assert record.details == {"state": "not_ready", "reason": "Meeting"}
    assert record.target_repr == "Agent agent_a"
    assert Event.objects.filter(audience="supervisors", type="agent.state_changed").exists()


def test_logging_an_agent_out_returns_their_offers_to_the_queue(
    service_a, supervisor, agent_a, run_on_commit
):
    interaction = run_on_commit(lambda: inbound(service_a))
    assert interaction.offers.get().agent == agent_a

    run_on_commit(lambda: services.supervisor_agent_log_out(supervisor=supervisor, agent=agent_a))

    agent_a.agent_profile.refresh_from_db()
    assert agent_a.agent_profile.state == AgentState.LOGGED_OUT
    assert interaction.offers.get().state == Offer.State.REJECTED
    interaction.refresh_from_db()
    assert interaction.state == Interaction.State.QUEUED
    assert len(audit(AuditAction.AGENT_LOGGED_OUT)) == 1


def test_an_agent_outside_the_supervisors_teams_cannot_be_forced(supervisor, agent_b):
    with pytest.raises(exceptions.NotFound):
        services.supervisor_agent_state_force(
            supervisor=supervisor, agent=agent_b, state=AgentState.READY
        )
    with pytest.raises(exceptions.NotFound):
        services.supervisor_agent_log_out(supervisor=supervisor, agent=agent_b)
    assert audit(AuditAction.AGENT_STATE_FORCED) == audit(AuditAction.AGENT_LOGGED_OUT) == []


def test_agents_cannot_force_states(agent_a, agent_b):
    with pytest.raises(exceptions.PermissionDenied):
        services.supervisor_agent_state_force(
            supervisor=agent_b, agent=agent_a, state=AgentState.NOT_READY
        )


def test_a_supervisor_without_the_permission_cannot_force_states(supervisor, agent_a):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="Supervisor")
    group.permissions.remove(Permission.objects.get(codename="force_agent_state"))
    with pytest.raises(exceptions.PermissionDenied):
        services.supervisor_agent_state_force(
            supervisor=supervisor, agent=agent_a, state=AgentState.NOT_READY
        )


# --- Transfer and close ----------------------------------------------------------------------


def test_transferring_to_a_service_requeues_it_with_a_line_and_an_audit_record(
    handled_chat, supervisor, service_b, agent_a, run_on_commit
):
    set_state(agent_a, AgentState.NOT_READY)
    run_on_commit(
        lambda: services.supervisor_transfer(
            supervisor=supervisor, conversation=handled_chat, service=service_b
        )
    )

    handled_chat.refresh_from_db()
    assert (handled_chat.service, handled_chat.agent) == (service_b, None)
    interaction = handled_chat.interactions.get()
    assert interaction.transfers == 1
    assert interaction.answered_at is None  # its wait in the new queue counts from now
    assert "Sam Supervisor transferred the conversation to Service B." in system_lines(handled_chat)
    [record] = audit(AuditAction.CONVERSATION_TRANSFERRED, handled_chat)
    assert record.details["to_service_id"] == service_b.pk


def test_transferring_to_an_agent_offers_it_to_them(
    handled_chat, supervisor, service_a, run_on_commit
):
    other = AgentProfileFactory(user__username="agent_c", services=[service_a]).user
    run_on_commit(
        lambda: services.supervisor_transfer(
            supervisor=supervisor, conversation=handled_chat, agent=other
        )
    )
    offer = Offer.objects.get(agent=other)
    assert offer.is_transfer and offer.state == Offer.State.OFFERED
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=other))
    assert handled_chat.interactions.get().transfers == 1


def test_closing_a_handled_chat_ends_it_and_leaves_wrap_up_to_its_agent(
    handled_chat, supervisor, agent_a, run_on_commit
):
    conversation = run_on_commit(
        lambda: services.supervisor_conversation_close(
            supervisor=supervisor, conversation=handled_chat
        )
    )

    assert conversation.status == Conversation.Status.WRAP_UP
    interaction = handled_chat.interactions.get()
    assert interaction.state == Interaction.State.ENDED
    assert interaction.abandoned_at is None
    assert "Sam Supervisor (supervisor) closed the conversation." in system_lines(handled_chat)
    assert len(audit(AuditAction.CONVERSATION_CLOSED, handled_chat)) == 1
    agent_a.agent_profile.refresh_from_db()
    assert agent_a.agent_profile.state == AgentState.AFTER_CALL_WORK


def test_closing_a_conversation_in_wrap_up_closes_it_and_records_the_wrap_up_end(
    handled_chat, supervisor, agent_a, run_on_commit
):
    run_on_commit(lambda: services.conversation_end(conversation=handled_chat, user=agent_a))
    conversation = run_on_commit(
        lambda: services.supervisor_conversation_close(
            supervisor=supervisor, conversation=handled_chat
        )
    )

    assert conversation.status == Conversation.Status.CLOSED
    assert handled_chat.interactions.get().wrap_up_ended_at == conversation.closed_at
    agent_a.agent_profile.refresh_from_db()
    assert agent_a.agent_profile.state == AgentState.READY


def test_closing_a_waiting_conversation_is_no_customer_abandon(
    waiting_chat, supervisor, run_on_commit
):
    conversation = run_on_commit(
        lambda: services.supervisor_conversation_close(
            supervisor=supervisor, conversation=waiting_chat.conversation
        )
    )
    assert conversation.status == Conversation.Status.CLOSED
    waiting_chat.refresh_from_db()
    assert waiting_chat.state == Interaction.State.ENDED
    assert waiting_chat.abandoned_at is None


def test_closing_twice_is_refused_the_second_time(handled_chat, supervisor, run_on_commit):
    run_on_commit(lambda: services.conversation_end(conversation=handled_chat, user=supervisor))
    run_on_commit(
        lambda: services.supervisor_conversation_close(
            supervisor=supervisor, conversation=handled_chat
        )
    )
    with pytest.raises(exceptions.InvalidState):
        services.supervisor_conversation_close(supervisor=supervisor, conversation=handled_chat)
    assert len(audit(AuditAction.CONVERSATION_CLOSED, handled_chat)) == 1


def test_agents_cannot_transfer_or_close_through_supervision(handled_chat, agent_a, agent_b):
    for user in (agent_a, agent_b):
        with pytest.raises(exceptions.PermissionDenied):
            services.supervisor_conversation_close(supervisor=user, conversation=handled_chat)
        with pytest.raises(exceptions.PermissionDenied):
            services.supervisor_transfer(
                supervisor=user, conversation=handled_chat, service=handled_chat.service
            )


# --- Monitor, whisper, barge in --------------------------------------------------------------


def test_monitoring_writes_its_line_and_audit_record_once_per_session(
    handled_chat, supervisor, settings
):
    assert services.conversation_monitor(supervisor=supervisor, conversation=handled_chat)
    assert not services.conversation_monitor(supervisor=supervisor, conversation=handled_chat)

    lines = [line for line in system_lines(handled_chat) if "monitoring" in line]
    assert lines == ["Sam Supervisor (supervisor) is monitoring the conversation."]
    assert len(audit(AuditAction.CONVERSATION_MONITORED, handled_chat)) == 1

    settings.SUPERVISOR_MONITOR_LINE_SECONDS = 0
    assert services.conversation_monitor(supervisor=supervisor, conversation=handled_chat)


def test_whisper_is_a_note_that_pops_up_for_the_agent_and_never_reaches_the_customer(
    handled_chat, supervisor, agent_a, run_on_commit
):
    before = Event.objects.count()

    note = run_on_commit(
        lambda: services.conversation_whisper(
            supervisor=supervisor, conversation=handled_chat, body="Offer the 10 % voucher."
        )
    )

    assert (note.kind, note.direction, note.sender) == (
        Message.Kind.NOTE,
        Message.Direction.INTERNAL,
        supervisor,
    )
    [popup] = Event.objects.filter(type=SUPERVISOR_WHISPER)
    assert popup.audience == f"agent.{agent_a.pk}"
    assert popup.payload == {
        "conversation_id": handled_chat.pk,
        "message_id": note.pk,
        "number": handled_chat.number,
        "from": "Sam Supervisor",
        "body": "Offer the 10 % voucher.",
    }
    new_events = Event.objects.filter(id__gt=0).order_by("id")[before:]
    assert not [event for event in new_events if not event.audience.startswith(("agent.", "sup"))]
    assert note.status == MessageStatus.RECEIVED  # never queued for sending
    [record] = audit(AuditAction.CONVERSATION_WHISPERED, handled_chat)
    assert record.details["agent_ids"] == [agent_a.pk]


def test_whisper_needs_an_agent(waiting_chat, supervisor):
    with pytest.raises(exceptions.InvalidState, match="no agent to whisper to"):
        services.conversation_whisper(
            supervisor=supervisor, conversation=waiting_chat.conversation, body="Hi"
        )


def test_an_empty_whisper_is_refused_naming_the_field(handled_chat, supervisor):
    with pytest.raises(exceptions.ValidationError) as empty:
        services.conversation_whisper(supervisor=supervisor, conversation=handled_chat, body=" ")
    assert empty.value.field == "body"


def test_barge_in_sends_to_the_customer_as_the_supervisor_once_per_token(
    handled_chat, supervisor, run_on_commit
):
    first = run_on_commit(
        lambda: services.conversation_barge(
            supervisor=supervisor,
            conversation=handled_chat,
            body="Hello, I am the team lead.",
            client_token="t1",
        )
    )
    again = run_on_commit(
        lambda: services.conversation_barge(
            supervisor=supervisor,
            conversation=handled_chat,
            body="Hello, I am the team lead.",
            client_token="t1",
        )
    )
    run_on_commit(
        lambda: services.conversation_barge(
            supervisor=supervisor, conversation=handled_chat, body="Anything else?"
        )
    )

    assert first.pk == again.pk
    assert (first.direction, first.sender, first.channel) == (
        Message.Direction.OUTBOUND,
        supervisor,
        "chat",
    )
    lines = [line for line in system_lines(handled_chat) if "writes to the customer" in line]
    assert lines == [
        "Sam Supervisor (supervisor) joined the conversation and writes to the customer."
    ]
    assert len(audit(AuditAction.CONVERSATION_BARGED, handled_chat)) == 2


def test_agents_and_other_supervisors_cannot_monitor_whisper_or_barge(
    handled_chat, agent_a, agent_b, outsider, service_b
):
    from tests.conftest import with_role

    other = with_role(AgentProfileFactory(user__username="boss_b").user, "Supervisor")
    TeamFactory(services=[service_b], members=[other.agent_profile])
    for user, error in (
        (agent_a, exceptions.PermissionDenied),
        (agent_b, exceptions.PermissionDenied),
        (outsider, exceptions.PermissionDenied),
        (other, exceptions.NotFound),
    ):
        with pytest.raises(error):
            services.conversation_monitor(supervisor=user, conversation=handled_chat)
        with pytest.raises(error):
            services.conversation_whisper(supervisor=user, conversation=handled_chat, body="x")
        with pytest.raises(error):
            services.conversation_barge(supervisor=user, conversation=handled_chat, body="x")
    assert not AuditRecord.objects.exclude(action=AuditAction.ROLE_CHANGED).exists()
