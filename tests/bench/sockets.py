"""Many websocket clients on one event loop, as the desktop's ``realtime.js`` speaks to
``/ws/agent/`` (hello with its cursor and the ids it has past it, pings, reconnect with jittered
backoff), or to the bare consumer; each message is kept with the time it arrived."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import connect

PING_SECONDS = 10.0


@dataclass
class Socket:
    name: str
    cursor: int = 0
    received: list[tuple[float, dict]] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    connections: int = 0
    failures: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, error)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def hello(self) -> dict:
        seen = sorted({i for i in self.event_ids if i > self.cursor})
        return {"type": "hello", "cursor": self.cursor, "seen": seen}

    def keep(self, data: dict) -> None:
        self.received.append((time.time(), data))
        if data.get("type") == "event":
            self.event_ids.append(data["event"]["id"])
        cursor = data.get("cursor")
        if isinstance(cursor, int) and cursor > self.cursor:
            self.cursor = cursor
        if data.get("type") == "ready":
            self.ready.set()


async def _session(socket: Socket, url: str, headers: dict, speaks_hello: bool) -> None:
    async with connect(url, additional_headers=headers, open_timeout=30) as connection:
        socket.connections += 1
        if speaks_hello:
            await connection.send(json.dumps(socket.hello()))
        else:
            socket.ready.set()
        next_ping = time.monotonic() + PING_SECONDS
        while True:
            try:
                raw = await asyncio.wait_for(connection.recv(), timeout=1.0)
            except TimeoutError:
                raw = None
            if raw is not None:
                socket.keep(json.loads(raw))
            if speaks_hello and time.monotonic() >= next_ping:
                await connection.send(json.dumps({"type": "ping"}))
                next_ping = time.monotonic() + PING_SECONDS


async def _run(socket: Socket, url: str, headers: dict, speaks_hello: bool, retry: bool) -> None:
    while True:
        try:
            await _session(socket, url, headers, speaks_hello)
        except Exception as exc:
            socket.failures.append((time.monotonic(), f"{type(exc).__name__}: {exc}"))
            if not retry:
                raise
        socket.ready.clear()
        await asyncio.sleep(random.uniform(0.2, 1.0))


@contextlib.asynccontextmanager
async def fleet(
    url: str,
    clients: list[tuple[str, dict, bool]],
    *,
    cursor: int = 0,
    retry: bool = False,
    timeout: float = 60,
):
    """Connect every ``(name, headers, speaks_hello)`` client to ``url``; yields the sockets once
    all are ready (``ready`` answered to the hello, or connected for a bare one)."""
    sockets = [Socket(name, cursor=cursor) for name, _, _ in clients]
    tasks = [
        asyncio.create_task(_run(socket, url, headers, hello, retry))
        for socket, (_, headers, hello) in zip(sockets, clients, strict=True)
    ]
    waiting = asyncio.ensure_future(asyncio.gather(*(s.ready.wait() for s in sockets)))
    try:
        await asyncio.wait([waiting, *tasks], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in tasks if t.done()]
        if failed:
            failed[0].result()
        if not all(s.ready.is_set() for s in sockets):
            raise AssertionError(
                f"{sum(s.ready.is_set() for s in sockets)}/{len(sockets)} sockets ready"
            )
        yield sockets
    finally:
        for task in [*tasks, waiting]:
            task.cancel()
        await asyncio.gather(*tasks, waiting, return_exceptions=True)
