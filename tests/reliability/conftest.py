"""Fault and load tests of the production configuration (issue: keep the promises in production).

They need PostgreSQL and Redis (under CI: required, the tests fail without them) and run real
processes: uvicorn servers, Celery workers and beat, a Twilio stand-in, and — for the tests that
restart them — a Redis server and a PostgreSQL cluster of their own on new ports. Processes are
started, killed and restarted by pid, loopback only, bounded in count and time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import TWILIO_TEST_SID, TWILIO_TEST_TOKEN
from tests.factories import AgentProfileFactory, EntryPointFactory, ServiceFactory
from tests.support.fixtures import (  # noqa: F401
    attach_log,
    delete_redis_keys,
    live_services,
    new_key_prefix,
    pytest_runtest_makereport,
    require,
    server_environment,
)
from tests.support.live_server import AsgiServer, CeleryWorker, ManagedProcess, free_port
from tests.support.services import CeleryBeat
from tests.support.twilio_standin import TwilioStandIn

SMS_NUMBER = "+15005550006"

# Sweeps ten times as often as in production, and messages count as stuck after 2 s, so the
# recovery paths run within a test's time.
FAST_SWEEPS = {"BEAT_INTERVAL_SCALE": "0.1", "OUTBOUND_STUCK_SECONDS": "2"}


@pytest.fixture(autouse=True)
def services_required(live_services):  # noqa: F811
    require(
        live_services.mode == "services",
        "reliability tests need PostgreSQL and Redis (DATABASE_URL and REDIS_URL)",
    )
    require(connection.vendor == "postgresql", "reliability tests need PostgreSQL")


@pytest.fixture
def twilio():
    with TwilioStandIn(
        account_sid=TWILIO_TEST_SID, auth_token=TWILIO_TEST_TOKEN, auto_callbacks=()
    ) as standin:
        yield standin


@dataclass
class Stack:
    """Processes of one test, all stopped at the end (by pid)."""

    tmp: Path
    env: dict[str, str]
    request: pytest.FixtureRequest
    processes: list[ManagedProcess] = field(default_factory=list)

    def _add(self, process: ManagedProcess, label: str) -> ManagedProcess:
        attach_log(self.request, label, lambda: process.log_tail(200))
        self.processes.append(process)
        return process.start()

    def server(self, *, port: int | None = None, **env: str) -> AsgiServer:
        port = port or free_port()
        server = AsgiServer(
            port=port, env={**self.env, **env}, log_path=self.tmp / f"asgi-{port}.log"
        )
        return self._add(server, f"ASGI server {port} log")

    def worker(self, *, queues: str = "realtime,outbound,maintenance", **env: str):
        worker = CeleryWorker(
            env={**self.env, **env},
            log_path=self.tmp / f"worker-{len(self.processes)}.log",
            queues=queues,
        )
        return self._add(worker, f"worker ({queues}) log")

    def beat(self, **env: str) -> CeleryBeat:
        beat = CeleryBeat(env={**self.env, **env}, log_path=self.tmp / "beat.log")
        return self._add(beat, "beat log")

    def add(self, process: ManagedProcess, label: str) -> ManagedProcess:
        return self._add(process, label)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout=10)


@pytest.fixture
def stack(request, transactional_db, live_services, twilio, tmp_path):  # noqa: F811
    """Environment for this test's processes: the test database, Redis under this test's own key
    prefixes, the Twilio stand-in (no status callbacks unless a test asks), fast sweeps."""
    key_prefix = new_key_prefix()
    env = server_environment(
        connection.settings_dict,
        redis_url=live_services.redis_url,
        key_prefix=key_prefix,
        twilio_base_url=twilio.base_url,
        port=0,
    )
    env.pop("PUBLIC_BASE_URL", None)  # the default: no status callbacks are asked for
    env.update(FAST_SWEEPS)
    built = Stack(tmp=tmp_path, env=env, request=request)
    yield built
    built.stop()
    delete_redis_keys(live_services.redis_url, f"{key_prefix}*")


@pytest.fixture
def sms_service(transactional_db):
    # Offers wait (no expiry during a test): what a test routes stays where routing put it.
    service = ServiceFactory(name="Support", auto_accept_channels=[], offer_timeout_seconds=600)
    EntryPointFactory(name="SMS", address=SMS_NUMBER, service=service)
    return service


def ready_agents(service, count: int, prefix: str = "agent") -> list:
    return [
        AgentProfileFactory(user__username=f"{prefix}{n}", services=[service], state="ready").user
        for n in range(count)
    ]
