"""The Celery app. Queues: ``realtime`` (routing), ``outbound`` (sends), ``maintenance``.

Production runs separate workers for ``realtime`` and for ``outbound,maintenance`` (a hanging
provider never delays routing) and exactly one beat, each restarted when it exits (Procfile,
deploy/). Every worker writes a heartbeat per queue for ``/healthz``.
"""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")

app = Celery("contactcenter")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _add_heartbeat_step() -> None:
    from contactcenter.health import WorkerHeartbeat

    app.steps["worker"].add(WorkerHeartbeat)


_add_heartbeat_step()


@worker_process_init.connect
def _fresh_database_pool(**_kwargs: object) -> None:
    """A forked pool process must not share the parent's pooled PostgreSQL connections."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()
        connection.close()
