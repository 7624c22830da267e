"""Outbound replies through the worker: agents' replies (HTTP, then the outbound worker sends each
to the Twilio stand-in) against a no-op Celery task enqueued by a bare view, same queue, same
worker. Rate = replies / time from the first request until the provider's id of the last one is
recorded (the send is done; status callbacks are not part of it)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from urllib.parse import urlencode

from .conftest import agent_cookies
from .load import LoadResult, Request, closed_loop
from .report import Row, median, percentile

_runs = itertools.count(1)


def wait_for(done: Callable[[], int], count: int, timeout: float) -> float:
    """Seconds until ``done()`` reaches ``count`` (polled every 10 ms); fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while done() < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {done()} of {count} done after {timeout}s")
        time.sleep(0.01)
    return time.monotonic()


def replies(stack, csrf: str, count: int, run: str) -> LoadResult:
    agent = stack.seed["user_ids"][0]
    conversations = stack.seed["open_conversations"][str(agent)]
    headers = {
        "X-CSRFToken": csrf,
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    requests = [
        Request(
            f"{stack.web.url}/conversations/{conversations[n % len(conversations)]}/reply/",
            urlencode({"body": f"Reply {run} {n}"}).encode(),
            headers,
        )
        for n in range(count)
    ]
    return closed_loop(requests, 4, cookies=agent_cookies(stack, agent, csrf))


def noops(stack, count: int, run: str) -> LoadResult:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body = urlencode({"run": run}).encode()
    return closed_loop([Request(f"{stack.web.url}/bench/noop/", body, headers)] * count, 4)


def replies_done(stack, run: str) -> int:
    return stack.sql(
        "select count(*) from conversations_message where body like %s "
        "and (provider_id <> '' or status = 'failed')",
        (f"Reply {run} %",),
    )[0][0]


def test_outbound_replies_through_the_worker(stack, config, report, csrf_token):
    import redis

    client = redis.Redis.from_url(stack.redis_url)
    count = config.size(100, 5)
    rates, bare_rates, enqueue, bare_enqueue = [], [], [], []
    for _ in range(config.rounds):
        run = f"{stack.key_prefix}-{next(_runs)}"
        start = time.monotonic()
        result = noops(stack, count, run)
        end = wait_for(lambda run=run: int(client.get(f"bench:noop:{run}") or 0), count, 120)
        bare_rates.append(count / (end - start))
        bare_enqueue += result.latencies_ms

        start = time.monotonic()
        result = replies(stack, csrf_token, count, run)
        assert {s.status for s in result.samples} == {201}, "a reply was refused"
        end = wait_for(lambda run=run: replies_done(stack, run), count, 300)
        rates.append(count / (end - start))
        enqueue += result.latencies_ms
    failed = stack.sql(
        "select count(*) from conversations_message "
        "where body like 'Reply %%' and status = 'failed'"
    )[0][0]
    rate, bare_rate = median(rates), median(bare_rates)
    name = "outbound replies"
    report.add(
        Row(
            name,
            "sent per second",
            "msg/s",
            rate,
            bare_rate,
            "≥ 50% of no-op rate",
            config.judge(rate >= 0.5 * bare_rate),
        )
    )
    report.add(
        Row(
            name,
            "request (enqueue) p50",
            "ms",
            percentile(enqueue, 50),
            percentile(bare_enqueue, 50),
            "-",
            None,
        )
    )
    report.add(Row(name, "failed sends", "messages", failed, None, "0", failed == 0))
    client.close()


def post(url: str, data: dict) -> str:
    from urllib.request import urlopen

    with urlopen(url, urlencode(data).encode(), timeout=60) as response:
        return response.read().decode()


def queue_backlog(stack, count: int) -> None:
    """``count`` maintenance jobs on the outbound worker's other queue, in chunks of 5,000."""
    queued = 0
    while queued < count:
        chunk = min(5000, count - queued)
        queued += int(post(f"{stack.web.url}/bench/backlog/", {"count": chunk}))


def test_outbound_replies_with_20000_maintenance_jobs_queued(stack, config, report, csrf_token):
    """The outbound worker also serves the ``maintenance`` queue (Procfile): with a backlog of
    close-out jobs there (a worker back from an outage), replies must still go out at their rate.
    Each round queues the backlog, measures the replies, then drops what is left of it."""
    import redis

    client = redis.Redis.from_url(stack.redis_url)
    count = config.size(100, 5)
    backlog = config.size(20000, 100)
    rates, bare_rates, left = [], [], []
    for _ in range(config.rounds):
        run = f"{stack.key_prefix}-b{next(_runs)}"
        start = time.monotonic()
        noops(stack, count, run)
        end = wait_for(lambda run=run: int(client.get(f"bench:noop:{run}") or 0), count, 120)
        bare_rates.append(count / (end - start))

        queue_backlog(stack, backlog)
        start = time.monotonic()
        result = replies(stack, csrf_token, count, run)
        assert {s.status for s in result.samples} == {201}, "a reply was refused"
        end = wait_for(lambda run=run: replies_done(stack, run), count, 300)
        rates.append(count / (end - start))
        left.append(int(post(f"{stack.web.url}/bench/backlog/purge/", {})))
    rate, bare_rate = median(rates), median(bare_rates)
    name = f"outbound replies, {backlog:,} maintenance jobs queued"
    report.add(
        Row(
            name,
            "sent per second",
            "msg/s",
            rate,
            bare_rate,
            "≥ 50% of no-op rate",
            config.judge(rate >= 0.5 * bare_rate),
        )
    )
    # How much of the backlog was still queued when the replies were all sent: the replies did
    # not wait for it to drain.
    report.add(Row(name, "backlog left after the replies", "jobs", median(left), None, "-", None))
    client.close()
