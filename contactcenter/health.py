"""Liveness of the moving parts, for ``/healthz`` and ``/readyz``.

- Database and Redis: answered now, with short timeouts.
- Channel layer: a message sent to a fresh channel of this process comes back.
- Celery workers: each worker writes a heartbeat key (per queue it consumes) every
  ``HEALTH_HEARTBEAT_SECONDS``; a queue without a fresh heartbeat has no live worker.
- Celery beat: the scheduler writes its own heartbeat on every tick.

In embedded mode (no Redis) the tasks run in the server process and the beat on its thread: only
the database and the embedded beat's heartbeat are checked.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from celery import bootsteps
from celery.beat import PersistentScheduler
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

QUEUES = ("realtime", "outbound", "maintenance")
_embedded_beat_seen = 0.0
_redis_client = None
_redis_lock = threading.Lock()


def _key(name: str) -> str:
    return f"{settings.HEALTH_KEY_PREFIX}health:{name}"


def redis_client():
    """One small Redis client per process for health keys (short timeouts)."""
    global _redis_client
    import redis

    with _redis_lock:
        if _redis_client is None:
            _redis_client = redis.Redis.from_url(
                settings.REDIS_URL,
                socket_timeout=settings.REDIS_CONNECT_TIMEOUT,
                socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
            )
        return _redis_client


# --- Heartbeats -----------------------------------------------------------------------------


def worker_heartbeat(*, hostname: str, queues: list[str]) -> None:
    ttl = settings.HEALTH_STALE_SECONDS
    pipe = redis_client().pipeline()
    for queue in queues:
        pipe.set(_key(f"worker:{queue}:{hostname}"), int(time.time()), ex=ttl)
    pipe.execute()


def beat_heartbeat() -> None:
    global _embedded_beat_seen
    if not settings.REDIS_URL:
        _embedded_beat_seen = time.monotonic()
        return
    redis_client().set(_key("beat"), int(time.time()), ex=settings.HEALTH_STALE_SECONDS)


class WorkerHeartbeat(bootsteps.StartStopStep):
    """A worker bootstep: a heartbeat key per consumed queue, on the worker's own timer."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker) -> None:
        self.tref = worker.timer.call_repeatedly(
            settings.HEALTH_HEARTBEAT_SECONDS, self.beat, (worker,), priority=10
        )
        self.beat(worker)

    def stop(self, worker) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def beat(self, worker) -> None:
        try:
            queues = [queue.name for queue in worker.app.amqp.queues.consume_from.values()]
            worker_heartbeat(hostname=worker.hostname, queues=queues)
        except Exception as exc:  # Redis down: the heartbeat lapses, which is the point
            logger.warning("health: worker heartbeat not written (%s)", exc)


class HeartbeatScheduler(PersistentScheduler):
    """Celery beat's scheduler, writing a heartbeat at every tick."""

    def tick(self, *args, **kwargs):
        try:
            beat_heartbeat()
        except Exception as exc:
            logger.warning("health: beat heartbeat not written (%s)", exc)
        return min(super().tick(*args, **kwargs), settings.HEALTH_HEARTBEAT_SECONDS)


# --- Checks ---------------------------------------------------------------------------------


@dataclass
class Report:
    checks: dict[str, dict] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks[name] = {"ok": ok, "detail": detail}

    def as_dict(self) -> dict:
        return {"status": "ok" if self.healthy else "unhealthy", "checks": self.checks}


def check_database(report: Report) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report.add("database", True)
    except Exception as exc:
        report.add("database", False, f"{type(exc).__name__}: {exc}")


def check_redis(report: Report) -> None:
    try:
        redis_client().ping()
        report.add("redis", True)
    except Exception as exc:
        report.add("redis", False, f"{type(exc).__name__}: {exc}")


def check_channel_layer(report: Report) -> None:
    layer = get_channel_layer()
    if layer is None:
        report.add("channel_layer", False, "no channel layer configured")
        return
    try:
        async_to_sync(_layer_round_trip)(layer)
        report.add("channel_layer", True)
    except Exception as exc:
        report.add("channel_layer", False, f"{type(exc).__name__}: {exc}")


async def _layer_round_trip(layer) -> None:
    import asyncio

    channel = await layer.new_channel(prefix="health")
    token = uuid.uuid4().hex
    await asyncio.wait_for(layer.send(channel, {"type": "health.ping", "token": token}), 2)
    message = await asyncio.wait_for(layer.receive(channel), 2)
    if message.get("token") != token:
        raise RuntimeError("the channel layer returned another message")


def check_workers(report: Report) -> None:
    try:
        client = redis_client()
        for queue in QUEUES:
            live = next(iter(client.scan_iter(match=_key(f"worker:{queue}:*"), count=100)), None)
            report.add(
                f"worker:{queue}",
                live is not None,
                "" if live else f"no worker heartbeat for queue {queue}",
            )
    except Exception as exc:
        for queue in QUEUES:
            report.add(f"worker:{queue}", False, f"{type(exc).__name__}: {exc}")


def check_beat(report: Report) -> None:
    if not settings.REDIS_URL:
        if not settings.EMBEDDED_BEAT:
            report.add("beat", True, "embedded beat off")
            return
        fresh = time.monotonic() - _embedded_beat_seen < settings.HEALTH_STALE_SECONDS
        report.add("beat", fresh, "" if fresh else "the embedded beat thread is not running")
        return
    try:
        seen = redis_client().get(_key("beat"))
        report.add("beat", seen is not None, "" if seen else "no beat heartbeat")
    except Exception as exc:
        report.add("beat", False, f"{type(exc).__name__}: {exc}")


def health_report() -> Report:
    """Everything: for monitoring (``/healthz``)."""
    report = Report()
    check_database(report)
    if settings.REDIS_URL:
        check_redis(report)
        check_channel_layer(report)
        check_workers(report)
    check_beat(report)
    return report


def readiness_report() -> Report:
    """What this process needs to serve requests (``/readyz``, for a load balancer)."""
    report = Report()
    check_database(report)
    if settings.REDIS_URL:
        check_channel_layer(report)
    return report
