"""Inbound -> offer: bursts of new customers' SMS (all sent at once) against Ready agents, and a
steady open-loop rate; latency from the POST to the offer row (``Offer.created_at``, same
machine's clock). Double offers (two live offers of one interaction) and agents over capacity
(more SMS offered or active than their capacity allows) are counted: they must be 0."""

from __future__ import annotations

import time

from .load import open_loop
from .report import Row, percentile
from .test_ingest import new_contact_requests
from .test_realtime import sent_by_interaction

TARGET_P99_MS = 250.0


def prepare(stack, ready: list[int]) -> None:
    """Every round alike: nothing queued or offered, the workers idle, only ``ready`` Ready."""
    stack.quiesce()
    stack.sql(
        "update conversations_agentprofile set state = case when user_id = any(%s) "
        "then 'ready' else 'not_ready' end, last_routed_at = null, ready_since = now(), "
        "last_seen_at = now()",
        (ready,),
    )


def offer_latencies(stack, sent_at: dict[int, float], timeout: float) -> dict[int, float]:
    """Interaction id -> ms from its webhook to its first offer (waits up to ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = stack.sql(
            "select interaction_id, extract(epoch from min(created_at)) from conversations_offer "
            "where interaction_id = any(%s) group by interaction_id",
            (list(sent_at),),
        )
        if len(rows) == len(sent_at) or time.monotonic() > deadline:
            return {i: (float(t) - sent_at[i]) * 1000 for i, t in rows}
        time.sleep(0.05)


def violations(stack) -> tuple[int, int]:
    double = stack.sql(
        "select count(*) from (select interaction_id from conversations_offer "
        "where state = 'offered' and not is_conference group by interaction_id "
        "having count(*) > 1) d"
    )[0][0]
    over = stack.sql(
        "select count(*) from (select agent_id from conversations_interaction "
        "where state in ('offered', 'active') and channel = 'sms' and agent_id is not null "
        "group by agent_id having count(*) > 4) o"
    )[0][0]
    return double, over


def run(
    stack, config, *, ready: list[int], count: int, rate: float
) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    unoffered = errors = 0
    for _ in range(config.rounds):
        prepare(stack, ready)
        requests = new_contact_requests(stack, count)
        result = open_loop(requests, rate)
        errors += result.errors
        phones = {r.data: s.sent for r, s in zip(requests, result.samples, strict=True)}
        sent_at = sent_by_interaction(stack, phones)
        found = offer_latencies(stack, sent_at, 30)
        unoffered += count - len(found)
        latencies += list(found.values())
    return latencies, unoffered, errors


def report_rows(report, config, stack, name: str, latencies, unoffered, errors) -> None:
    p99 = percentile(latencies, 99)
    double, over = violations(stack)
    report.add(Row(name, "time to offer p50", "ms", percentile(latencies, 50), None, "-", None))
    report.add(
        Row(
            name,
            "time to offer p99",
            "ms",
            p99,
            None,
            f"≤ {TARGET_P99_MS:.0f} ms",
            config.judge(p99 <= TARGET_P99_MS),
        )
    )
    report.add(
        Row(name, "never offered (30 s)", "interactions", unoffered, None, "0", unoffered == 0)
    )
    report.add(
        Row(
            name,
            "double offers / agents over capacity",
            "count",
            double + over,
            None,
            "0",
            double + over == 0,
            {"double": double, "over_capacity": over},
        )
    )
    report.add(Row(name, "webhooks 5xx", "requests", errors, None, "0", errors == 0))
    assert double + over == 0, f"{double} double offers, {over} agents over capacity"


def test_burst_of_new_contacts_to_ready_agents(stack, config, report):
    users = stack.seed["user_ids"]
    ready = users[-config.size(100, 6) :]
    count = config.size(50, 5)
    latencies, unoffered, errors = run(stack, config, ready=ready, count=count, rate=float("inf"))
    name = f"burst of {count} -> offer, {len(ready)} Ready"
    report_rows(report, config, stack, name, latencies, unoffered, errors)


def test_steady_inbound_to_offer(stack, config, report):
    users = stack.seed["user_ids"]
    ready = users[-config.size(50, 6) :]
    rate = config.size(20, 10)
    latencies, unoffered, errors = run(
        stack, config, ready=ready, count=config.size(40, 5), rate=rate
    )
    name = f"inbound {rate}/s -> offer, {len(ready)} Ready"
    report_rows(report, config, stack, name, latencies, unoffered, errors)
