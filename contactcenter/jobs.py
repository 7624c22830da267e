"""Enqueueing background jobs from services, after commit, by task name.

Services never import ``tasks`` modules (tasks import services, not the reverse): they name the
task. The job is handed to Celery only once the writing transaction has committed, so the worker
always finds the rows it is given.

Enqueueing never breaks the request that caused it. When the broker is down the failure is logged
with its reason and the caller's request still succeeds: what the job would have done is recorded
in the database already (a queued outbound message, a waiting interaction, a live offer), and the
periodic sweeps pick it up (``sweep_outbound``, ``route_all``, ``expire_offers``).

In embedded mode (no Redis, tasks run in-process) a job runs right after the commit; a job with a
countdown runs on a timer thread of this process (``EMBEDDED_DELAYED_JOBS``), or is left to the
sweeps when timers are off (the test suite drives time itself).
"""

from __future__ import annotations

import logging
import threading

from celery import current_app
from django.conf import settings
from django.db import close_old_connections, transaction

logger = logging.getLogger(__name__)

PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}


class _Job:
    """An enqueue waiting for its transaction to commit (knows whether it ran)."""

    def __init__(self, task: str, args: tuple, countdown: float | None) -> None:
        self.key = (task, args, countdown)
        self.ran = False
        self.__qualname__ = f"enqueue {task}"  # how Django names a failed on-commit callback

    def __call__(self) -> None:
        self.ran = True
        task, args, countdown = self.key
        enqueue(task, *args, countdown=countdown)


def enqueue_on_commit(task: str, *args: object, countdown: float | None = None) -> None:
    """Run ``task(*args)`` in the background once the current transaction commits.

    The same job asked for twice in one transaction is enqueued once (routing a service after
    each of a burst's interactions is one routing pass)."""
    job = _Job(task, args, countdown)
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        enclosing = set(connection.savepoint_ids)
        for savepoints, pending, _robust in connection.run_on_commit:
            # Only a job that is rolled back whenever this one would be can stand for it.
            if (
                isinstance(pending, _Job)
                and not pending.ran
                and pending.key == job.key
                and savepoints <= enclosing
            ):
                return
    transaction.on_commit(job, robust=True)


def enqueue(task: str, *args: object, countdown: float | None = None) -> bool:
    """Hand ``task(*args)`` to Celery now. Returns False (and logs why) when that failed."""
    try:
        registered = current_app.tasks[task]
    except KeyError:
        logger.error("enqueue: task %s is not registered; nothing was enqueued", task)
        return False
    if current_app.conf.task_always_eager:
        return _run_in_process(registered, args, countdown)
    try:
        registered.apply_async(
            args, countdown=countdown, retry=True, retry_policy=PUBLISH_RETRY_POLICY
        )
    except Exception as exc:
        logger.error(
            "enqueue of %s%r failed (%s: %s); the periodic sweep will recover it",
            task,
            args,
            type(exc).__name__,
            exc,
        )
        return False
    return True


def _run_in_process(registered, args: tuple, countdown: float | None) -> bool:
    if not countdown:
        registered.apply(args)
        return True
    if not settings.EMBEDDED_DELAYED_JOBS:
        return False

    def run() -> None:
        try:
            registered.apply(args)
        finally:
            close_old_connections()

    timer = threading.Timer(countdown, run)
    timer.daemon = True
    timer.start()
    return True
