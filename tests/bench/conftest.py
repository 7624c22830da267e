"""``make bench``: benchmarks of the project's hot paths against bare baselines served by the same
processes, on a production-like setup the suite starts itself (see ``stack.py``).

Environment:
- ``BENCH_SMOKE=1``: tiny data, one short round of each benchmark, no target judged (CI).
- ``BENCH_SCALE``: fraction of the full data set (60 agents' history: 10,000 contacts, 100,000
  conversations, 1,000,000 messages); default 1.
- ``BENCH_ROUNDS``: rounds per benchmark, project and bare alternating; default 5.
- ``BENCH_KEEP_DB=1``: keep ``bench_contactcenter`` after the run.

Results: a table on stdout at the end and JSON in ``bench-results/``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

import pytest

from .report import Report
from .stack import Stack

FULL = {"contacts": 10_000, "conversations": 100_000, "messages": 1_000_000}


@dataclass(frozen=True)
class BenchConfig:
    smoke: bool
    scale: dict
    rounds: int

    def size(self, full: int, smoke: int) -> int:
        """A count for this mode: ``full`` in a full run, ``smoke`` in smoke mode."""
        return smoke if self.smoke else full

    def judge(self, met: bool) -> bool | None:
        """Whether a target is met; smoke mode judges nothing (its figures are not timings)."""
        return None if self.smoke else met


def _config() -> BenchConfig:
    smoke = os.environ.get("BENCH_SMOKE", "") == "1"
    if smoke:
        scale = {"agents": 12, "contacts": 50, "conversations": 200, "messages": 2_000}
        return BenchConfig(smoke=True, scale=scale, rounds=1)
    fraction = float(os.environ.get("BENCH_SCALE", "1"))
    scale = {"agents": 200, **{k: max(60, int(v * fraction)) for k, v in FULL.items()}}
    return BenchConfig(smoke=False, scale=scale, rounds=int(os.environ.get("BENCH_ROUNDS", "5")))


@pytest.fixture(scope="session")
def config() -> BenchConfig:
    return _config()


@pytest.fixture(scope="session")
def report(config):
    built = Report(mode="smoke" if config.smoke else "full", scale=config.scale)
    yield built
    print("\n\n" + built.table(), flush=True)
    print(f"\n[bench] results written to {built.write()}", flush=True)


@pytest.fixture(scope="session")
def stack(config, report, tmp_path_factory):
    built = Stack(log_dir=tmp_path_factory.mktemp("bench-logs"), scale=config.scale)
    try:
        built.start()
        report.setup = {
            **{k: round(v, 1) for k, v in built.timings.items()},
            "layout": "gunicorn (4 sync workers) for HTTP, uvicorn for /ws/, Celery workers "
            "realtime (prefork 2) and outbound,maintenance (prefork 4), no beat",
            "postgresql": built.sql("show server_version")[0][0],
            "logs": str(built.log_dir),
        }
        print(f"\n[bench] stack up: {report.setup}", flush=True)
        yield built
    finally:
        built.stop()


@pytest.fixture(autouse=True)
def quiet(stack):
    """Each benchmark starts on a quiet stack (nothing queued, nothing routing)."""
    stack.quiesce()


@pytest.fixture
def csrf_token() -> str:
    return secrets.token_hex(16)


def agent_cookies(stack: Stack, user_id: int, csrf: str = "") -> dict[str, str]:
    cookies = {"sessionid": stack.seed["sessions"][str(user_id)]}
    if csrf:
        cookies["csrftoken"] = csrf
    return cookies
