"""Inbound SMS ingest: a signed Twilio webhook from a new contact, against a trivial view served by
the same gunicorn, at concurrency 8 and 32 (closed loop, throughput and CPU per request)."""

from __future__ import annotations

import itertools
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from .load import LoadResult, Request, closed_loop, tree_cpu_seconds
from .report import Row, median, percentile
from .stack import TWILIO_TOKEN

_phones = itertools.count(1)


def new_contact_requests(stack, count: int) -> list[Request]:
    """Webhooks of ``count`` customers never seen before, signed ahead of the timed run."""
    url = f"{stack.web.url}/webhooks/twilio/sms/"
    validator = RequestValidator(TWILIO_TOKEN)
    requests = []
    for _ in range(count):
        n = next(_phones)
        params = {
            "MessageSid": f"SM{stack.key_prefix}{n:024d}",
            "AccountSid": "AC" + "b" * 32,
            "From": f"+1303{2_000_000 + n:07d}",
            "To": stack.seed["sms_number"],
            "Body": f"Hello, this is new customer {n}",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, params),
        }
        requests.append(Request(url, urlencode(params).encode(), headers))
    return requests


def trivial_requests(stack, count: int) -> list[Request]:
    body = urlencode({"MessageSid": "SMx", "From": "+13030000000", "Body": "Hello"}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return [Request(f"{stack.web.url}/bench/trivial/", body, headers) for _ in range(count)]


def stored_inbound(stack) -> int:
    return stack.sql(
        "select count(*) from conversations_message where provider_id like %s",
        (f"SM{stack.key_prefix}%",),
    )[0][0]


def measured(stack, requests: list[Request], concurrency: int) -> tuple[LoadResult, float]:
    before = tree_cpu_seconds(stack.web.pid)
    result = closed_loop(requests, concurrency)
    return result, (tree_cpu_seconds(stack.web.pid) - before) * 1000 / len(requests)


@pytest.mark.parametrize("concurrency", [8, 32])
def test_inbound_sms_ingest(stack, config, report, concurrency):
    count = config.size(200, 16)
    stored_before = stored_inbound(stack)
    project: list[tuple[LoadResult, float]] = []
    bare: list[tuple[LoadResult, float]] = []
    for _ in range(config.rounds):
        bare.append(measured(stack, trivial_requests(stack, count), concurrency))
        project.append(measured(stack, new_contact_requests(stack, count), concurrency))

    name = f"ingest, new contact, c={concurrency}"
    rate = median([r.throughput for r, _ in project])
    bare_rate = median([r.throughput for r, _ in bare])
    report.add(
        Row(
            name,
            "throughput",
            "req/s",
            rate,
            bare_rate,
            "≥ 30% of bare",
            config.judge(rate >= 0.3 * bare_rate),
        )
    )
    report.add(
        Row(
            name,
            "server CPU per request",
            "ms",
            median([c for _, c in project]),
            median([c for _, c in bare]),
            "-",
            None,
        )
    )
    latencies = [ms for r, _ in project for ms in r.latencies_ms]
    bare_latencies = [ms for r, _ in bare for ms in r.latencies_ms]
    for q in (50, 99):
        report.add(
            Row(
                name,
                f"latency p{q} (closed loop)",
                "ms",
                percentile(latencies, q),
                percentile(bare_latencies, q),
                "-",
                None,
            )
        )
    errors = sum(r.errors for r, _ in project)
    report.add(
        Row(
            name,
            "5xx or no answer",
            "requests",
            errors,
            sum(r.errors for r, _ in bare),
            "0",
            errors == 0 if concurrency >= 32 else config.judge(errors == 0),
        )
    )
    answered = sum(1 for r, _ in project for s in r.samples if s.status == 200)
    assert stored_inbound(stack) - stored_before == answered, "an answered webhook was not stored"
    assert answered + errors == len(project) * count, "webhooks refused (4xx): a harness error"
    if concurrency >= 32:
        assert errors == 0, f"{errors} webhooks answered 5xx or not at all at concurrency 32"
