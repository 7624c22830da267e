"""Load generators on loopback (aiohttp, one event loop): closed-loop at a fixed concurrency for
throughput, open-loop at a fixed rate where latency is measured. Both bounded in count and time.
Also the CPU time a process tree spent, from ``/proc``."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=30)


@dataclass(frozen=True)
class Request:
    url: str
    data: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"


@dataclass
class Sample:
    sent: float  # time.time() when sent (comparable with the servers' clocks)
    latency: float  # seconds
    status: int  # 0: no response (connection error or timeout)
    server_ms: float | None = None
    queries: int | None = None


@dataclass
class LoadResult:
    samples: list[Sample]
    wall: float

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.wall if self.wall else 0.0

    @property
    def errors(self) -> int:
        """Responses 5xx or none at all."""
        return sum(1 for s in self.samples if s.status >= 500 or s.status == 0)

    @property
    def latencies_ms(self) -> list[float]:
        return [s.latency * 1000 for s in self.samples if 0 < s.status < 500]


async def _one(session: aiohttp.ClientSession, request: Request) -> Sample:
    sent, start = time.time(), time.perf_counter()
    try:
        async with session.request(
            request.method, request.url, data=request.data or None, headers=request.headers
        ) as response:
            await response.read()
            server_ms = response.headers.get("X-Bench-Ms")
            queries = response.headers.get("X-Bench-Queries")
            return Sample(
                sent,
                time.perf_counter() - start,
                response.status,
                float(server_ms) if server_ms else None,
                int(queries) if queries else None,
            )
    except (aiohttp.ClientError, TimeoutError):
        return Sample(sent, time.perf_counter() - start, 0)


def _session(limit: int, cookies: dict[str, str] | None = None) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, force_close=True),
        timeout=TIMEOUT,
        cookies=cookies,
    )


def closed_loop(
    requests: list[Request], concurrency: int, cookies: dict[str, str] | None = None
) -> LoadResult:
    """``concurrency`` clients, each sending its next request when the last one answered."""

    async def run() -> LoadResult:
        queue = list(reversed(requests))
        samples: list[Sample] = []
        async with _session(concurrency, cookies) as session:

            async def client() -> None:
                while queue:
                    samples.append(await _one(session, queue.pop()))

            start = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(concurrency)))
            return LoadResult(samples, time.perf_counter() - start)

    return asyncio.run(run())


async def open_loop_async(requests: list[Request], rate: float) -> LoadResult:
    """One request every ``1/rate`` s whatever the answers (a burst: ``rate`` = inf)."""
    async with _session(0) as session:
        start = time.perf_counter()
        tasks = []
        for n, request in enumerate(requests):
            delay = start + n / rate - time.perf_counter() if rate != float("inf") else 0
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(session, request)))
        samples = await asyncio.gather(*tasks)
        return LoadResult(list(samples), time.perf_counter() - start)


def open_loop(requests: list[Request], rate: float) -> LoadResult:
    return asyncio.run(open_loop_async(requests, rate))


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live children (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo += [child for child, parent in parents.items() if parent == current]
    return total
