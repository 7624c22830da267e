"""The production-like setup ``make bench`` starts for itself and stops at the end, by pid.

- its own PostgreSQL database (``bench_contactcenter``, dropped and created) on the machine's
  server, migrated and seeded (``tests.bench.seed``);
- Redis database 7 under a run key prefix (queues, channel layer, rate limits);
- the production layout of the ``Procfile``: gunicorn (sync workers) for pages and webhooks,
  uvicorn for ``/ws/``, a Celery worker for ``realtime`` and one for ``outbound,maintenance``;
- a Twilio stand-in for sends.

Every process runs with ``DEBUG=0`` and ``tests.bench.settings`` (the project's settings plus the
bare baselines). Ports are free ones picked by the OS, loopback only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.support.fixtures import delete_redis_keys
from tests.support.live_server import (
    REPO_ROOT,
    VENV_BIN,
    ManagedProcess,
    free_port,
    subprocess_env,
)
from tests.support.twilio_standin import TwilioStandIn

DATABASE_NAME = "bench_contactcenter"
REDIS_DB = 7
TWILIO_SID = "AC" + "b" * 32
TWILIO_TOKEN = "bench-auth-token-0123456789abcdef"


def _url_with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def admin_database_url() -> str:
    return _url_with_path(
        os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres", "/postgres"
    )


def bench_redis_url() -> str:
    return _url_with_path(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0", f"/{REDIS_DB}")


def _running_tasks(client, unacked_key: str) -> int:
    """Tasks a worker took and has not finished, leaving out those waiting for their ETA (offer
    expiries scheduled minutes ahead)."""
    running = 0
    for raw in client.hvals(unacked_key):
        message = json.loads(raw)[0]
        if not message.get("headers", {}).get("eta"):
            running += 1
    return running


class Launched(ManagedProcess):
    """Started without waiting (``start``), then waited for (``wait_ready``): the stack starts
    its processes from the main thread (their parent-death signal follows the thread that
    started them) and waits for all of them together."""

    def _wait_until_ready(self) -> None:
        pass

    def wait_ready(self) -> None:
        try:
            super()._wait_until_ready()
        except BaseException:
            self.stop()
            raise


class HttpProcess(Launched):
    """A server process answering HTTP on 127.0.0.1:``port`` once ready."""

    def __init__(self, *, name: str, argv: list[str], port: int, env: dict, log_path: Path):
        self.port = port
        super().__init__(name=name, argv=argv, env=env, log_path=log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2) as response:
                return response.status == 200
        except urllib.error.HTTPError as exc:
            return exc.code < 500
        except OSError:
            return False


class Worker(Launched):
    ready_timeout = 60.0

    def is_ready(self) -> bool:
        return " ready." in self.log_text(current_run_only=True)


@dataclass
class Stack:
    log_dir: Path
    scale: dict
    web_workers: int = 4
    processes: list[ManagedProcess] = field(default_factory=list)
    seed: dict = field(default_factory=dict)
    key_prefix: str = field(default_factory=lambda: f"bench{uuid.uuid4().hex[:8]}")
    database_url: str = ""
    redis_url: str = field(default_factory=bench_redis_url)
    twilio: TwilioStandIn | None = None
    web: HttpProcess | None = None
    ws: HttpProcess | None = None
    timings: dict[str, float] = field(default_factory=dict)

    # --- database ---------------------------------------------------------------------------

    def create_database(self) -> None:
        with psycopg.connect(admin_database_url(), autocommit=True) as db:
            db.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (DATABASE_NAME,),
            )
            db.execute(f"drop database if exists {DATABASE_NAME}")
            db.execute(f"create database {DATABASE_NAME}")
        self.database_url = _url_with_path(admin_database_url(), f"/{DATABASE_NAME}")

    def drop_database(self) -> None:
        with psycopg.connect(admin_database_url(), autocommit=True) as db:
            db.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (DATABASE_NAME,),
            )
            db.execute(f"drop database if exists {DATABASE_NAME}")

    def sql(self, query: str, params: tuple | dict | None = None) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as db:
            cursor = db.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def quiesce(self, timeout: float = 120) -> float:
        """Leave no work of an earlier benchmark behind: queued and offered interactions leave the
        queue, live offers are cancelled, every agent is Not Ready, and the Celery queues are
        drained (nothing waiting, nothing running). Returns the seconds waited."""
        self.sql(
            "update conversations_offer set state = 'cancelled', ended_at = now() "
            "where state = 'offered'"
        )
        self.sql(
            "update conversations_interaction set state = 'ended', ended_at = now() "
            "where state in ('queued', 'offered')"
        )
        self.sql("update conversations_agentprofile set state = 'not_ready'")
        import redis

        client = redis.Redis.from_url(self.redis_url)
        started = time.monotonic()
        try:
            while True:
                waiting = sum(
                    client.llen(f"{self.key_prefix}:{queue}")
                    for queue in ("realtime", "outbound", "maintenance")
                )
                if waiting == 0 and _running_tasks(client, f"{self.key_prefix}:unacked") == 0:
                    return time.monotonic() - started
                if time.monotonic() - started > timeout:
                    raise AssertionError(f"Celery queues not drained after {timeout}s")
                time.sleep(0.2)
        finally:
            client.close()

    # --- processes --------------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        assert self.twilio is not None
        return subprocess_env(
            {
                "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
                "PYTHONPATH": str(REPO_ROOT),
                "TESTING": "0",
                "DEBUG": "0",
                "SECRET_KEY": f"bench-{self.key_prefix}-not-secret",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SECURE_COOKIES": "0",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "CHANNEL_LAYER_PREFIX": self.key_prefix,
                "CELERY_KEY_PREFIX": f"{self.key_prefix}:",
                "RATE_LIMIT_KEY_PREFIX": f"{self.key_prefix}:",
                "TWILIO_ACCOUNT_SID": TWILIO_SID,
                "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                "TWILIO_API_BASE_URL": self.twilio.base_url,
            }
        )

    def _manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=REPO_ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
        return result.stdout

    def _add(self, process: ManagedProcess) -> ManagedProcess:
        self.processes.append(process)
        return process

    def start(self) -> Stack:
        self.twilio = TwilioStandIn(
            account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN, auto_callbacks=()
        ).__enter__()
        started = time.monotonic()
        self.create_database()
        self._manage("manage.py", "migrate", "--noinput")
        self.timings["migrate_s"] = time.monotonic() - started
        started = time.monotonic()
        output = self._manage("-m", "tests.bench.seed", json.dumps(self.scale))
        self.seed = json.loads(output.strip().splitlines()[-1])
        self.timings["seed_s"] = time.monotonic() - started
        started = time.monotonic()
        self._start_processes()
        self.timings["start_s"] = time.monotonic() - started
        return self

    def _start_processes(self) -> None:
        env = self.env
        web_port, ws_port = free_port(), free_port()
        self.web = self._add(
            HttpProcess(
                name="gunicorn",
                argv=[
                    str(VENV_BIN / "gunicorn"),
                    "tests.bench.wsgi",
                    "--bind",
                    f"127.0.0.1:{web_port}",
                    "--workers",
                    str(self.web_workers),
                    "--timeout",
                    "30",
                ],
                port=web_port,
                env=env,
                log_path=self.log_dir / "gunicorn.log",
            )
        )
        self.ws = self._add(
            HttpProcess(
                name="uvicorn",
                argv=[
                    str(VENV_BIN / "uvicorn"),
                    "tests.bench.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(ws_port),
                    "--lifespan",
                    "off",
                    "--log-level",
                    "warning",
                    "--timeout-graceful-shutdown",
                    "5",
                ],
                port=ws_port,
                env=env,
                log_path=self.log_dir / "uvicorn.log",
            )
        )
        for name, queues, extra in (
            ("realtime", "realtime", ["--concurrency", "2"]),
            (
                "outbound",
                "outbound,maintenance",
                ["--concurrency", "4", "--prefetch-multiplier", "1"],
            ),
        ):
            self._add(
                Worker(
                    name=f"worker-{name}",
                    argv=[
                        str(VENV_BIN / "celery"),
                        "-A",
                        "contactcenter",
                        "worker",
                        "-Q",
                        queues,
                        "-n",
                        f"{name}-{self.key_prefix}@%h",
                        *extra,
                        "--loglevel",
                        "INFO",
                        "--without-gossip",
                        "--without-mingle",
                    ],
                    env=env,
                    log_path=self.log_dir / f"worker-{name}.log",
                )
            )
        for process in self.processes:
            process.start()
        with ThreadPoolExecutor(max_workers=len(self.processes)) as pool:
            for future in [pool.submit(process.wait_ready) for process in self.processes]:
                future.result()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout=10)
        self.processes.clear()
        if self.twilio is not None:
            self.twilio.__exit__(None, None, None)
        delete_redis_keys(self.redis_url, f"{self.key_prefix}*")
        delete_redis_keys(self.redis_url, f"bench:noop:{self.key_prefix}*")
        if os.environ.get("BENCH_KEEP_DB", "") != "1":
            self.drop_database()
