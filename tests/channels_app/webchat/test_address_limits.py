"""Issue 16, seen from outside, item 6: the chat's per-visitor limit was bypassed by dropping the
visitor token (25 sessions, contacts and conversations in 5 s from one address; the offline form
too). New chats and offline messages are now limited per client address."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from channels_app.models import ChatSession
from contactcenter.asgi import application
from contacts.models import Contact
from conversations.models import Conversation

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

HEADERS = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.WEBCHAT_SYNC_SECONDS = 0
    settings.WEBCHAT_ADDRESS_LIMIT = 3
    settings.WEBCHAT_ADDRESS_WINDOW_SECONDS = 600


async def new_visitor(address: str, *, forwarded: str = ""):
    """A browser that dropped its token: a brand-new visitor each time."""
    headers = list(HEADERS)
    if forwarded:
        headers.append((b"x-forwarded-for", forwarded.encode()))
    communicator = WebsocketCommunicator(application, "/ws/chat/website/", headers=headers)
    communicator.scope["client"] = (address, 40000)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "hello", "token": None, "language": "en"})
    welcome = await communicator.receive_json_from(timeout=3)
    assert welcome["type"] == "welcome" and welcome["renewed"] is False
    return communicator


async def first_answer_to(communicator, frame: dict) -> dict:
    await communicator.send_json_to(frame)
    for _ in range(20):
        answer = await communicator.receive_json_from(timeout=3)
        if answer["type"] in ("session", "error", "offline_sent", "form_errors"):
            return answer
    raise AssertionError("no answer")


PRECHAT = {
    "type": "prechat",
    "client_id": "prechat-01",
    "fields": {
        "prechat-name": "Spam Bot",
        "prechat-email": "bot@example.com",
        "prechat-question": "hello",
    },
}


@database_sync_to_async
def counts() -> tuple[int, int, int]:
    return ChatSession.objects.count(), Contact.objects.count(), Conversation.objects.count()


async def test_new_chats_from_one_address_are_limited_whatever_the_token(chat_entry_point_a):
    answers = []
    for n in range(6):
        communicator = await new_visitor("203.0.113.5")
        frame = {**PRECHAT, "fields": {**PRECHAT["fields"], "prechat-email": f"bot{n}@example.com"}}
        answers.append(await first_answer_to(communicator, frame))
        await communicator.disconnect()

    assert [a["type"] for a in answers] == ["session"] * 3 + ["error"] * 3
    assert answers[-1]["code"] == "rate_limited"
    assert "Too many new chats" in answers[-1]["detail"]
    assert await counts() == (3, 3, 3)

    # Another address is not affected.
    other = await new_visitor("198.51.100.7")
    assert (await first_answer_to(other, PRECHAT))["type"] == "session"
    await other.disconnect()


async def test_the_offline_form_is_limited_per_address_too(chat_entry_point_a):
    answers = []
    for n in range(5):
        communicator = await new_visitor("203.0.113.9")
        frame = {
            "type": "offline",
            "client_id": f"offline-{n:04d}",
            "fields": {
                "offline-name": "Spam Bot",
                "offline-email": f"bot{n}@example.com",
                "offline-message": "Buy now",
            },
        }
        answers.append(await first_answer_to(communicator, frame))
        await communicator.disconnect()
    assert [a["type"] for a in answers] == ["offline_sent"] * 3 + ["error"] * 2
    assert await database_sync_to_async(Conversation.objects.count)() == 3


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(chat_entry_point_a, settings):
    settings.NUM_PROXIES = 1
    for n in range(3):
        communicator = await new_visitor("10.0.0.1", forwarded=f"192.0.2.{n + 1}")
        assert (await first_answer_to(communicator, PRECHAT))["type"] == "session"
        await communicator.disconnect()
    # Three customers behind one proxy are three addresses; the same customer again is limited.
    for _ in range(3):
        communicator = await new_visitor("10.0.0.1", forwarded="192.0.2.1")
        await first_answer_to(communicator, PRECHAT)
        await communicator.disconnect()
    communicator = await new_visitor("10.0.0.1", forwarded="192.0.2.1")
    assert (await first_answer_to(communicator, PRECHAT))["type"] == "error"
    await communicator.disconnect()


async def test_a_null_character_in_a_chat_line_is_refused_not_a_crash(chat_entry_point_a):
    communicator = await new_visitor("203.0.113.77")
    assert (await first_answer_to(communicator, PRECHAT))["type"] == "session"
    await communicator.send_json_to({"type": "message", "client_id": "msg-00001", "body": "a\x00b"})
    for _ in range(20):
        frame = await communicator.receive_json_from(timeout=3)
        if frame["type"] == "error":
            break
    assert (frame["code"], frame["field"]) == ("invalid", "body")
    await communicator.disconnect()
