"""Pytest fixtures for suites that drive live processes (e2e, reliability).

Import the ones a suite needs into its ``conftest.py``::

    from tests.support.fixtures import asgi_server, celery_worker, live_services, ...  # noqa: F401

- ``live_services``: embedded (SQLite, in-process tasks) or services (PostgreSQL + Redis + a
  worker) mode, from ``DATABASE_URL``/``REDIS_URL``. Under CI (``CI=true``) both are required and
  must answer: the test fails otherwise; on a laptop an unreachable Redis skips.
- ``twilio_standin``: a started :class:`TwilioStandIn` with the test account SID and token.
- ``live_server_env``: the environment the server and the worker share (test database, Redis
  with this test's own key prefixes, stand-in URL, ``PUBLIC_BASE_URL`` of the server). Needs
  committed data: ``transactional_db``. Its Redis keys are deleted at teardown.
- ``celery_worker``: a started :class:`CeleryWorker` when ``REDIS_URL`` is set, else ``None``.
- ``asgi_server``: a started :class:`AsgiServer` (with the worker running first when there is
  one). ``stop()``, ``start()``, ``restart()``, ``kill()`` keep its port and ``url``.

- ``shared_live_server`` (module scope) + ``shared_asgi_server`` (per test): one server, worker
  and Twilio stand-in for all the tests of a module, for suites whose tests never stop the server.
  Each test still gets its own data (``transactional_db`` flushes the tables after it); the
  stand-in's recorded traffic is reset before each test.

Process logs live in the test's ``tmp_path``; their tails are added to the report of a failed test
by ``pytest_runtest_makereport`` (import that hook into the conftest too).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.conftest import TWILIO_TEST_SID, TWILIO_TEST_TOKEN

from .live_server import (
    IN_CI,
    AsgiServer,
    CeleryWorker,
    ManagedProcess,
    database_env,
    free_port,
    port_is_open,
    subprocess_env,
)
from .twilio_standin import TwilioStandIn


def require(condition: bool, reason: str) -> None:
    """Under CI a missing requirement fails the test; elsewhere it skips it, saying why."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class LiveServices:
    database_url: str
    redis_url: str

    @property
    def mode(self) -> str:
        return "services" if self.database_url and self.redis_url else "embedded"

    @property
    def has_worker(self) -> bool:
        return bool(self.redis_url)


@pytest.fixture(scope="session")
def live_services() -> LiveServices:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if IN_CI:
        require(bool(database_url), "DATABASE_URL (PostgreSQL) must be set")
        require(bool(redis_url), "REDIS_URL must be set")
    for name, url, default_port in (
        ("PostgreSQL", database_url, 5432),
        ("Redis", redis_url, 6379),
    ):
        if url:
            parts = urlsplit(url)
            host, port = parts.hostname or "127.0.0.1", parts.port or default_port
            require(port_is_open(host, port), f"{name} is not answering at {host}:{port}")
    return LiveServices(database_url=database_url, redis_url=redis_url)


@pytest.fixture
def twilio_standin():
    with TwilioStandIn(account_sid=TWILIO_TEST_SID, auth_token=TWILIO_TEST_TOKEN) as standin:
        yield standin


@pytest.fixture
def live_server_port() -> int:
    return free_port()


@pytest.fixture
def live_server_env(transactional_db, live_services, twilio_standin, live_server_port):
    from django.db import connection

    key_prefix = new_key_prefix()
    yield server_environment(
        connection.settings_dict,
        redis_url=live_services.redis_url,
        key_prefix=key_prefix,
        twilio_base_url=twilio_standin.base_url,
        port=live_server_port,
    )
    # The server and the worker are stopped by now (they depend on this fixture).
    if live_services.redis_url:
        delete_redis_keys(live_services.redis_url, f"{key_prefix}*")


def new_key_prefix() -> str:
    return f"e2e{uuid.uuid4().hex[:12]}"


def server_environment(
    settings_dict, *, redis_url: str, key_prefix: str, twilio_base_url: str, port: int
) -> dict[str, str]:
    """The environment of a live server (and its worker) on ``port`` for this test database."""
    return subprocess_env(
        {
            **database_env(settings_dict),
            "REDIS_URL": redis_url,
            # Our own channel-layer groups and Celery queues on a shared Redis: another run's
            # events never reach our pages, its workers never take our tasks (nor ours theirs).
            "CHANNEL_LAYER_PREFIX": key_prefix,
            "CELERY_KEY_PREFIX": f"{key_prefix}:",
            # ...and rate limits of their own (every browser of a run is 127.0.0.1).
            "RATE_LIMIT_KEY_PREFIX": f"{key_prefix}:",
            "TWILIO_ACCOUNT_SID": TWILIO_TEST_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TEST_TOKEN,
            "TWILIO_API_BASE_URL": twilio_base_url,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        }
    )


def delete_redis_keys(redis_url: str, pattern: str) -> int:
    """Delete this run's keys (queues, bindings, groups) so nothing is left in a shared Redis."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=pattern, count=1000))
        return client.delete(*keys) if keys else 0
    finally:
        client.close()


# --- logs of live processes, attached to the report of a failed test -------------------------

LOG_SOURCES = pytest.StashKey[list]()


def attach_log(request: pytest.FixtureRequest, name: str, read) -> None:
    """Show ``read()`` (a callable returning text) under ``name`` if the test fails."""
    request.node.stash.setdefault(LOG_SOURCES, []).append((name, read))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Hook: import it into the suite's conftest.py next to the fixtures."""
    report = yield
    if report.failed:
        for name, read in item.stash.get(LOG_SOURCES, []):
            try:
                text = read()
            except Exception as exc:  # a log that cannot be read must not hide the failure
                text = f"(could not read: {exc!r})"
            report.sections.append((name, text))
    return report


def _process_log(process: ManagedProcess):
    return lambda: f"{process.log_path}\n{process.log_tail(300)}"


@pytest.fixture
def celery_worker(request, live_services, live_server_env, tmp_path):
    if not live_services.has_worker:
        yield None
        return
    worker = CeleryWorker(env=live_server_env, log_path=tmp_path / "celery-worker.log")
    attach_log(request, "celery worker log", _process_log(worker))
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def asgi_server(request, live_server_env, live_server_port, celery_worker, tmp_path):
    server = AsgiServer(
        port=live_server_port, env=live_server_env, log_path=tmp_path / "asgi-server.log"
    )
    attach_log(request, "ASGI server log", _process_log(server))
    server.start()
    yield server
    server.stop()


# --- one server per module ---------------------------------------------------------------------


@dataclass
class SharedLiveServer:
    server: AsgiServer
    worker: CeleryWorker | None
    twilio: TwilioStandIn
    env: dict[str, str]


@pytest.fixture(scope="module")
def shared_live_server(django_db_setup, live_services, tmp_path_factory):
    """An ASGI server (+ a Celery worker with Redis) and a Twilio stand-in started once for the
    tests of a module, against the test database (its tables are flushed after every
    ``transactional_db`` test, the processes keep running). Use it through ``shared_asgi_server``.
    """
    from django.db import connection

    log_dir = tmp_path_factory.mktemp("live-processes")
    key_prefix = new_key_prefix()
    port = free_port()
    with TwilioStandIn(account_sid=TWILIO_TEST_SID, auth_token=TWILIO_TEST_TOKEN) as standin:
        env = server_environment(
            connection.settings_dict,
            redis_url=live_services.redis_url,
            key_prefix=key_prefix,
            twilio_base_url=standin.base_url,
            port=port,
        )
        worker = None
        if live_services.has_worker:
            worker = CeleryWorker(env=env, log_path=log_dir / "celery-worker.log")
        server = AsgiServer(port=port, env=env, log_path=log_dir / "asgi-server.log")
        try:
            if worker is not None:
                worker.start()
            server.start()
            yield SharedLiveServer(server=server, worker=worker, twilio=standin, env=env)
        finally:
            server.stop()
            if worker is not None:
                worker.stop()
            if live_services.redis_url:
                delete_redis_keys(live_services.redis_url, f"{key_prefix}*")


@pytest.fixture
def shared_asgi_server(request, shared_live_server, transactional_db):
    """The module's running :class:`AsgiServer` for this test (committed data, logs attached to
    a failure, the Twilio stand-in's traffic forgotten and its default callbacks back)."""
    live = shared_live_server
    live.twilio.reset()
    live.twilio.auto_callbacks = ("sent", "delivered")
    attach_log(request, "ASGI server log", _process_log(live.server))
    if live.worker is not None:
        attach_log(request, "celery worker log", _process_log(live.worker))
    if not live.server.running:  # a test before this one stopped it
        live.server.start()
    return live.server


@pytest.fixture
def shared_twilio_standin(shared_live_server, shared_asgi_server):
    """The Twilio stand-in the shared server talks to."""
    return shared_live_server.twilio
