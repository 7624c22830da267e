"""/healthz and /readyz follow the moving parts: unhealthy within seconds of Redis or the worker
stopping, healthy again once they are back."""

from __future__ import annotations

import time

import requests

from tests.support.services import OwnRedis, SupervisedProcfile, worker_command


def health(url: str, path: str = "/healthz") -> tuple[int, dict]:
    try:
        response = requests.get(f"{url}{path}", timeout=8)
    except requests.RequestException as exc:
        return 0, {"error": str(exc)}
    return response.status_code, response.json()


def wait_for_status(url: str, status: int, *, within: float, path: str = "/healthz") -> dict:
    deadline = time.monotonic() + within
    while True:
        code, body = health(url, path)
        if code == status:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} answered {code} {body}, not {status}, after {within}s")
        time.sleep(0.25)


def test_healthz_follows_redis_and_the_worker(stack, tmp_path):
    redis = stack.add(OwnRedis(log_path=tmp_path / "redis.log"), "own Redis log")
    env = {"REDIS_URL": redis.url}
    # Supervised as in production: a worker or beat that exits with Redis is started again.
    worker = stack.add(
        SupervisedProcfile(
            lines={
                "worker": worker_command(queues="realtime,outbound,maintenance", name="all"),
                "beat": f"celery -A contactcenter beat -s {tmp_path / 'beat-schedule'}",
            },
            env={**stack.env, **env},
            log_path=tmp_path / "supervised.log",
        ),
        "supervised worker log",
    )
    server = stack.server(**env)

    body = wait_for_status(server.url, 200, within=20)
    assert set(body["checks"]) >= {
        "database",
        "redis",
        "channel_layer",
        "worker:realtime",
        "worker:outbound",
        "worker:maintenance",
        "beat",
    }
    assert wait_for_status(server.url, 200, within=5, path="/readyz")["status"] == "ok"

    redis.stop()
    stopped = time.monotonic()
    body = wait_for_status(server.url, 503, within=10)
    assert not body["checks"]["redis"]["ok"]
    assert time.monotonic() - stopped < 10
    redis.start()
    wait_for_status(server.url, 200, within=60)

    worker.stop()
    stopped = time.monotonic()
    body = wait_for_status(server.url, 503, within=10)
    assert not body["checks"]["worker:realtime"]["ok"]
    assert time.monotonic() - stopped < 10
    worker.start()
    wait_for_status(server.url, 200, within=30)


def test_a_worker_registers_every_task_of_the_beat_schedule(stack):
    """Worker mode: the tasks the beat names are the worker's (its start-up banner lists them)."""
    from django.conf import settings

    worker = stack.worker()
    banner = worker.log_text(current_run_only=True)
    missing = [
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if f". {entry['task']}" not in banner
    ]
    assert missing == []
