"""Celery tasks: thin adapters over services, ids only as arguments."""

import logging
import random

from celery import current_app, shared_task
from django.conf import settings

from . import lifecycle, routing, services
from .outbound import SendError

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 2
RETRY_CAP_SECONDS = 300


def retry_countdown(retries: int) -> float:
    """Exponential backoff with full jitter, capped well below the broker visibility timeout."""
    return random.uniform(0, min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * (2**retries)))


@shared_task(bind=True, ignore_result=True, max_retries=None, acks_late=True)
def deliver_message(self, message_id: int) -> None:
    try:
        services.message_deliver(message_id=message_id)
    except SendError as exc:
        if current_app.conf.task_always_eager:
            # In-process mode has no broker to hold a delayed retry; the sweeper picks it up.
            logger.warning("message %s: transient send error, left queued: %s", message_id, exc)
            return
        raise self.retry(countdown=retry_countdown(self.request.retries), exc=exc) from exc


@shared_task(ignore_result=True)
def sweep_outbound() -> int:
    """Re-enqueue outbound messages stuck in queued/sending (a crash between commit and send)."""
    ids = services.outbound_requeue_stuck(older_than_seconds=settings.OUTBOUND_STUCK_SECONDS)
    for message_id in ids:
        deliver_message.delay(message_id)
    return len(ids)


@shared_task(ignore_result=True)
def route_service(service_id: int) -> int:
    return routing.route_service(service_id=service_id)


@shared_task(ignore_result=True)
def route_all() -> int:
    """Safety sweep: route every service with someone waiting (lost triggers, restarts)."""
    return sum(routing.route_service(service_id=sid) for sid in routing.services_with_waiting())


@shared_task(ignore_result=True)
def expire_offer(offer_id: int) -> bool:
    return routing.offer_expire(offer_id=offer_id)


@shared_task(ignore_result=True)
def expire_offers() -> int:
    return sum(routing.offer_expire(offer_id=oid) for oid in routing.expired_offer_ids())


@shared_task(ignore_result=True)
def expire_wrap_ups() -> int:
    """Close-out: conversations whose after-call work ran past the service's timeout."""
    return sum(
        lifecycle.wrap_up_expire(conversation_id=cid) for cid in lifecycle.expired_wrap_up_ids()
    )


@shared_task(ignore_result=True)
def mark_disconnected_agents() -> int:
    """Agents whose desktop stopped its heartbeat stop receiving offers."""
    return sum(routing.agent_disconnected(user_id=uid) for uid in routing.disconnected_agent_ids())
