"""Celery tasks of the core: thin adapters, ids only as arguments."""

import logging

from celery import shared_task

from . import realtime, webhooks
from .api.idempotency import prune_idempotency_keys as prune_keys
from .jobs import enqueue

logger = logging.getLogger(__name__)

#: A fan-out that found events not yet final (or a full batch) runs again after this long.
FAN_OUT_AGAIN_SECONDS = 1.5


@shared_task(ignore_result=True)
def prune_events() -> int:
    return realtime.prune_events()


@shared_task(ignore_result=True)
def prune_idempotency_keys() -> int:
    """Forget Idempotency-Keys older than ``IDEMPOTENCY_KEY_TTL_HOURS`` (default 24)."""
    return prune_keys()


@shared_task(ignore_result=True)
def webhooks_fan_out() -> int:
    """New events -> webhook deliveries (after each commit that appended events, and on beat)."""
    created, more = webhooks.webhooks_fan_out()
    if more:
        enqueue(webhooks.FAN_OUT_TASK, countdown=FAN_OUT_AGAIN_SECONDS)
    return len(created)


@shared_task(bind=True, ignore_result=True, acks_late=True)
def deliver_webhook(self, delivery_id: int) -> None:
    """POST one delivery; after a transient failure, schedule the next attempt with backoff (the
    sweeper finds it too if this schedule is lost)."""
    delay = webhooks.webhook_deliver(delivery_id=delivery_id)
    if delay is not None:
        enqueue(webhooks.DELIVER_TASK, delivery_id, countdown=delay)


@shared_task(ignore_result=True)
def webhooks_sweep() -> int:
    """Deliveries due but never handed to a worker, or stuck mid-send, are enqueued again."""
    count = 0
    for delivery_id in webhooks.webhooks_sweep():
        if enqueue(webhooks.DELIVER_TASK, delivery_id):
            count += 1
    return count
