"""The customer's websocket (/ws/chat/<slug>/) and the agent's chat panel socket, through the real
ASGI application (routing, origin check, session auth) with WebsocketCommunicator."""

from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from channels_app.models import ChatSession
from channels_app.tasks import webchat_inactivity
from channels_app.webchat.tokens import visitor_token_issue
from contactcenter.asgi import application
from conversations import services as conversation_services
from conversations.consumers import AgentConsumer
from conversations.models import Conversation, Message
from conversations.services import message_send

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://127.0.0.1")


async def customer(slug="website", *, token=None, page=None, origin=ORIGIN):
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/{slug}/", headers=[origin, (b"host", b"127.0.0.1")]
    )
    connected, code = await communicator.connect()
    assert connected, code
    await communicator.send_json_to(
        {"type": "hello", "token": token, "page": page, "language": "en"}
    )
    welcome = await communicator.receive_json_from(timeout=3)
    assert welcome["type"] == "welcome", welcome
    return communicator, welcome


async def receive_until(communicator, predicate, limit=20):
    """Frames until one matches ``predicate``; returns (that frame, frames before it)."""
    before = []
    for _ in range(limit):
        frame = await communicator.receive_json_from(timeout=3)
        if predicate(frame):
            return frame, before
        before.append(frame)
    raise AssertionError(f"no matching frame in {before}")


async def move_timers(session_id: int, *, warn_in: int, expires_in: int):
    """Set the session's inactivity timers relative to now; returns the new ``expires_at``."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=expires_in)
    await database_sync_to_async(
        lambda: ChatSession.objects.filter(pk=session_id).update(
            warn_at=now + timedelta(seconds=warn_in), expires_at=expires_at
        )
    )()
    return expires_at


def event_of(type_):
    return lambda frame: frame["type"] == "event" and frame["event"]["type"] == type_


PRECHAT = {
    "prechat-name": "Maria García",
    "prechat-email": "maria@example.com",
    "prechat-phone": "",
    "prechat-question": "Where is my order?",
}


async def start(communicator, fields=PRECHAT):
    await communicator.send_json_to(
        {"type": "prechat", "client_id": "prechat-01", "fields": fields}
    )
    frame, _ = await receive_until(communicator, lambda f: f["type"] == "session")
    return frame["session"]


@database_sync_to_async
def route(session_id):
    """What the inbound's commit triggers (routing); the widget learns of it from the chat's
    lifecycle listener, in routing's own transaction."""
    session = ChatSession.objects.select_related("entry_point").get(pk=session_id)
    conversation_services.route_service(service_id=session.entry_point.service_id)


async def test_a_new_visitor_gets_a_token_config_and_availability(chat_entry_point_a, agent_a):
    communicator, welcome = await customer()

    assert welcome["token"] and welcome["renewed"] is False
    assert welcome["availability"] == "open"
    assert welcome["session"] is None
    assert welcome["config"]["prechat"] == {
        "name": "required",
        "email": "required",
        "phone": "optional",
        "question": "required",
    }
    await communicator.disconnect()


async def test_unknown_entry_point_is_refused(db):
    communicator = WebsocketCommunicator(
        application, "/ws/chat/nope/", headers=[ORIGIN, (b"host", b"127.0.0.1")]
    )
    connected, _ = await communicator.connect()
    if connected:
        assert (await communicator.receive_output(timeout=3))["type"] == "websocket.close"
    await communicator.disconnect()


async def test_a_foreign_origin_cannot_open_the_chat_socket(chat_entry_point_a):
    communicator = WebsocketCommunicator(
        application,
        "/ws/chat/website/",
        headers=[(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1")],
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def test_prechat_form_errors_name_each_field_and_store_nothing(chat_entry_point_a, agent_a):
    communicator, _ = await customer()

    await communicator.send_json_to(
        {
            "type": "prechat",
            "client_id": "prechat-01",
            "fields": {"prechat-name": "", "prechat-email": "not-an-email", "prechat-phone": "12"},
        }
    )
    frame = await communicator.receive_json_from(timeout=3)

    assert frame["type"] == "form_errors" and frame["form"] == "prechat"
    assert set(frame["errors"]) == {
        "prechat-name",
        "prechat-email",
        "prechat-phone",
        "prechat-question",
    }
    assert await database_sync_to_async(ChatSession.objects.count)() == 0
    await communicator.disconnect()


async def test_chat_both_ways_with_typing_read_receipts_and_reload(chat_entry_point_a, agent_a):
    communicator, welcome = await customer(
        page={"url": "https://shop.example.com/cart", "title": "Cart"}
    )
    session = await start(communicator)
    assert [m["body"] for m in session["messages"]] == ["Where is my order?"]

    await route(session["id"])
    joined, _ = await receive_until(communicator, event_of("chat.agent"))
    assert joined["event"]["payload"] == {"name": "Agent agent_a"}

    # The agent's desktop socket (the page's one socket) watches the conversation: customer typing
    # reaches it, the agent's typing reaches the widget.
    conversation_id = await _conversation_id(session["id"])
    desk = await desk_socket(agent_a, conversation_id)
    await communicator.send_json_to({"type": "typing", "typing": True})
    assert await desk.receive_json_from(timeout=3) == {
        "type": "typing",
        "conversation_id": conversation_id,
        "typing": True,
    }
    await desk.send_json_to({"type": "typing", "conversation_id": conversation_id, "typing": True})
    typing, _ = await receive_until(communicator, lambda f: f["type"] == "typing")
    assert typing == {"type": "typing", "typing": True, "name": "Agent agent_a"}

    # The agent reads: the customer's line shows as read.
    first_id = session["messages"][0]["id"]
    await desk.send_json_to({"type": "read", "conversation_id": conversation_id, "up_to": first_id})
    read, _ = await receive_until(communicator, event_of("chat.read"))
    assert read["event"]["payload"] == {"up_to": first_id}

    # The agent replies through the outbound sender; the widget gets the line with the name.
    reply = await database_sync_to_async(_reply)(session["id"], agent_a, "It ships <b>today</b>.")
    line, _ = await receive_until(communicator, event_of("chat.message"))
    assert line["event"]["payload"]["message"] == {
        "id": reply,
        "from": "agent",
        "body": "It ships <b>today</b>.",
        "at": line["event"]["payload"]["message"]["at"],
        "name": "Agent agent_a",
        "read": False,
    }
    assert await _status(reply) == "delivered"
    await communicator.send_json_to({"type": "seen", "up_to": reply})
    await communicator.send_json_to({"type": "ping"})
    await receive_until(communicator, lambda f: f["type"] == "pong")
    assert await _status(reply) == "read"

    # The customer writes again.
    await communicator.send_json_to({"type": "message", "client_id": "client-0002", "body": "Thx"})
    ack, _ = await receive_until(communicator, lambda f: f["type"] == "ack")
    assert ack["client_id"] == "client-0002"

    # Reload: the same token sees the whole transcript of the ongoing chat.
    await communicator.disconnect()
    again, welcome_again = await customer(token=welcome["token"])
    assert welcome_again["renewed"] is False
    restored = welcome_again["session"]
    assert restored["id"] == session["id"]
    assert [m["body"] for m in restored["messages"]] == [
        "Where is my order?",
        "It ships <b>today</b>.",
        "Thx",
    ]
    assert restored["agent"] == "Agent agent_a"
    assert restored["read_up_to"] == first_id
    assert [n["code"] for n in restored["notices"]] == ["agent_joined"]
    await again.disconnect()
    await desk.disconnect()


async def test_agent_ending_the_conversation_shows_the_end_in_the_widget(
    chat_entry_point_a, agent_a
):
    communicator, _ = await customer()
    session = await start(communicator)
    await route(session["id"])

    await database_sync_to_async(_end_conversation)(session["id"], agent_a)

    ended, _ = await receive_until(communicator, event_of("chat.ended"))
    assert ended["event"]["payload"] == {"reason": "agent"}
    await communicator.send_json_to({"type": "message", "client_id": "client-0009", "body": "?"})
    error, _ = await receive_until(communicator, lambda f: f["type"] == "error")
    assert (error["code"], error["client_id"]) == ("invalid_state", "client-0009")
    await communicator.disconnect()


async def test_inactivity_warns_then_ends_the_chat_in_the_widget(chat_entry_point_a, agent_a):
    communicator, _ = await customer()
    session = await start(communicator)
    await route(session["id"])
    await receive_until(communicator, event_of("chat.agent"))
    timers = await database_sync_to_async(
        lambda: ChatSession.objects.values("warn_at", "expires_at").get(pk=session["id"])
    )()
    assert timers["expires_at"] - timers["warn_at"] == timedelta(minutes=5)

    # The timers fall due now (rather than travelling in time: the channel layer would take the
    # jump for lapsed group memberships and drop the socket's groups).
    expires_at = await move_timers(session["id"], warn_in=-1, expires_in=299)
    assert await database_sync_to_async(webchat_inactivity)() == {
        "warned": 1,
        "ended": 0,
        "left": 0,
    }
    warning, _ = await receive_until(communicator, event_of("chat.warning"))
    assert warning["event"]["payload"] == {"expires_at": expires_at.isoformat()}

    await move_timers(session["id"], warn_in=-301, expires_in=-1)
    assert await database_sync_to_async(webchat_inactivity)() == {
        "warned": 0,
        "ended": 1,
        "left": 0,
    }
    ended, before = await receive_until(communicator, event_of("chat.ended"))
    assert ended["event"]["payload"] == {"reason": "inactivity"}
    assert [
        f["event"]["payload"]["notice"]["code"]
        for f in before
        if f.get("event", {}).get("type") == "chat.notice"
    ] == ["ended"]
    await communicator.disconnect()


async def test_a_forged_token_gets_a_new_visitor_that_cannot_read_or_write_the_chat(
    chat_entry_point_a, agent_a
):
    victim, welcome = await customer()
    session = await start(victim)
    victim_id = await database_sync_to_async(
        lambda: ChatSession.objects.get(pk=session["id"]).visitor_id
    )()

    # Same visitor id, signature made with another key: refused.
    forged = _forged_token(chat_entry_point_a.pk, victim_id)
    attacker, attacker_welcome = await customer(token=forged)
    assert attacker_welcome["renewed"] is True
    assert attacker_welcome["session"] is None
    assert attacker_welcome["token"] != welcome["token"]
    # A tampered payload in the victim's genuine token: refused too.
    genuine = welcome["token"]
    tampered = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    attacker2, attacker2_welcome = await customer(token=tampered)
    assert attacker2_welcome["renewed"] is True and attacker2_welcome["session"] is None

    # Whatever the attacker writes lands in their own chat, never in the victim's.
    await attacker.send_json_to({"type": "message", "client_id": "evil-0001", "body": "hi"})
    error, _ = await receive_until(attacker, lambda f: f["type"] == "error")
    assert error["code"] == "prechat_required"
    await attacker.send_json_to({"type": "prechat", "client_id": "evil-0002", "fields": PRECHAT})
    own, _ = await receive_until(attacker, lambda f: f["type"] == "session")
    assert own["session"]["id"] != session["id"]
    assert [m["body"] for m in own["session"]["messages"]] == ["Where is my order?"]

    # The victim's replies never reach the attacker's socket.
    await route(session["id"])
    await database_sync_to_async(_reply)(session["id"], agent_a, "Your card ends in 4242")
    line, _ = await receive_until(victim, event_of("chat.message"))
    assert line["event"]["payload"]["message"]["body"] == "Your card ends in 4242"  # not a repeat
    frames = []
    while not await attacker.receive_nothing(timeout=0.3):
        frames.append(await attacker.receive_json_from())
    assert "4242" not in str(frames)
    for communicator in (victim, attacker, attacker2):
        await communicator.disconnect()


async def test_an_expired_token_is_a_new_visitor(chat_entry_point_a, agent_a, settings):
    settings.WEBCHAT_TOKEN_MAX_AGE_SECONDS = 3600
    victim, welcome = await customer()
    session = await start(victim)
    await victim.disconnect()

    with time_machine.travel(timezone.now() + timedelta(seconds=3601), tick=False):
        later, later_welcome = await customer(token=welcome["token"])
    assert later_welcome["renewed"] is True
    assert later_welcome["session"] is None
    assert (
        await database_sync_to_async(lambda: ChatSession.objects.get(pk=session["id"]).state)()
        == "open"
    )
    await later.disconnect()


async def test_a_token_of_another_entry_point_is_refused(chat_entry_point_a, service_a):
    from .factories import ChatEntryPointFactory

    other = await database_sync_to_async(ChatEntryPointFactory)(address="other", service=service_a)
    token = visitor_token_issue(entry_point_id=other.pk, visitor_id="f" * 32).token

    communicator, welcome = await customer(token=token)
    assert welcome["renewed"] is True
    await communicator.disconnect()


async def test_bad_frames_get_visible_errors(chat_entry_point_a, agent_a):
    communicator, _ = await customer()
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from(timeout=3))["code"] == "bad_request"
    await communicator.send_to(text_data="x" * 30_000)
    assert (await communicator.receive_json_from(timeout=3))["code"] == "too_large"
    await communicator.send_json_to({"type": "launch-missiles"})
    assert (await communicator.receive_json_from(timeout=3))["code"] == "bad_request"
    await communicator.disconnect()


async def test_too_long_message_is_refused_with_the_limit(chat_entry_point_a, agent_a):
    communicator, _ = await customer()
    await start(communicator)
    await communicator.send_json_to(
        {"type": "message", "client_id": "client-long1", "body": "x" * 2001}
    )
    error, _ = await receive_until(communicator, lambda f: f["type"] == "error")
    assert (error["code"], error["field"], error["client_id"]) == (
        "invalid",
        "body",
        "client-long1",
    )
    assert "2000" in error["detail"]
    await communicator.disconnect()


async def test_offline_form_creates_an_email_conversation(chat_entry_point_a, agent_a):
    communicator, _ = await customer()
    await communicator.send_json_to(
        {
            "type": "offline",
            "client_id": "offline-01",
            "fields": {
                "offline-name": "Aiko Tanaka",
                "offline-email": "AIKO@example.com",
                "offline-message": "Please call me back",
            },
        }
    )
    _frame, _ = await receive_until(communicator, lambda f: f["type"] == "offline_sent")
    message = await database_sync_to_async(
        lambda: Message.objects.select_related("conversation__contact").get(
            channel="email", direction="inbound"
        )
    )()
    assert message.body == "Please call me back"
    assert message.conversation.contact.first_name == "Aiko"
    acknowledgements = await database_sync_to_async(
        lambda: list(Message.objects.filter(channel="email", direction="outbound"))
    )()
    assert [ack.conversation_id for ack in acknowledgements] == [message.conversation_id]
    await communicator.disconnect()


async def test_only_agents_who_may_open_the_conversation_can_watch_type_or_read_in_it(
    chat_entry_point_a, agent_a, agent_b, outsider
):
    communicator, _ = await customer()
    session = await start(communicator)
    await route(session["id"])
    conversation_id = await _conversation_id(session["id"])
    await receive_until(communicator, event_of("chat.agent"))
    while not await communicator.receive_nothing(timeout=0.3):
        await communicator.receive_json_from()  # whatever else the join sent

    for user in (agent_b, outsider):
        desk = await desk_socket(user, conversation_id, watch=False)
        for frame in (
            {"type": "watch", "conversation_id": conversation_id},
            {"type": "typing", "conversation_id": conversation_id, "typing": True},
            {"type": "read", "conversation_id": conversation_id, "up_to": 10**9},
        ):
            await desk.send_json_to(frame)
            refused = await desk.receive_json_from(timeout=3)
            assert refused == {"type": "error", "detail": "conversation not found"}
        await desk.disconnect()
    # Nothing reached the customer: no typing, no read receipt.
    assert await communicator.receive_nothing(timeout=0.3)
    assert await desk_socket(agent_a, conversation_id)
    await communicator.disconnect()


async def desk_socket(user, conversation_id, *, watch=True):
    """The agent's desktop socket, logged in as ``user``, watching the conversation (session auth
    and origin are tested with the AgentConsumer)."""
    desk = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    desk.scope["user"] = user
    connected, code = await desk.connect()
    assert connected, code
    await desk.send_json_to({"type": "hello", "cursor": 10**12})
    while (await desk.receive_json_from(timeout=3))["type"] != "ready":
        pass
    if watch:
        await desk.send_json_to({"type": "watch", "conversation_id": conversation_id})
    return desk


@database_sync_to_async
def _conversation_id(session_id):
    return ChatSession.objects.get(pk=session_id).conversation_id


def _reply(session_id, user, body):
    conversation = Conversation.objects.get(chat_sessions=session_id)
    return message_send(conversation=conversation, user=user, body=body).pk


def _end_conversation(session_id, user):
    conversation = Conversation.objects.get(chat_sessions=session_id)
    conversation_services.conversation_end(conversation=conversation, user=user)


@database_sync_to_async
def _status(message_id):
    return Message.objects.get(pk=message_id).status


def _forged_token(entry_point_id, visitor_id):
    from django.core import signing

    from channels_app.webchat.tokens import SALT

    return signing.dumps(
        {"e": entry_point_id, "v": visitor_id}, key="not-the-server-key", salt=SALT
    )


async def test_without_a_prechat_form_the_first_message_starts_the_chat(
    chat_entry_point_a, agent_a
):
    await database_sync_to_async(
        lambda: (
            type(chat_entry_point_a.webchat_settings)
            .objects.filter(pk=chat_entry_point_a.webchat_settings.pk)
            .update(prechat_enabled=False, offline_form_enabled=False)
        )
    )()
    communicator, welcome = await customer()
    assert welcome["config"]["prechat"] == {}

    await communicator.send_json_to({"type": "message", "client_id": "client-0001", "body": "Hi"})
    ack, _ = await receive_until(communicator, lambda f: f["type"] == "ack")
    session, _ = await receive_until(communicator, lambda f: f["type"] == "session")
    assert [m["body"] for m in session["session"]["messages"]] == ["Hi"]
    assert session["session"]["messages"][0]["id"] == ack["message_id"]

    await communicator.send_json_to(
        {"type": "offline", "client_id": "offline-01", "fields": {"offline-email": "a@b.example"}}
    )
    error, _ = await receive_until(communicator, lambda f: f["type"] == "error")
    assert error["code"] == "offline_disabled"
    await communicator.disconnect()
