"""Agent B and an outsider against agent A's conversation, beyond test_desktop_views.py's
open/reply/end: every other desktop action answers 404 and changes nothing, and B's desktop socket
(authenticated by session cookie through the whole ASGI stack) never carries A's events, neither
live, nor on a heartbeat catch-up, nor in a replay from the start of the log."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from contactcenter.asgi import application
from contactcenter.models import Event
from conversations import services
from conversations.models import Conversation, Interaction, Message, Offer
from tests.factories import DispositionFactory, IdentityFactory, InteractionFactory

CUSTOMER = "+14155550123"


def world() -> dict:
    """Everything an action of B could have changed."""
    return {
        "conversations": list(
            Conversation.objects.order_by("pk").values_list(
                "pk", "agent_id", "status", "service_id", "disposition_id", "wrap_up_notes"
            )
        ),
        "interactions": list(
            Interaction.objects.order_by("pk").values_list("pk", "state", "agent_id", "channel")
        ),
        "messages": list(Message.objects.order_by("pk").values_list("pk", "body", "status")),
        "offers": list(Offer.objects.order_by("pk").values_list("pk", "state", "agent_id")),
        "events": Event.objects.count(),
    }


@pytest.fixture
def conversation_of_a(agent_a, service_a):
    """Agent A's open SMS conversation with a contact who has a phone (an SMS leg could open)."""
    interaction = InteractionFactory(conversation__agent=agent_a, conversation__service=service_a)
    conversation = interaction.conversation
    IdentityFactory(contact=conversation.contact, kind="phone", value=CUSTOMER)
    return conversation


@pytest.fixture
def offer_to_a(agent_a, service_a, django_capture_on_commit_callbacks):
    interaction = InteractionFactory(
        conversation__service=service_a, conversation__agent=None, agent=None, state="queued"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.interaction_enqueue(interaction=interaction)
    return Offer.objects.get(agent=agent_a, state="offered")


ACTIONS = {
    "wrap-up": lambda c, o: (
        reverse("conversation-wrap-up", args=[c.pk]),
        {"disposition": "", "notes": "closed by someone else"},
    ),
    "note": lambda c, o: (reverse("conversation-note", args=[c.pk]), {"body": "a note"}),
    "transfer": lambda c, o: (
        reverse("conversation-transfer", args=[c.pk]),
        {"target": f"service:{c.service_id}"},
    ),
    "reply-on-a-new-sms-leg": lambda c, o: (
        reverse("conversation-reply", args=[c.pk]),
        {"body": "Texting you", "channel": "sms", "to": CUSTOMER},
    ),
    "accept-offer": lambda c, o: (reverse("offer-accept", args=[o.pk]), {}),
    "reject-offer": lambda c, o: (reverse("offer-reject", args=[o.pk]), {}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["agent_b", "outsider"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_another_user_gets_404_and_changes_nothing(
    request, client, who, action, conversation_of_a, offer_to_a
):
    client.force_login(request.getfixturevalue(who))
    path, data = ACTIONS[action](conversation_of_a, offer_to_a)
    before = world()

    response = client.post(path, data)

    assert response.status_code == 404, response.content
    assert world() == before


@pytest.mark.django_db
def test_another_agent_cannot_wrap_up_a_conversation_in_wrap_up(
    client, agent_a, agent_b, conversation_of_a, django_capture_on_commit_callbacks
):
    disposition = DispositionFactory(service=conversation_of_a.service)
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_end(conversation=conversation_of_a, user=agent_a)
    client.force_login(agent_b)
    before = world()

    response = client.post(
        reverse("conversation-wrap-up", args=[conversation_of_a.pk]),
        {"disposition": disposition.pk, "notes": "not mine"},
    )

    assert response.status_code == 404
    assert world() == before
    assert before["conversations"][0][2] == "wrap_up"


@pytest.mark.django_db
@pytest.mark.parametrize("after", ["", "0"])
def test_another_agent_cannot_read_new_messages_of_a_conversation(
    client, agent_b, conversation_of_a, after
):
    client.force_login(agent_b)
    url = reverse("conversation-messages", args=[conversation_of_a.pk])
    assert client.get(url, {"after": after} if after else {}).status_code == 404


# --- websockets -------------------------------------------------------------------------------


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def desktop_socket(cookie: bytes) -> WebsocketCommunicator:
    """/ws/agent/ through the whole ASGI application: origin check, session auth, routing."""
    communicator = WebsocketCommunicator(
        application,
        "/ws/agent/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie)],
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def hello(communicator, last_event_id: int = 0) -> list[dict]:
    """Say hello; returns the replayed events once the server says ready."""
    await communicator.send_json_to({"type": "hello", "last_event_id": last_event_id})
    replayed = []
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == "ready":
            return replayed
        replayed.append(message["event"])


async def drain(communicator) -> list[dict]:
    """Every event the socket has pending, up to the pong of a heartbeat (which catches up)."""
    await communicator.send_json_to({"type": "ping"})
    events = []
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == "pong":
            return events
        events.append(message["event"])


def a_conversation_from_start_to_end(agent_a, service_a) -> int:
    """What agent A's desktop hears about: offer, acceptance, messages, statuses, state changes,
    wrap-up and close. Returns the conversation's id."""
    message = services.inbound_receive(
        record=services.InboundRecord(
            channel="sms",
            service=service_a,
            identities=[("phone", CUSTOMER)],
            provider_id="SM-isolation-1",
            body="Private: my card number ends in 4242",
            customer_address=CUSTOMER,
            service_address="+15005550006",
        )
    ).message
    offer = Offer.objects.get(agent=agent_a, interaction=message.interaction, state="offered")
    services.offer_accept(offer_id=offer.pk, user=agent_a)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    reply = services.message_send(conversation=conversation, user=agent_a, body="Thanks")
    services.message_status_update(message_id=reply.pk, status="delivered")
    services.note_add(conversation=conversation, user=agent_a, body="Customer verified")
    services.agent_state_set(user=agent_a, state="not_ready", reason="Lunch")
    services.conversation_end(conversation=conversation, user=agent_a)
    services.conversation_wrap_up(conversation=conversation, user=agent_a, disposition=None)
    return conversation.pk


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_agent_b_socket_never_receives_agent_a_events_live_on_catch_up_or_in_replay(
    agent_a, agent_b, service_a
):
    cookie_a, cookie_b = await database_sync_to_async(
        lambda: (session_cookie(agent_a), session_cookie(agent_b))
    )()
    socket_a = await desktop_socket(cookie_a)
    socket_b = await desktop_socket(cookie_b)
    assert await hello(socket_a) == []
    assert await hello(socket_b) == []

    conversation_id = await database_sync_to_async(a_conversation_from_start_to_end)(
        agent_a, service_a
    )

    heard_by_a = await drain(socket_a)
    types = {event["type"] for event in heard_by_a}
    assert {
        "offer.created",
        "offer.accepted",
        "conversation.assigned",
        "message.created",
        "message.status_changed",
        "agent.state_changed",
        "conversation.wrap_up",
        "conversation.closed",
    } <= types
    assert {event["payload"].get("conversation_id") for event in heard_by_a} >= {conversation_id}
    assert await drain(socket_b) == []  # nothing live, nothing on the heartbeat's catch-up
    await socket_b.disconnect()

    # A new socket of B asking for everything since the start of the log gets nothing of A's.
    replay_b = await desktop_socket(cookie_b)
    assert await hello(replay_b, last_event_id=0) == []
    assert await drain(replay_b) == []
    await replay_b.disconnect()
    await socket_a.disconnect()
