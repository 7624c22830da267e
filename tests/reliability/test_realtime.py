"""Live updates in production: idle sockets stay up, a burst reaches every socket exactly once and
in order per conversation, and two servers with two workers behave as one."""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

from contactcenter import realtime
from contactcenter.models import Event
from conversations.models import Interaction, Message
from conversations.selectors import agent_service_ids, is_supervisor
from tests.support.services import AgentHttp, AgentSocketClient
from tests.support.twilio_standin import signed_post

from .conftest import SMS_NUMBER, ready_agents


def socket_for(server, agent, cursor: int, *, ping_seconds: float = 5) -> AgentSocketClient:
    browser = AgentHttp(server.url, agent.username)
    ws_url = server.url.replace("http://", "ws://") + "/ws/agent/"
    return AgentSocketClient(
        ws_url,
        cookie=browser.cookie_header,
        origin=server.url,
        cursor=cursor,
        ping_seconds=ping_seconds,
    ).start()


def audiences_of(user) -> list[str]:
    """What the agent socket joins: the agent, supervisors if one, their services' queues."""
    audiences = [realtime.agent_audience(user.pk)]
    if is_supervisor(user):
        audiences.append(realtime.SUPERVISORS)
    audiences += [realtime.service_audience(pk) for pk in agent_service_ids(user=user)]
    return audiences


def post_inbound(url: str, token: str, *, sid: str, phone: str, body: str):
    return signed_post(
        f"{url}/webhooks/twilio/sms/",
        {"MessageSid": sid, "From": phone, "To": SMS_NUMBER, "Body": body},
        auth_token=token,
        timeout=60,
    )


def wait_until_quiet(seconds: float = 3.0, timeout: float = 90.0) -> None:
    """Until no event was appended for ``seconds`` (routing and its events are done)."""
    deadline = time.monotonic() + timeout
    last, since = realtime.latest_event_id(), time.monotonic()
    while time.monotonic() - since < seconds:
        if time.monotonic() > deadline:
            raise AssertionError("events kept coming")
        time.sleep(0.3)
        now = realtime.latest_event_id()
        if now != last:
            last, since = now, time.monotonic()


def assert_exactly_once_in_order(client: AgentSocketClient, user, after_id: int) -> int:
    expected = list(
        Event.objects.filter(audience__in=audiences_of(user), id__gt=after_id)
        .order_by("id")
        .values_list("id", flat=True)
    )
    received = client.received()
    ids = [event["id"] for event in received]
    assert client.duplicates == [], f"{user}: events sent twice {client.duplicates[:10]}"
    assert sorted(ids) == expected, (
        f"{user}: missing {sorted(set(expected) - set(ids))[:10]}, "
        f"extra {sorted(set(ids) - set(expected))[:10]}"
    )
    per_conversation = defaultdict(list)
    for event in received:
        conversation_id = event["payload"].get("conversation_id")
        if conversation_id:
            per_conversation[conversation_id].append(event["id"])
    for conversation_id, sequence in per_conversation.items():
        assert sequence == sorted(sequence), f"{user}: conversation {conversation_id} out of order"
    return len(ids)


def test_idle_sockets_stay_connected_for_a_minute_without_errors(stack, sms_service):
    agents = ready_agents(sms_service, 5)
    stack.worker()
    server = stack.server()
    start = realtime.latest_event_id()
    # No heartbeat from these clients: only the server's own receive loop runs for 60 s.
    clients = [socket_for(server, agent, start, ping_seconds=3600) for agent in agents]
    time.sleep(61)

    desktop = AgentHttp(server.url, agents[0].username)
    assert desktop.post("/agent/state/", {"state": "not_ready"}).status_code in (200, 302)
    deadline = time.monotonic() + 10
    while not clients[0].received() and time.monotonic() < deadline:
        time.sleep(0.1)
    for client in clients:
        client.stop()

    assert [client.connections for client in clients] == [1] * 5, [c.errors for c in clients]
    assert clients[0].received(), "the idle socket still streams events"
    log = server.log_text()
    assert "Exception in ASGI application" not in log
    assert "Traceback" not in log


def test_a_burst_of_500_inbound_is_stored_once_and_reaches_every_socket_once_in_order(
    stack, twilio, sms_service, supervisor
):
    agents = ready_agents(sms_service, 10)
    stack.worker(queues="realtime")
    stack.worker(queues="outbound,maintenance")
    server = stack.server()
    start = realtime.latest_event_id()
    watchers = [supervisor, *agents]
    clients = [socket_for(server, user, start) for user in watchers]
    token = stack.env["TWILIO_AUTH_TOKEN"]
    jobs = [
        {"sid": f"SM{n:032x}", "phone": f"+1415666{n % 50:04d}", "body": f"message {n}"}
        for n in range(500)
    ]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda job: post_inbound(server.url, token, **job), jobs))

    assert [r.status for r in results if r.status != 200] == []
    wait_until_quiet()
    for client in clients:
        client.wait_for_pongs(2, timeout=30)  # two heartbeats: anything the doorbell missed
    for client in clients:
        client.stop()

    inbound = Message.objects.filter(direction=Message.Direction.INBOUND)
    assert inbound.count() == 500
    assert inbound.values("provider_id").distinct().count() == 500
    for client, user in zip(clients, watchers, strict=True):
        assert client.connections == 1, client.errors
        assert assert_exactly_once_in_order(client, user, start) > 0


def test_two_servers_and_two_workers_act_as_one(stack, twilio, sms_service):
    """Inbound on server A, agents' sockets on server B, two workers routing at once: every
    agent gets each of their events once, and nobody is ever over capacity."""
    agents = ready_agents(sms_service, 4)
    stack.worker()
    stack.worker()
    server_a = stack.server()
    server_b = stack.server()
    start = realtime.latest_event_id()
    clients = [socket_for(server_b, agent, start) for agent in agents]
    token = stack.env["TWILIO_AUTH_TOKEN"]
    jobs = [
        {"sid": f"SM{n:032x}", "phone": f"+1415777{n:04d}", "body": f"hello {n}"} for n in range(24)
    ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda job: post_inbound(server_a.url, token, **job), jobs))

    assert {r.status for r in results} == {200}
    wait_until_quiet()
    for client in clients:
        client.wait_for_pongs(1, timeout=30)
        client.stop()
    for client, agent in zip(clients, agents, strict=True):
        assert client.connections == 1, client.errors
        offers = [e for e in client.received() if e["type"] == "offer.created"]
        assert offers, f"{agent} got no offer"
        assert_exactly_once_in_order(client, agent, start)
        live = Interaction.objects.filter(
            agent=agent, state__in=[Interaction.State.OFFERED, Interaction.State.ACTIVE]
        ).count()
        assert live <= 4, f"{agent} holds {live} SMS at 25% each"
    routed = Interaction.objects.filter(state=Interaction.State.OFFERED).count()
    assert routed == 16  # 4 agents x 4 SMS; the other 8 wait in the queue
