"""Inbound -> event on the agents' sockets: N agents connected to ``/ws/agent/`` on uvicorn, new
customers' SMS posted open-loop at a fixed rate to the webhook (gunicorn); latency from the POST to
the ``queue.changed`` event on each socket. Bare: as many sockets on a consumer that joins one
group, and a view doing one ``group_send`` per POST, same servers, same rate."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

from .conftest import agent_cookies
from .load import Request, open_loop_async
from .report import Row, percentile
from .sockets import fleet
from .test_ingest import new_contact_requests


def latest_event_id(stack) -> int:
    return stack.sql("select coalesce(max(id), 0) from contactcenter_event")[0][0]


async def settle(sockets, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while sum(len(s.received) for s in sockets) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def queue_events(socket, since: float) -> dict[int, float]:
    """First arrival time of each interaction's ``queue.changed`` event after ``since``."""
    first: dict[int, float] = {}
    for arrived, data in socket.received:
        event = data.get("event") or {}
        if arrived >= since and event.get("type") == "queue.changed":
            first.setdefault(event["payload"]["interaction_id"], arrived)
    return first


def agent_client(stack, user_id: int) -> tuple[str, dict, bool]:
    """A desktop's socket of ``user_id`` for :func:`fleet`: session cookie, same origin."""
    cookie = "; ".join(f"{k}={v}" for k, v in agent_cookies(stack, user_id).items())
    return str(user_id), {"Origin": stack.ws.url, "Cookie": cookie}, True


async def run(stack, config, agents: list[int]):
    origin = stack.ws.url
    ws_base = origin.replace("http://", "ws://")
    cursor = latest_event_id(stack)
    agent_clients = [agent_client(stack, user_id) for user_id in agents]
    bare_clients = [(f"bare{n}", {"Origin": origin}, False) for n in range(len(agents))]
    count = config.size(100, 5)
    rate = config.size(20, 10)
    latencies, bare_latencies, missed, bare_missed, errors = [], [], 0, 0, 0
    async with (
        fleet(
            f"{ws_base}/ws/agent/", agent_clients, cursor=cursor, retry=True, timeout=120
        ) as agent_sockets,
        fleet(f"{ws_base}/ws/bench/bare/", bare_clients, retry=True, timeout=120) as bare_sockets,
    ):
        for round_number in range(config.rounds):
            tags = [f"r{round_number}-{n}" for n in range(count)]
            requests = [
                Request(
                    f"{stack.web.url}/bench/ring/",
                    urlencode({"tag": tag}).encode(),
                    {"Content-Type": "application/x-www-form-urlencoded"},
                )
                for tag in tags
            ]
            before = [len(s.received) for s in bare_sockets]
            result = await open_loop_async(requests, rate)
            sent = {tag: sample.sent for tag, sample in zip(tags, result.samples, strict=True)}
            await settle(bare_sockets, sum(before) + count * len(bare_sockets), 15)
            for socket, skip in zip(bare_sockets, before, strict=True):
                got = {d["tag"]: t for t, d in socket.received[skip:] if d.get("tag") in sent}
                bare_missed += count - len(got)
                bare_latencies += [(t - sent[tag]) * 1000 for tag, t in got.items()]

            since = time.time()
            requests = new_contact_requests(stack, count)
            result = await open_loop_async(requests, rate)
            errors += result.errors
            phones = {r.data: s.sent for r, s in zip(requests, result.samples, strict=True)}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if all(len(queue_events(s, since)) >= count for s in agent_sockets):
                    break
                await asyncio.sleep(0.1)
            sent_at = sent_by_interaction(stack, phones)
            for socket in agent_sockets:
                got = {i: t for i, t in queue_events(socket, since).items() if i in sent_at}
                missed += count - len(got)
                latencies += [(t - sent_at[i]) * 1000 for i, t in got.items()]
        refused = sum(len(s.failures) for s in agent_sockets)
        bare_refused = sum(len(s.failures) for s in bare_sockets)
    return latencies, bare_latencies, missed, bare_missed, errors, refused, bare_refused


def sent_by_interaction(stack, phones: dict[bytes, float]) -> dict[int, float]:
    """Interaction id -> when its webhook was sent, matched on the customer's number."""
    by_phone = {}
    for body, sent in phones.items():
        fields = dict(pair.split("=", 1) for pair in body.decode().split("&"))
        by_phone["+" + fields["From"].removeprefix("%2B")] = sent
    rows = stack.sql(
        "select id, customer_address from conversations_interaction "
        "where customer_address = any(%s)",
        (list(by_phone),),
    )
    return {interaction_id: by_phone[phone] for interaction_id, phone in rows}


def test_inbound_to_event_on_agent_sockets(stack, config, report):
    agents = stack.seed["user_ids"][: config.size(200, 6)]
    latencies, bare_latencies, missed, bare_missed, errors, refused, bare_refused = asyncio.run(
        run(stack, config, agents)
    )
    name = f"inbound -> agent sockets, {len(agents)} agents"
    p99, bare_p99 = percentile(latencies, 99), percentile(bare_latencies, 99)
    report.add(
        Row(
            name,
            "latency p50",
            "ms",
            percentile(latencies, 50),
            percentile(bare_latencies, 50),
            "-",
            None,
        )
    )
    report.add(
        Row(
            name,
            "latency p99",
            "ms",
            p99,
            bare_p99,
            "≤ 3x bare",
            # A bare path that lost events saturated the machine: it is no floor to judge by.
            config.judge(p99 <= 3 * bare_p99) if bare_missed == 0 else None,
        )
    )
    report.add(Row(name, "events missed", "events", missed, bare_missed, "0", missed == 0))
    report.add(Row(name, "webhooks 5xx", "requests", errors, None, "0", errors == 0))
    report.add(
        Row(
            name,
            "socket connects failed (retried)",
            "attempts",
            refused,
            bare_refused,
            "0",
            refused == 0,
        )
    )
