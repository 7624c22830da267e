"""The desktop's pull lists stay live: an agent's socket also carries the queue events of the
services they work (and only those)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from contactcenter import realtime
from conversations import events
from conversations.consumers import AgentConsumer

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def ready_socket(user):
    communicator = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "hello", "last_event_id": 0})
    while (await communicator.receive_json_from(timeout=3))["type"] != "ready":
        pass
    return communicator


@database_sync_to_async
def queue_changed(service):
    return realtime.publish(
        audiences=[realtime.SUPERVISORS, realtime.service_audience(service.pk)],
        type=events.QUEUE_CHANGED,
        payload=events.queue_payload(service_id=service.pk, interaction_id=1),
    )


async def test_queue_events_reach_the_agents_of_the_service_only(agent_a, agent_b, service_a):
    alice = await ready_socket(agent_a)
    bob = await ready_socket(agent_b)

    await queue_changed(service_a)

    frame = await alice.receive_json_from(timeout=3)
    assert frame["event"]["type"] == events.QUEUE_CHANGED
    assert frame["event"]["audience"] == realtime.service_audience(service_a.pk)
    assert await bob.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await bob.disconnect()
