"""A web call over the real sockets: the customer's widget (/ws/chat/<slug>/) rings, answers,
exchanges signaling with the agent's desktop socket (/ws/agent/), finds the call again after a
reload, and hangs up."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from channels_app.voice import services
from contactcenter.realtime import page_cursor
from conversations.consumers import AgentConsumer
from tests.channels_app.webchat.test_consumer import (
    _conversation_id,
    customer,
    event_of,
    receive_until,
    route,
    start,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def desk_socket(user):
    """The agent's desktop socket from now on (the page's cursor)."""
    desk = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/")
    desk.scope["user"] = user
    connected, code = await desk.connect()
    assert connected, code
    cursor = await database_sync_to_async(page_cursor)()
    await desk.send_json_to({"type": "hello", "cursor": cursor})
    await receive_until(desk, lambda frame: frame["type"] == "ready")
    return desk


def desk_event(type_):
    return lambda frame: frame.get("type") == "event" and frame["event"]["type"] == type_


async def test_ring_answer_signal_reload_and_hang_up(chat_entry_point_a, agent_a):
    widget, welcome = await customer()
    session = await start(widget)
    await route(session["id"])
    await receive_until(widget, event_of("chat.agent"))
    conversation_id = await _conversation_id(session["id"])
    desk = await desk_socket(agent_a)

    call = await database_sync_to_async(services.web_call_start)(
        conversation_id=conversation_id, user=agent_a
    )
    ringing, _ = await receive_until(widget, event_of("voice.call"))
    assert ringing["event"]["payload"]["state"] == "ringing"
    assert ringing["event"]["payload"]["call_id"] == call.pk
    told, _ = await receive_until(desk, desk_event("voice.call"))
    assert told["event"]["payload"]["conversation_id"] == conversation_id

    # Someone else's call id: refused with a reason, nothing answered.
    await widget.send_json_to({"type": "call_answer", "call_id": call.pk + 1})
    error, _ = await receive_until(widget, lambda f: f["type"] == "error")
    assert error["code"] == "not_found"

    await widget.send_json_to({"type": "call_answer", "call_id": call.pk})
    connected, _ = await receive_until(widget, event_of("voice.call"))
    assert connected["event"]["payload"]["state"] == "connected"

    # Signaling: the agent's offer reaches the widget, the widget's answer the agent's desktop.
    offer = {"type": "offer", "sdp": "v=0 offer"}
    await database_sync_to_async(services.agent_signal)(
        call_id=call.pk, user=agent_a, kind="offer", peer="agentpeer1", data=offer
    )
    relayed, _ = await receive_until(widget, event_of("voice.signal"))
    assert relayed["event"]["payload"]["data"] == offer
    answer_sdp = {"type": "answer", "sdp": "v=0"}
    await widget.send_json_to(
        {"type": "call_signal", "call_id": call.pk, "kind": "answer", "peer": "agentpeer1",
         "data": answer_sdp}
    )  # fmt: skip
    answer, _ = await receive_until(desk, desk_event("voice.signal"))
    assert answer["event"]["payload"]["kind"] == "answer"
    assert answer["event"]["payload"]["peer"] == "agentpeer1"

    # The widget reloads: the call is in the session it gets back.
    await widget.disconnect()
    widget, welcome = await customer(token=welcome["token"])
    assert welcome["session"]["call"]["state"] == "connected"
    assert welcome["session"]["call"]["call_id"] == call.pk

    version = welcome["session"]["call"]["version"]

    await widget.send_json_to({"type": "call_hangup", "call_id": call.pk})
    # Events read again after the snapshot are older (a lower version): the widget keeps the
    # newest view. The hang-up is the next version.
    ended, replayed = await receive_until(
        widget,
        lambda f: event_of("voice.call")(f) and f["event"]["payload"]["version"] > version,
    )
    assert all(
        frame["event"]["payload"]["version"] <= version
        for frame in replayed
        if event_of("voice.call")(frame)
    )
    assert ended["event"]["payload"]["state"] == "ended"
    assert ended["event"]["payload"]["end_reason"] == "customer"
    await widget.disconnect()
    await desk.disconnect()
