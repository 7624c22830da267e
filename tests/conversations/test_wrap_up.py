"""Ending work: wrap-up with dispositions, after-call-work timeout, notes, a second channel."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from contactcenter.exceptions import ValidationError
from contacts.models import Identity
from conversations import ports as outbound
from conversations import selectors, services, tasks
from conversations.models import (
    AgentState,
    CannedResponse,
    Conversation,
    Interaction,
    Message,
    MessageStatus,
)
from tests.factories import (
    AgentProfileFactory,
    DispositionFactory,
    EntryPointFactory,
    ServiceFactory,
)


@pytest.fixture
def handled(run_on_commit):
    """A chat conversation accepted by an agent of a service that requires a disposition."""
    service = ServiceFactory(disposition_required=True, after_call_work_seconds=60)
    disposition = DispositionFactory(service=service, name="Resolved")
    profile = AgentProfileFactory(services=[service])
    interaction = run_on_commit(
        lambda: (
            services.inbound_receive(
                record=services.InboundRecord(
                    channel="chat",
                    service=service,
                    identities=[
                        (Identity.Kind.WEBCHAT, "visitor-1"),
                        (Identity.Kind.PHONE, "4155550100"),
                    ],
                    provider_id="chat-1",
                    body="hello",
                    customer_address="visitor-1",
                )
            ).message.interaction
        )
    )
    offer = interaction.offers.get()
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=profile.user))
    return interaction.conversation, profile, disposition


def state_of(profile):
    profile.refresh_from_db()
    return profile.state


@pytest.mark.django_db
def test_ending_the_last_interaction_starts_wrap_up_and_after_call_work(handled, run_on_commit):
    conversation, profile, _ = handled
    assert state_of(profile) == AgentState.BUSY

    run_on_commit(lambda: services.conversation_end(conversation=conversation, user=profile.user))

    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WRAP_UP
    assert state_of(profile) == AgentState.AFTER_CALL_WORK


@pytest.mark.django_db
def test_required_disposition_cannot_be_skipped(handled, run_on_commit):
    conversation, profile, _ = handled
    run_on_commit(lambda: services.conversation_end(conversation=conversation, user=profile.user))

    with pytest.raises(ValidationError) as error:
        services.conversation_wrap_up(
            conversation=conversation, user=profile.user, disposition=None
        )

    assert error.value.field == "disposition"
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WRAP_UP


@pytest.mark.django_db
def test_submitting_wrap_up_closes_and_returns_the_agent_to_ready(handled, run_on_commit):
    conversation, profile, disposition = handled
    run_on_commit(lambda: services.conversation_end(conversation=conversation, user=profile.user))

    run_on_commit(
        lambda: services.conversation_wrap_up(
            conversation=conversation, user=profile.user, disposition=disposition, notes="Fixed"
        )
    )

    conversation.refresh_from_db()
    assert (conversation.status, conversation.disposition, conversation.wrap_up_notes) == (
        Conversation.Status.CLOSED,
        disposition,
        "Fixed",
    )
    assert state_of(profile) == AgentState.READY


@pytest.mark.django_db
def test_not_ready_requested_during_work_applies_after_wrap_up(handled, run_on_commit):
    conversation, profile, disposition = handled
    run_on_commit(
        lambda: services.agent_state_set(user=profile.user, state="not_ready", reason="Lunch")
    )
    assert state_of(profile) == AgentState.BUSY  # still working

    run_on_commit(lambda: services.conversation_end(conversation=conversation, user=profile.user))
    run_on_commit(
        lambda: services.conversation_wrap_up(
            conversation=conversation, user=profile.user, disposition=disposition
        )
    )

    assert state_of(profile) == AgentState.NOT_READY
    assert profile.not_ready_reason == "Lunch"


@pytest.mark.django_db
def test_disposition_of_another_service_is_refused(handled, run_on_commit):
    conversation, profile, _ = handled
    foreign = DispositionFactory()
    run_on_commit(lambda: services.conversation_end(conversation=conversation, user=profile.user))
    with pytest.raises(ValidationError):
        services.conversation_wrap_up(
            conversation=conversation, user=profile.user, disposition=foreign
        )


@pytest.mark.django_db
def test_after_call_work_timeout_is_enforced_by_the_close_out_job(handled, run_on_commit):
    conversation, profile, _ = handled
    run_on_commit(lambda: services.conversation_end(conversation=conversation, user=profile.user))

    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert run_on_commit(tasks.expire_wrap_ups) == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert run_on_commit(tasks.expire_wrap_ups) == 1
        assert run_on_commit(tasks.expire_wrap_ups) == 0  # idempotent

    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert state_of(profile) == AgentState.READY
    assert conversation.messages.filter(
        kind=Message.Kind.SYSTEM, body__contains="timed out"
    ).exists()


@pytest.mark.django_db
def test_service_without_wrap_up_closes_at_once(run_on_commit):
    service = ServiceFactory(after_call_work=False, disposition_required=False)
    profile = AgentProfileFactory(services=[service])
    interaction = run_on_commit(
        lambda: (
            services.inbound_receive(
                record=services.InboundRecord(
                    channel="chat",
                    service=service,
                    identities=[(Identity.Kind.WEBCHAT, "v")],
                    provider_id="c",
                    body="hi",
                )
            ).message.interaction
        )
    )
    run_on_commit(
        lambda: services.offer_accept(offer_id=interaction.offers.get().pk, user=profile.user)
    )

    run_on_commit(lambda: services.interaction_end(interaction=interaction))  # customer left

    interaction.conversation.refresh_from_db()
    assert interaction.conversation.status == Conversation.Status.CLOSED
    assert state_of(profile) == AgentState.READY


@pytest.mark.django_db
def test_internal_note_is_stored_and_never_sent(handled, run_on_commit, monkeypatch):
    conversation, profile, _ = handled
    sent = []
    monkeypatch.setattr(tasks.deliver_message, "delay", lambda *a: sent.append(a))

    note = run_on_commit(
        lambda: services.note_add(conversation=conversation, user=profile.user, body="VIP customer")
    )

    assert (note.direction, note.kind) == (Message.Direction.INTERNAL, Message.Kind.NOTE)
    assert sent == []


@pytest.mark.django_db
def test_sms_inside_a_chat_conversation_and_the_reply_join_one_conversation(
    handled, run_on_commit, monkeypatch
):
    conversation, profile, _ = handled
    EntryPointFactory(service=conversation.service, address="+15005550006")
    delivered = []

    class Sender:
        def send(self, message):
            delivered.append(message.pk)
            return outbound.SendResult(
                provider_id=f"SM{message.pk:032d}", status=MessageStatus.SENT
            )

    monkeypatch.setitem(outbound._senders, "sms", Sender())
    targets = selectors.composer_targets(conversation=conversation)
    assert [(t.channel, t.to_address, t.new_leg) for t in targets] == [
        ("chat", "visitor-1", False),
        ("sms", "+14155550100", True),
    ]

    message = run_on_commit(
        lambda: services.message_send(
            conversation=conversation,
            user=profile.user,
            body="Your summary",
            channel="sms",
            to_address="+14155550100",
        )
    )
    reply = run_on_commit(
        lambda: (
            services.inbound_receive(
                record=services.InboundRecord(
                    channel="sms",
                    service=conversation.service,
                    identities=[(Identity.Kind.PHONE, "+1 415 555 0100")],
                    provider_id="SMreply",
                    body="Thanks!",
                    customer_address="+14155550100",
                    service_address="+15005550006",
                )
            ).message
        )
    )

    assert delivered == [message.pk]
    sms_leg = message.interaction
    assert (sms_leg.channel, sms_leg.direction, sms_leg.service_address) == (
        "sms",
        "outbound",
        "+15005550006",
    )
    assert reply.conversation_id == conversation.pk
    assert reply.interaction_id == sms_leg.pk
    assert set(conversation.interactions.values_list("channel", flat=True)) == {"chat", "sms"}
    assert Conversation.objects.filter(contact=conversation.contact).count() == 1


@pytest.mark.django_db
def test_sms_to_a_number_that_is_not_the_contacts_is_refused(handled, run_on_commit):
    conversation, profile, _ = handled
    EntryPointFactory(service=conversation.service, address="+15005550006")
    with pytest.raises(ValidationError) as error:
        services.message_send(
            conversation=conversation,
            user=profile.user,
            body="x",
            channel="sms",
            to_address="+14155559999",
        )
    assert error.value.field == "to"
    assert not Interaction.objects.filter(channel="sms").exists()


@pytest.mark.django_db
def test_canned_responses_fill_their_placeholders(handled):
    conversation, profile, _ = handled
    conversation.contact.first_name = "Maria"
    conversation.contact.save()
    profile.display_name = "Alex"
    profile.save()
    CannedResponse.objects.create(
        service=conversation.service,
        title="Greeting",
        body="Hi {{ contact.first_name }}, {{agent.name}} here about {{ case }}.",
    )
    CannedResponse.objects.create(service=ServiceFactory(), title="Other service", body="no")

    responses = selectors.canned_responses_for(conversation=conversation, user=profile.user)

    assert [r["text"] for r in responses] == [f"Hi Maria, Alex here about {conversation.number}."]
