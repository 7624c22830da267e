"""Desktop pages with the seeded database, one request at a time: server time (inside Django,
``X-Bench-Ms``) and SQL statements per request, against a bare template view with the same
session and middleware."""

from __future__ import annotations

import pytest

from .conftest import agent_cookies
from .load import LoadResult, Request, closed_loop
from .report import Row, median, percentile

TARGET_MS = 100.0


def pages(stack) -> dict[str, str]:
    return {
        "desktop /": "/",
        "Active Conversations list": "/conversations/fragment/list/",
        "one list entry (a new message)": (
            "/conversations/fragment/list/?conversation="
            f"{stack.seed['open_conversations'][str(stack.seed['user_ids'][0])][0]}"
        ),
        "conversation of 2,000 messages": f"/conversations/{stack.seed['long_id']}/",
        "contacts search": "/contacts/?q=Contact+4242",
        "Activities of a contact": "/contacts/2/",
    }


def fetch(stack, path: str, user_id: int, count: int) -> LoadResult:
    requests = [Request(f"{stack.web.url}{path}", method="GET") for _ in range(count)]
    result = closed_loop(requests, 1, cookies=agent_cookies(stack, user_id))
    statuses = {s.status for s in result.samples}
    assert statuses == {200}, f"{path}: answered {statuses}"
    return result


def server_ms(results: list[LoadResult]) -> list[float]:
    return [s.server_ms for r in results for s in r.samples if s.server_ms is not None]


def queries(results: list[LoadResult]) -> int:
    return int(median([s.queries for r in results for s in r.samples if s.queries is not None]))


@pytest.mark.parametrize(
    "page",
    [
        "desktop /",
        "Active Conversations list",
        "one list entry (a new message)",
        "conversation of 2,000 messages",
        "contacts search",
        "Activities of a contact",
    ],
)
def test_page(stack, config, report, page):
    path = pages(stack)[page]
    agent = stack.seed["user_ids"][0]  # three open conversations, one of 2,000 messages
    count = config.size(40, 3)
    project, bare = [], []
    fetch(stack, path, agent, 2)  # warm: templates compiled, pool connections opened
    for _ in range(config.rounds):
        bare.append(fetch(stack, "/bench/template/", agent, count))
        project.append(fetch(stack, path, agent, count))
    times, bare_times = server_ms(project), server_ms(bare)
    p95 = percentile(times, 95)
    report.add(
        Row(
            page,
            "server time p50",
            "ms",
            percentile(times, 50),
            percentile(bare_times, 50),
            "-",
            None,
        )
    )
    report.add(
        Row(
            page,
            "server time p95",
            "ms",
            p95,
            percentile(bare_times, 95),
            f"≤ {TARGET_MS:.0f} ms",
            config.judge(p95 <= TARGET_MS),
        )
    )
    report.add(Row(page, "SQL statements", "queries", queries(project), queries(bare), "-", None))


def test_desktop_queries_constant_in_open_conversations(stack, config, report):
    with_work = stack.seed["user_ids"][0]
    with_less = stack.seed["user_ids"][1]  # one open conversation
    busy = queries([fetch(stack, "/", with_work, 2)])
    less = queries([fetch(stack, "/", with_less, 2)])
    report.add(
        Row(
            "desktop /",
            "SQL statements, 3 open (bare column: 1 open)",
            "queries",
            busy,
            less,
            "constant",
            busy == less,
        )
    )
