"""Reconnect storm: N desktop sockets connected, the websocket server restarted (stopped, new
customers' SMS arriving meanwhile, started again on the same port); every socket reconnects with
jittered backoff and says hello with its cursor. Measured: time from the server being up again
until every socket has every event of its audiences; events missed and sent twice (must be 0)."""

from __future__ import annotations

import asyncio
import time

from .load import open_loop_async
from .report import Row
from .sockets import fleet
from .test_ingest import new_contact_requests
from .test_realtime import agent_client, latest_event_id

ASGI_ERROR = "Exception in ASGI application"


def expected_events(stack, user_id: int, after: int) -> set[int]:
    audiences = [f"agent.{user_id}", f"service.{stack.seed['service_id']}"]
    rows = stack.sql(
        "select id from contactcenter_event where audience = any(%s) and id > %s",
        (audiences, after),
    )
    return {row[0] for row in rows}


async def storm(stack, config, agents: list[int]) -> dict:
    cursor = latest_event_id(stack)
    clients = [agent_client(stack, agents[n % len(agents)]) for n in range(config.size(300, 6))]
    ws_url = stack.ws.url.replace("http://", "ws://") + "/ws/agent/"
    async with fleet(ws_url, clients, cursor=cursor, retry=True, timeout=120) as sockets:
        stopped = time.monotonic()
        stack.ws.stop()
        result = await open_loop_async(new_contact_requests(stack, config.size(50, 5)), 25)
        stack.ws.start()
        stack.ws.wait_ready()
        up = time.monotonic()
        expected = {s.name: expected_events(stack, int(s.name), cursor) for s in sockets}
        deadline = up + 120
        while time.monotonic() < deadline:
            if all(expected[s.name] <= set(s.event_ids) for s in sockets):
                break
            await asyncio.sleep(0.05)
        caught_up = time.monotonic()
        missed = sum(len(expected[s.name] - set(s.event_ids)) for s in sockets)
        duplicated = sum(len(s.event_ids) - len(set(s.event_ids)) for s in sockets)
        reconnected = sum(1 for s in sockets if s.connections >= 2)
        # Refused or closed while the server was down is expected; a handshake it answered with
        # an error is not.
        refused = sum(1 for s in sockets for _, error in s.failures if "InvalidStatus" in error)
        kinds = sorted({e.split(":")[0] for s in sockets for _, e in s.failures})
    return {
        "sockets": len(sockets),
        "reconnected": reconnected,
        "since_up_s": caught_up - up,
        "since_stop_s": caught_up - stopped,
        "missed": missed,
        "duplicated": duplicated,
        "failed_attempts": refused,
        "failure_kinds": kinds,
        "errors": result.errors,
        "events_per_socket": max(len(e) for e in expected.values()),
    }


def test_reconnect_storm_after_websocket_server_restart(stack, config, report):
    agents = stack.seed["user_ids"]
    logged_before = stack.ws.log_text().count(ASGI_ERROR)
    figures = asyncio.run(storm(stack, config, agents))
    figures["server_errors_logged"] = stack.ws.log_text().count(ASGI_ERROR) - logged_before
    name = f"reconnect storm, {figures['sockets']} sockets"
    report.add(
        Row(
            name, "server up -> all caught up", "s", figures["since_up_s"], None, "-", None, figures
        )
    )
    report.add(
        Row(
            name,
            "sockets reconnected",
            "sockets",
            figures["reconnected"],
            None,
            str(figures["sockets"]),
            figures["reconnected"] == figures["sockets"],
        )
    )
    report.add(
        Row(name, "events missed", "events", figures["missed"], None, "0", figures["missed"] == 0)
    )
    report.add(
        Row(
            name,
            "events sent twice",
            "events",
            figures["duplicated"],
            None,
            "0",
            figures["duplicated"] == 0,
        )
    )
    report.add(
        Row(
            name,
            "handshakes answered 5xx (retried)",
            "attempts",
            figures["failed_attempts"],
            None,
            "0",
            figures["failed_attempts"] == 0,
        )
    )
    report.add(
        Row(
            name,
            "errors logged by uvicorn",
            "errors",
            figures["server_errors_logged"],
            None,
            "0",
            figures["server_errors_logged"] == 0,
        )
    )
    assert figures["missed"] == 0 and figures["duplicated"] == 0, figures
