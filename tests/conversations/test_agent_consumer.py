import threading

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.test import override_settings

from contactcenter import realtime
from contactcenter.asgi import application
from contactcenter.ws import revoke_session_sockets
from conversations.consumers import AgentConsumer
from tests.factories import EventFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def connect(user):
    communicator = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@database_sync_to_async
def publish(audience, type_, **payload):
    return realtime.publish(audiences=[audience], type=type_, payload=payload)[0].id


@database_sync_to_async
def write_without_ring(audience, type_):
    """An event in the log whose doorbell never rang (as if the channel layer dropped it)."""
    return EventFactory(audience=audience, type=type_).id


async def events_until(communicator, kind):
    received = []
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == kind:
            return received, message
        assert message["type"] == "event", message
        received.append(message["event"])


@override_settings(EVENT_SETTLE_SECONDS=0)
async def test_reconnect_with_the_cursor_receives_exactly_the_missed_events_in_order(agent_a):
    audience = realtime.agent_audience(agent_a.pk)
    first = await connect(agent_a)
    await first.send_json_to({"type": "hello", "cursor": 0})
    await events_until(first, "ready")
    seen_id = await publish(audience, "test.before")
    live = await first.receive_json_from(timeout=3)
    assert live["event"]["id"] == seen_id
    cursor = live["cursor"]
    assert cursor == seen_id  # settled at once (EVENT_SETTLE_SECONDS=0)
    await first.disconnect()

    missed = [
        await publish(audience, "test.missed", n=1),
        await publish(audience, "test.missed", n=2),
    ]

    second = await connect(agent_a)
    await second.send_json_to({"type": "hello", "cursor": cursor, "seen": []})
    replayed, ready = await events_until(second, "ready")
    assert [event["id"] for event in replayed] == missed
    assert [event["payload"]["n"] for event in replayed] == [1, 2]
    assert ready["cursor"] == missed[-1]
    assert await second.receive_nothing(timeout=0.2)
    await second.disconnect()


async def test_unsettled_events_are_replayed_but_not_twice(agent_a):
    """Within the settle time the cursor stays below recent events: a reconnecting page sends
    the ids it has above its cursor and gets only the others."""
    audience = realtime.agent_audience(agent_a.pk)
    first_id = await publish(audience, "test.one")
    second_id = await publish(audience, "test.two")

    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "cursor": 0, "seen": [first_id]})
    replayed, ready = await events_until(communicator, "ready")

    assert [event["id"] for event in replayed] == [second_id]
    assert ready["cursor"] < first_id  # not settled yet: a later hello must cover them
    await communicator.disconnect()


async def test_a_dropped_ring_followed_by_a_later_event_loses_nothing_and_keeps_order(agent_a):
    """The doorbell of event A is lost; event B rings: the socket reads the log, so A arrives,
    before B (the old protocol forwarded B and skipped A for good)."""
    audience = realtime.agent_audience(agent_a.pk)
    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "cursor": 0})
    await events_until(communicator, "ready")

    dropped = await write_without_ring(audience, "test.dropped")
    later = await publish(audience, "test.later")

    received = [
        (await communicator.receive_json_from(timeout=3))["event"]["id"],
        (await communicator.receive_json_from(timeout=3))["event"]["id"],
    ]
    assert received == [dropped, later]
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=3))["type"] == "pong"
    await communicator.disconnect()


async def test_live_events_are_forwarded_once_even_if_rung_twice(agent_a):
    audience = realtime.agent_audience(agent_a.pk)
    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "cursor": 0})
    await events_until(communicator, "ready")

    await publish(audience, "test.live")
    await communicator.receive_json_from(timeout=3)
    await database_sync_to_async(realtime.ring)([audience])
    await communicator.send_json_to({"type": "ping"})

    assert (await communicator.receive_json_from(timeout=3))["type"] == "pong"
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_a_lost_ring_is_recovered_by_the_next_heartbeat(agent_a):
    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "cursor": 0})
    await events_until(communicator, "ready")

    lost = await write_without_ring(realtime.agent_audience(agent_a.pk), "test.lost")
    await communicator.send_json_to({"type": "ping"})

    message = await communicator.receive_json_from(timeout=3)
    assert message["type"] == "event" and message["event"]["id"] == lost
    assert (await communicator.receive_json_from(timeout=3))["type"] == "pong"
    await communicator.disconnect()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two concurrent writers")
async def test_an_event_that_commits_after_a_later_one_is_still_delivered(agent_a):
    """Ids are assigned at insert: a transaction holding id N can commit after N+1 was sent.
    The late event is delivered when it commits, and a reconnect from the server's cursor still
    gets it (the cursor never passes an unsettled id)."""
    audience = realtime.agent_audience(agent_a.pk)
    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "cursor": 0})
    await events_until(communicator, "ready")
    inserted, release, late_id = threading.Event(), threading.Event(), []

    def slow_writer():
        with transaction.atomic():
            events = realtime.publish(audiences=[audience], type="test.late", payload={})
            late_id.append(events[0].id)
            inserted.set()
            release.wait(10)
        connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    await database_sync_to_async(inserted.wait)(10)
    early = await publish(audience, "test.early")
    message = await communicator.receive_json_from(timeout=3)
    assert message["event"]["id"] == early > late_id[0]
    cursor_after_early = message["cursor"]
    release.set()
    await database_sync_to_async(writer.join)(10)

    message = await communicator.receive_json_from(timeout=3)
    assert message["event"]["id"] == late_id[0]
    assert cursor_after_early < late_id[0]
    await communicator.disconnect()

    again = await connect(agent_a)
    await again.send_json_to({"type": "hello", "cursor": cursor_after_early, "seen": [early]})
    replayed, _ = await events_until(again, "ready")
    assert [event["id"] for event in replayed] == [late_id[0]]
    await again.disconnect()


async def test_agent_does_not_receive_another_agents_events(agent_a, agent_b):
    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "cursor": 0})
    await events_until(communicator, "ready")

    await publish(realtime.agent_audience(agent_b.pk), "test.private")
    await publish(realtime.SUPERVISORS, "test.supervisors")

    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=3))["type"] == "pong"
    await communicator.disconnect()


async def test_supervisor_receives_supervisor_events(supervisor):
    communicator = await connect(supervisor)
    await communicator.send_json_to({"type": "hello", "cursor": 0})
    await events_until(communicator, "ready")

    event_id = await publish(realtime.SUPERVISORS, "test.supervisors")

    assert (await communicator.receive_json_from(timeout=3))["event"]["id"] == event_id
    await communicator.disconnect()


async def test_gap_older_than_retention_tells_the_page_to_reload(agent_a):
    await publish(realtime.agent_audience(agent_a.pk), "test.one")
    await publish(realtime.agent_audience(agent_a.pk), "test.two")
    newest = await publish(realtime.agent_audience(agent_a.pk), "test.three")
    await database_sync_to_async(lambda: realtime.Event.objects.filter(id__lt=newest).delete())()

    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "cursor": newest - 3})

    assert (await communicator.receive_json_from(timeout=3))["type"] == "reload"
    await communicator.disconnect()


# --- Through the whole ASGI application: origin, session ---------------------------------------


async def test_anonymous_websocket_is_refused():
    communicator = WebsocketCommunicator(
        application,
        "/ws/agent/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")],
    )
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.parametrize(
    "origin",
    [
        b"https://evil.example",
        b"http://testserver:8080",  # same host, another port
        b"https://testserver",  # same host, another scheme
        b"null",
    ],
)
async def test_websocket_from_another_origin_is_refused(agent_a, origin):
    cookie = await database_sync_to_async(login_cookie)(agent_a)
    communicator = WebsocketCommunicator(
        application,
        "/ws/agent/",
        headers=[(b"origin", origin), (b"host", b"testserver"), (b"cookie", cookie)],
    )
    connected, _code = await communicator.connect()
    assert not connected


async def test_websocket_from_the_same_origin_is_accepted(agent_a):
    communicator = await same_origin_socket(agent_a)
    await communicator.disconnect()


def login_cookie(user) -> bytes:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}".encode()


async def same_origin_socket(user, cookie=None):
    cookie = cookie or await database_sync_to_async(login_cookie)(user)
    communicator = WebsocketCommunicator(
        application,
        "/ws/agent/",
        headers=[(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", cookie)],
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_logging_out_closes_the_sessions_open_sockets(agent_a):
    cookie = await database_sync_to_async(login_cookie)(agent_a)
    communicator = await same_origin_socket(agent_a, cookie)
    await communicator.send_json_to({"type": "hello", "cursor": 0})
    await events_until(communicator, "ready")
    session_key = cookie.decode().split("=", 1)[1]

    await database_sync_to_async(revoke_session_sockets)(session_key)

    assert (await communicator.receive_output(timeout=3))["type"] == "websocket.close"


async def test_an_expired_or_deleted_session_closes_the_socket_at_the_next_heartbeat(agent_a):
    cookie = await database_sync_to_async(login_cookie)(agent_a)
    communicator = await same_origin_socket(agent_a, cookie)
    await communicator.send_json_to({"type": "hello", "cursor": 0})
    await events_until(communicator, "ready")
    session_key = cookie.decode().split("=", 1)[1]
    await database_sync_to_async(lambda: SessionStore(session_key=session_key).delete())()

    await communicator.send_json_to({"type": "ping"})

    closed = await communicator.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4401}
