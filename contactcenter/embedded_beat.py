"""Embedded mode has no Celery beat: run the beat schedule's tasks from a daemon thread instead.

Started by the ASGI application in embedded mode (``EMBEDDED_BEAT``), so a laptop demo still
expires offers, sweeps the outbox, warns and ends quiet chats and re-routes waiting customers.
Every scheduled task must be registered (the apps import their tasks modules when ready): a
missing one is logged once, not at every tick.
"""

import logging
import threading
import time

from celery import current_app
from django.conf import settings
from django.db import close_old_connections

from . import health

logger = logging.getLogger(__name__)
_started = threading.Event()


def start() -> None:
    if _started.is_set():
        return
    _started.set()
    missing = unregistered_tasks()
    if missing:
        logger.error("embedded beat: tasks not registered, left out: %s", ", ".join(missing))
    threading.Thread(target=_loop, name="embedded-beat", daemon=True).start()
    logger.info("embedded beat started (%d periodic tasks)", len(settings.CELERY_BEAT_SCHEDULE))


def unregistered_tasks() -> list[str]:
    """Names in the beat schedule that no imported module registered."""
    return sorted(
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] not in current_app.tasks
    )


def _loop() -> None:
    due: dict[str, float] = {}
    missing = set(unregistered_tasks())
    while True:
        now = time.monotonic()
        health.beat_heartbeat()
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            if entry["task"] in missing or due.get(name, 0) > now:
                continue
            due[name] = now + float(entry["schedule"])
            try:
                current_app.tasks[entry["task"]].apply()
            except Exception:
                logger.exception("embedded beat: %s failed", name)
            finally:
                close_old_connections()
        time.sleep(1)
