"""Embedded mode has no Celery beat: run the beat schedule's tasks from a daemon thread instead.

Started by the ASGI application only in embedded mode outside tests, so a laptop demo still
expires offers, sweeps the outbox and re-routes waiting customers.
"""

import logging
import threading
import time

from celery import current_app
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)
_started = threading.Event()


def start() -> None:
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_loop, name="embedded-beat", daemon=True).start()
    logger.info("embedded beat started (%d periodic tasks)", len(settings.CELERY_BEAT_SCHEDULE))


def _loop() -> None:
    due: dict[str, float] = {}
    while True:
        now = time.monotonic()
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            if due.get(name, 0) <= now:
                due[name] = now + float(entry["schedule"])
                try:
                    current_app.tasks[entry["task"]].apply()
                except Exception:
                    logger.exception("embedded beat: %s failed", name)
                finally:
                    close_old_connections()
        time.sleep(1)
