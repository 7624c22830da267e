"""Many websocket clients on one event loop, as the desktop's ``realtime.js`` speaks to
``/ws/agent/`` (hello with a cursor, pings), or to the bare consumer; each message is kept with
the time it arrived."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect

PING_SECONDS = 10.0


@dataclass
class Socket:
    name: str
    received: list[tuple[float, dict]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    connection: ClientConnection | None = None


async def _pump(socket: Socket, url: str, headers: dict, hello: dict | None) -> None:
    async with connect(url, additional_headers=headers, open_timeout=30) as connection:
        socket.connection = connection
        if hello is None:
            socket.ready.set()
        else:
            await connection.send(json.dumps(hello))
        next_ping = time.monotonic() + PING_SECONDS
        while True:
            try:
                raw = await asyncio.wait_for(connection.recv(), timeout=1.0)
            except TimeoutError:
                raw = None
            if raw is not None:
                data = json.loads(raw)
                socket.received.append((time.time(), data))
                if data.get("type") == "ready":
                    socket.ready.set()
            if hello is not None and time.monotonic() >= next_ping:
                await connection.send(json.dumps({"type": "ping"}))
                next_ping = time.monotonic() + PING_SECONDS


@contextlib.asynccontextmanager
async def fleet(url: str, clients: list[tuple[str, dict, dict | None]], timeout: float = 60):
    """Connect every ``(name, headers, hello)`` client to ``url``; yields the sockets once all
    are ready (``ready`` answered to the hello, or connected when there is no hello)."""
    sockets = [Socket(name) for name, _, _ in clients]
    tasks = [
        asyncio.create_task(_pump(socket, url, headers, hello))
        for socket, (_, headers, hello) in zip(sockets, clients, strict=True)
    ]
    try:
        waiting = asyncio.ensure_future(asyncio.gather(*(s.ready.wait() for s in sockets)))
        tasks.append(waiting)
        await asyncio.wait(
            [waiting, *tasks],
            timeout=timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        failed = [t for t in tasks if t.done() and t is not waiting]
        if failed:
            failed[0].result()
        if not all(s.ready.is_set() for s in sockets):
            raise AssertionError(
                f"{sum(s.ready.is_set() for s in sockets)}/{len(sockets)} sockets ready"
            )
        yield sockets
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
