"""A service's custom fields: the agent fills them in during the conversation (typed, checked,
all errors at once), integrations' own keys are kept, required ones block wrap-up and resolving
the case until filled, and an ended conversation with a required field empty goes to wrap-up
even when the service has no after-call work."""

import pytest

from contactcenter.exceptions import InvalidState, NotFound, ValidationError
from contactcenter.models import Event
from conversations import services
from conversations.models import Conversation
from tests.factories import (
    AgentProfileFactory,
    ConversationFactory,
    CustomFieldDefinitionFactory,
    InteractionFactory,
)


@pytest.fixture
def fields(service_a):
    return {
        "order": CustomFieldDefinitionFactory(service=service_a, key="order", label="Order"),
        "reason": CustomFieldDefinitionFactory(
            service=service_a,
            key="reason",
            label="Reason",
            kind="choice",
            choices="Delivery\nBilling\n",
            required=True,
        ),
        "amount": CustomFieldDefinitionFactory(
            service=service_a, key="amount", label="Amount", kind="number"
        ),
        "callback": CustomFieldDefinitionFactory(
            service=service_a, key="callback", label="Callback", kind="yes_no"
        ),
    }


@pytest.fixture
def conversation(agent_a, service_a):
    conversation = ConversationFactory(
        agent=agent_a, service=service_a, custom_fields={"crm_case": "CASE-1"}
    )
    InteractionFactory(conversation=conversation, channel="chat")
    return conversation


@pytest.mark.django_db
def test_values_are_typed_and_integration_keys_are_kept(fields, conversation, agent_a):
    services.conversation_fields_fill(
        conversation=conversation,
        user=agent_a,
        values={"order": " A-42 ", "reason": "Billing", "amount": "12,50", "callback": "yes"},
    )
    conversation.refresh_from_db()
    assert conversation.custom_fields == {
        "crm_case": "CASE-1",
        "order": "A-42",
        "reason": "Billing",
        "amount": 12.5,
        "callback": True,
    }
    event = Event.objects.filter(type="conversation.updated").latest("id")
    assert event.payload["conversation_id"] == conversation.pk
    assert event.payload["fields"] == ["amount", "callback", "order", "reason"]

    # An empty value clears the field; a whole number stays whole; unknown names are ignored.
    services.conversation_fields_fill(
        conversation=conversation,
        user=agent_a,
        values={"order": "", "amount": "3", "callback": "no", "crm_case": "overwritten?"},
    )
    conversation.refresh_from_db()
    assert conversation.custom_fields == {
        "crm_case": "CASE-1",
        "reason": "Billing",
        "amount": 3,
        "callback": False,
    }


@pytest.mark.django_db
def test_every_invalid_value_is_reported_at_once_and_nothing_is_saved(
    fields, conversation, agent_a
):
    events = Event.objects.count()
    with pytest.raises(ValidationError) as raised:
        services.conversation_fields_fill(
            conversation=conversation,
            user=agent_a,
            values={"order": "A-1", "reason": "Refund", "amount": "twelve", "callback": "maybe"},
        )
    error = raised.value.as_dict()["error"]
    assert set(error["fields"]) == {"reason", "amount", "callback"}
    assert error["fields"]["reason"] == ["Reason: Choose one of: Delivery, Billing."]
    assert error["fields"]["amount"] == ["Amount: Enter a number."]
    assert error["fields"]["callback"] == ["Callback: Choose yes or no."]
    conversation.refresh_from_db()
    assert conversation.custom_fields == {"crm_case": "CASE-1"}
    assert Event.objects.count() == events


@pytest.mark.django_db
def test_only_those_in_the_conversation_fill_fields_and_not_once_it_is_closed(
    fields, conversation, service_a
):
    stranger = AgentProfileFactory(services=[service_a]).user
    with pytest.raises(NotFound):
        services.conversation_fields_fill(
            conversation=conversation, user=stranger, values={"order": "X"}
        )
    conversation.status = Conversation.Status.CLOSED
    conversation.save(update_fields=["status"])
    with pytest.raises(InvalidState):
        services.conversation_fields_fill(
            conversation=conversation, user=conversation.agent, values={"order": "X"}
        )


@pytest.mark.django_db
def test_a_required_field_blocks_wrap_up_until_filled(fields, conversation, agent_a, service_a):
    service_a.after_call_work = False
    service_a.save(update_fields=["after_call_work"])
    # No after-call work, but a required field is empty: ending leads to wrap-up, not closed.
    services.conversation_end(conversation=conversation, user=agent_a)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WRAP_UP

    with pytest.raises(ValidationError) as raised:
        services.conversation_wrap_up(conversation=conversation, user=agent_a, disposition=None)
    assert raised.value.message == "Fill in the required fields first: Reason."
    assert raised.value.as_dict()["error"]["fields"]["reason"]
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WRAP_UP

    # Filled during wrap-up, it closes.
    services.conversation_fields_fill(
        conversation=conversation, user=agent_a, values={"reason": "Delivery"}
    )
    services.conversation_wrap_up(conversation=conversation, user=agent_a, disposition=None)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert conversation.custom_fields["reason"] == "Delivery"


@pytest.mark.django_db
def test_without_required_fields_a_service_without_after_call_work_closes_at_once(
    conversation, agent_a, service_a
):
    CustomFieldDefinitionFactory(service=service_a, key="order", required=False)
    CustomFieldDefinitionFactory(service=service_a, key="retired", required=True, active=False)
    service_a.after_call_work = False
    service_a.save(update_fields=["after_call_work"])
    services.conversation_end(conversation=conversation, user=agent_a)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED


@pytest.mark.django_db
def test_resolving_a_case_needs_the_required_fields_too(fields, conversation, agent_a):
    with pytest.raises(ValidationError, match="Reason"):
        services.case_resolve(conversation=conversation, user=agent_a)
    conversation.refresh_from_db()
    assert conversation.case_state != Conversation.CaseState.RESOLVED
    services.conversation_fields_fill(
        conversation=conversation, user=agent_a, values={"reason": "Billing"}
    )
    services.case_resolve(conversation=conversation, user=agent_a)
    conversation.refresh_from_db()
    assert conversation.case_state == Conversation.CaseState.RESOLVED
