"""The API channel: an external system posts its customers' messages (recognized by identities)
into a service; agents' replies go to the system's reply URL, signed, through the outbox (retried
when the system is down, failed when it refuses)."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from channels_app.models import ApiChannelSettings
from contacts.models import Contact, Identity
from conversations import services, tasks
from conversations.models import Channel, Conversation, Message, MessageStatus
from tests.factories import ContactFactory, EntryPointFactory, IdentityFactory, UserFactory
from tests.support.api import api_for, error_of
from tests.support.webhook_receiver import WebhookReceiver

URL = "/api/v1/channels/api/bridge/messages/"


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def bridge(service_a):
    entry_point = EntryPointFactory(
        name="Messenger bridge", channel=Channel.API, address="bridge", service=service_a
    )
    return ApiChannelSettings.objects.create(
        entry_point=entry_point, reply_url="https://bridge.example.com/replies"
    )


@pytest.fixture
def system(db):
    """The external system's user: may post into API channels."""
    user = UserFactory(username="bridge-system")
    user.user_permissions.add(Permission.objects.get(codename="post_api_inbound"))
    return api_for(user, scopes=["write"])


def inbound(system, run_on_commit, message_id="tg-1", body="Where is my order?", **extra):
    payload = {
        "message_id": message_id,
        "identities": [{"kind": "messenger", "value": "telegram:48213"}],
        "first_name": "Ana",
        "body": body,
        **extra,
    }
    return run_on_commit(lambda: system.post(URL, payload, format="json"))


@pytest.mark.django_db
def test_an_inbound_message_joins_the_service_queue_and_is_offered(
    system, bridge, agent_a, run_on_commit
):
    response = inbound(system, run_on_commit)

    assert response.status_code == 201, response.content
    body = response.json()
    message = Message.objects.get(pk=body["message_id"])
    assert (message.channel, message.direction, message.body) == (
        "api",
        "inbound",
        "Where is my order?",
    )
    conversation = message.conversation
    assert conversation.service == bridge.entry_point.service
    assert body["conversation_id"] == conversation.pk and body["duplicate"] is False
    interaction = message.interaction
    assert (interaction.customer_address, interaction.service_address) == (
        "telegram:48213",
        "bridge",
    )
    assert Identity.objects.get(kind="messenger").contact.first_name == "Ana"
    assert agent_a.offers.filter(interaction=interaction).exists()


@pytest.mark.django_db
def test_the_contact_is_recognized_by_its_identities(system, bridge, run_on_commit):
    known = ContactFactory(first_name="Ana", last_name="Díaz")
    IdentityFactory(contact=known, kind="phone", value="+14155550100")
    response = inbound(
        system,
        run_on_commit,
        identities=[
            {"kind": "messenger", "value": "whatsapp:14155550100"},
            {"kind": "phone", "value": "(415) 555-0100"},
        ],
    )
    assert response.json()["contact_id"] == known.pk
    assert Contact.objects.count() == 1
    assert set(known.identities.values_list("kind", "value")) == {
        ("phone", "+14155550100"),
        ("messenger", "whatsapp:14155550100"),
    }


@pytest.mark.django_db
def test_the_same_message_id_twice_is_stored_once(system, bridge, run_on_commit):
    first = inbound(system, run_on_commit)
    again = inbound(system, run_on_commit)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["duplicate"] is True
    assert again.json()["message_id"] == first.json()["message_id"]
    assert Message.objects.count() == 1
    # A second message of the same customer continues the conversation.
    inbound(system, run_on_commit, message_id="tg-2", body="Hello?")
    assert Conversation.objects.count() == 1 and Message.objects.count() == 2


@pytest.mark.django_db
def test_only_users_allowed_to_post_into_api_channels_can(bridge, agent_a, supervisor):
    payload = {
        "message_id": "x",
        "identities": [{"kind": "messenger", "value": "tg:1"}],
        "body": "fake",
    }
    for user in (agent_a, supervisor):
        response = api_for(user).post(URL, payload, format="json")
        assert response.status_code == 404
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_bad_inbound_messages_are_400s_naming_the_field(system, bridge):
    cases = {
        "message_id": {
            "message_id": "has spaces",
            "identities": [{"kind": "messenger", "value": "a"}],
            "body": "x",
        },
        "identities": {"message_id": "m", "identities": [], "body": "x"},
        "identities[0].kind": {
            "message_id": "m",
            "identities": [{"kind": "fax", "value": "1"}],
            "body": "x",
        },
        "identities[0].value": {
            "message_id": "m",
            "identities": [{"kind": "phone", "value": "555"}],
            "body": "x",
        },
        "body": {
            "message_id": "m",
            "identities": [{"kind": "messenger", "value": "a"}],
            "body": "",
        },
    }
    for field, payload in cases.items():
        response = system.post(URL, payload, format="json")
        assert response.status_code == 400, (field, response.content)
        assert list(error_of(response)["fields"]) == [field], response.json()
    assert (
        system.post("/api/v1/channels/api/nope/messages/", cases["body"], format="json").status_code
        == 404
    )
    assert not Message.objects.exists()


def reply(agent, conversation, run_on_commit, body="It ships today."):
    return run_on_commit(
        lambda: services.message_send(conversation=conversation, user=agent, body=body)
    )


def accepted_conversation(system, agent, run_on_commit):
    response = inbound(system, run_on_commit)
    offer = agent.offers.get()
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent))
    return Conversation.objects.get(pk=response.json()["conversation_id"])


@pytest.mark.django_db
def test_an_agents_reply_is_posted_to_the_system_signed_once(
    system, bridge, agent_a, run_on_commit
):
    with WebhookReceiver(reply={"id": "their-77"}) as receiver:
        bridge.reply_url = receiver.url
        bridge.save()
        conversation = accepted_conversation(system, agent_a, run_on_commit)
        message = reply(agent_a, conversation, run_on_commit)
        received = receiver.wait_for(1)

    assert len(received) == 1
    request = received[0]
    assert WebhookReceiver.verified(request, bridge.secret)
    assert request.headers["Idempotency-Key"] == f"message-{message.pk}"
    body = request.json
    assert (body["type"], body["message_id"], body["to"], body["body"]) == (
        "message",
        message.pk,
        "telegram:48213",
        "It ships today.",
    )
    assert body["agent"]["id"] == agent_a.pk and body["conversation_id"] == conversation.pk
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_id == f"bridge:out:{message.pk}:their-77"


@pytest.mark.django_db
def test_a_system_that_is_down_gets_the_reply_later(system, bridge, agent_a, run_on_commit):
    with WebhookReceiver(answers=[503, 200]) as receiver:
        bridge.reply_url = receiver.url
        bridge.save()
        conversation = accepted_conversation(system, agent_a, run_on_commit)
        message = reply(agent_a, conversation, run_on_commit)
        receiver.wait_for(1)
        message.refresh_from_db()
        assert (message.status, message.error_code) == (MessageStatus.QUEUED, "503")
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            run_on_commit(tasks.sweep_outbound)
        received = receiver.wait_for(2)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert {r.headers["Idempotency-Key"] for r in received} == {f"message-{message.pk}"}


@pytest.mark.django_db
def test_a_refused_reply_fails_and_the_agent_sees_why(system, bridge, agent_a, run_on_commit):
    with WebhookReceiver(answers=[422]) as receiver:
        bridge.reply_url = receiver.url
        bridge.save()
        conversation = accepted_conversation(system, agent_a, run_on_commit)
        message = reply(agent_a, conversation, run_on_commit)
        receiver.wait_for(1)
    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_message) == (
        MessageStatus.FAILED,
        "422",
        "HTTP 422",
    )


@pytest.mark.django_db
def test_the_system_reports_delivery_and_reading(system, bridge, agent_a, run_on_commit):
    with WebhookReceiver() as receiver:
        bridge.reply_url = receiver.url
        bridge.save()
        conversation = accepted_conversation(system, agent_a, run_on_commit)
        message = reply(agent_a, conversation, run_on_commit)
        receiver.wait_for(1)
    status_url = f"/api/v1/channels/api/bridge/messages/{message.pk}/status/"
    read = run_on_commit(lambda: system.post(status_url, {"status": "read"}, format="json"))
    assert read.json() == {"message_id": message.pk, "status": "read"}
    late = system.post(status_url, {"status": "delivered"}, format="json")
    assert late.json()["status"] == "read"  # never backwards
    assert system.post(status_url, {"status": "sent"}, format="json").status_code == 400
    inbound_id = Message.objects.get(direction="inbound").pk
    other = f"/api/v1/channels/api/bridge/messages/{inbound_id}/status/"
    assert system.post(other, {"status": "read"}, format="json").status_code == 404
