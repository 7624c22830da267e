"""The production layout's premise: the trivial view served by gunicorn (sync workers, as in the
``Procfile``) against the same view served by the uvicorn process (ASGI), closed loop at
concurrency 8. The "bare" column is uvicorn here."""

from __future__ import annotations

from .load import Request, closed_loop
from .report import Row, median, percentile


def trivial(url: str, count: int) -> list[Request]:
    return [Request(f"{url}/bench/trivial/", b"x=1", {"Content-Type": "text/plain"})] * count


def test_trivial_view_gunicorn_against_uvicorn(stack, config, report):
    count = config.size(1000, 20)
    gunicorn, uvicorn = [], []
    for _ in range(config.rounds):
        uvicorn.append(closed_loop(trivial(stack.ws.url, count), 8))
        gunicorn.append(closed_loop(trivial(stack.web.url, count), 8))
    name = "trivial view, c=8: gunicorn (bare: uvicorn)"
    report.add(
        Row(
            name,
            "throughput",
            "req/s",
            median([r.throughput for r in gunicorn]),
            median([r.throughput for r in uvicorn]),
            "decides the layout",
            None,
        )
    )
    report.add(
        Row(
            name,
            "latency p99",
            "ms",
            percentile([ms for r in gunicorn for ms in r.latencies_ms], 99),
            percentile([ms for r in uvicorn for ms in r.latencies_ms], 99),
            "-",
            None,
        )
    )
    assert sum(r.errors for r in gunicorn + uvicorn) == 0
