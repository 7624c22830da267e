import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from contactcenter import realtime
from contactcenter.asgi import application
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


async def events_until_ready(communicator):
    received = []
    while True:
        message = await communicator.receive_json_from(timeout=3)
        if message["type"] == "ready":
            return received, message
        received.append(message["event"])


async def test_reconnect_with_last_event_id_receives_exactly_the_missed_events_in_order(agent_a):
    audience = realtime.agent_audience(agent_a.pk)
    first = await connect(agent_a)
    await first.send_json_to({"type": "hello", "last_event_id": 0})
    await events_until_ready(first)
    seen_id = await publish(audience, "test.before")
    live = await first.receive_json_from(timeout=3)
    assert live["event"]["id"] == seen_id
    await first.disconnect()

    missed = [
        await publish(audience, "test.missed", n=1),
        await publish(audience, "test.missed", n=2),
    ]

    second = await connect(agent_a)
    await second.send_json_to({"type": "hello", "last_event_id": seen_id, "seen": [seen_id]})
    replayed, ready = await events_until_ready(second)
    assert [event["id"] for event in replayed] == missed
    assert [event["payload"]["n"] for event in replayed] == [1, 2]
    assert ready["last_event_id"] == missed[-1]
    assert await second.receive_nothing(timeout=0.2)
    await second.disconnect()


@override_settings(EVENT_REPLAY_OVERLAP_SECONDS=0)
async def test_replay_without_overlap_sends_only_events_after_the_last_id(agent_a):
    audience = realtime.agent_audience(agent_a.pk)
    old = await publish(audience, "test.old")
    new = await publish(audience, "test.new")

    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "last_event_id": old})
    replayed, _ = await events_until_ready(communicator)

    assert [event["id"] for event in replayed] == [new]
    await communicator.disconnect()


async def test_an_event_committed_late_below_the_last_id_is_still_replayed(agent_a):
    """Ids are assigned at insert: a smaller id can commit after a larger one was seen."""
    audience = realtime.agent_audience(agent_a.pk)
    late = await publish(audience, "test.late")
    seen = await publish(audience, "test.seen")

    communicator = await connect(agent_a)
    # The page saw `seen` but never `late` (it committed after the page's last fetch).
    await communicator.send_json_to({"type": "hello", "last_event_id": seen, "seen": [seen]})
    replayed, _ = await events_until_ready(communicator)

    assert [event["id"] for event in replayed] == [late]
    await communicator.disconnect()


async def test_live_events_are_forwarded_once_even_if_rung_twice(agent_a):
    audience = realtime.agent_audience(agent_a.pk)
    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "last_event_id": 0})
    await events_until_ready(communicator)

    event_id = await publish(audience, "test.live")
    await communicator.receive_json_from(timeout=3)
    event = await database_sync_to_async(lambda: realtime.Event.objects.get(pk=event_id))()
    await database_sync_to_async(realtime.ring)([event])
    await communicator.send_json_to({"type": "ping"})

    assert (await communicator.receive_json_from(timeout=3))["type"] == "pong"
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_a_lost_ring_is_recovered_by_the_next_heartbeat(agent_a):
    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "last_event_id": 0})
    await events_until_ready(communicator)

    # Written to the log without ringing the doorbell (as if the layer dropped it).
    lost = await database_sync_to_async(
        lambda: EventFactory(audience=realtime.agent_audience(agent_a.pk), type="test.lost").id
    )()
    await communicator.send_json_to({"type": "ping"})

    message = await communicator.receive_json_from(timeout=3)
    assert message["type"] == "event" and message["event"]["id"] == lost
    assert (await communicator.receive_json_from(timeout=3))["type"] == "pong"
    await communicator.disconnect()


async def test_agent_does_not_receive_another_agents_events(agent_a, agent_b):
    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "last_event_id": 0})
    await events_until_ready(communicator)

    await publish(realtime.agent_audience(agent_b.pk), "test.private")
    await publish(realtime.SUPERVISORS, "test.supervisors")

    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=3))["type"] == "pong"
    await communicator.disconnect()


async def test_supervisor_receives_supervisor_events(supervisor):
    communicator = await connect(supervisor)
    await communicator.send_json_to({"type": "hello", "last_event_id": 0})
    await events_until_ready(communicator)

    event_id = await publish(realtime.SUPERVISORS, "test.supervisors")

    assert (await communicator.receive_json_from(timeout=3))["event"]["id"] == event_id
    await communicator.disconnect()


async def test_gap_older_than_retention_tells_the_page_to_reload(agent_a):
    await publish(realtime.agent_audience(agent_a.pk), "test.one")
    await publish(realtime.agent_audience(agent_a.pk), "test.two")
    newest = await publish(realtime.agent_audience(agent_a.pk), "test.three")
    await database_sync_to_async(lambda: realtime.Event.objects.filter(id__lt=newest).delete())()

    communicator = await connect(agent_a)
    await communicator.send_json_to({"type": "hello", "last_event_id": newest - 3})

    assert (await communicator.receive_json_from(timeout=3))["type"] == "reload"
    await communicator.disconnect()


async def test_anonymous_websocket_is_refused():
    communicator = WebsocketCommunicator(
        application, "/ws/agent/", headers=[(b"origin", b"http://localhost")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_websocket_from_a_foreign_origin_is_refused(agent_a, client):
    communicator = WebsocketCommunicator(
        application, "/ws/agent/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected
