"""Celery tasks: thin adapters over services, ids only as arguments."""

import logging
import random

from celery import shared_task
from django.conf import settings

from contactcenter.jobs import enqueue

from . import services
from .models import Message
from .ports import SendError
from .services.triggers import DELIVER_MESSAGE

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 2
RETRY_CAP_SECONDS = 300


def retry_countdown(retries: int) -> float:
    """Exponential backoff with full jitter, capped well below the broker visibility timeout."""
    return random.uniform(0, min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * (2**retries)))


@shared_task(bind=True, ignore_result=True, acks_late=True)
def deliver_message(self, message_id: int) -> None:
    """Deliver one queued message. A transient failure leaves it queued and schedules another
    delivery with backoff (the sweeper would find it too)."""
    try:
        services.message_deliver(message_id=message_id)
    except SendError as exc:
        countdown = retry_countdown(self.request.retries or _attempts(message_id))
        logger.warning(
            "message %s: transient send error, retrying in %.0f s: %s", message_id, countdown, exc
        )
        enqueue(DELIVER_MESSAGE, message_id, countdown=countdown)


def _attempts(message_id: int) -> int:
    return Message.objects.filter(pk=message_id).values_list("attempts", flat=True).first() or 0


@shared_task(ignore_result=True)
def sweep_outbound() -> int:
    """Settle outbound messages stuck in queued/sending: never handed over (broker down), a worker
    that died mid-send, a provider that never called back. Never sends a message twice."""
    stuck_after = settings.OUTBOUND_STUCK_SECONDS
    redelivered = 0
    for message_id in services.outbound_stuck_ids(older_than_seconds=stuck_after):
        try:
            action = services.outbound_reconcile(
                message_id=message_id, older_than_seconds=stuck_after
            )
        except Exception:
            logger.exception("sweep_outbound: message %s could not be settled", message_id)
            continue
        if action == "deliver" and enqueue(DELIVER_MESSAGE, message_id):
            redelivered += 1
    return redelivered


@shared_task(ignore_result=True)
def route_service(service_id: int) -> int:
    return services.route_service(service_id=service_id)


@shared_task(ignore_result=True)
def route_all() -> int:
    """Safety sweep: route every service with someone waiting (lost triggers, restarts)."""
    return sum(services.route_service(service_id=sid) for sid in services.services_with_waiting())


@shared_task(ignore_result=True)
def expire_offer(offer_id: int) -> bool:
    return services.offer_expire(offer_id=offer_id)


@shared_task(ignore_result=True)
def expire_offers() -> int:
    return sum(services.offer_expire(offer_id=oid) for oid in services.expired_offer_ids())


@shared_task(ignore_result=True)
def expire_wrap_ups() -> int:
    """Close-out: conversations whose after-call work ran past the service's timeout."""
    return sum(
        services.wrap_up_expire(conversation_id=cid) for cid in services.expired_wrap_up_ids()
    )


@shared_task(ignore_result=True)
def mark_disconnected_agents() -> int:
    """Agents whose desktop stopped its heartbeat stop receiving offers."""
    return sum(
        services.agent_disconnected(user_id=uid) for uid in services.disconnected_agent_ids()
    )


@shared_task(ignore_result=True)
def case_follow_ups() -> int:
    """Pending cases whose follow-up time came go back to their agent."""
    return sum(
        services.case_follow_up(conversation_id=cid) for cid in services.case_follow_ups_due()
    )


@shared_task(ignore_result=True)
def close_resolved_cases() -> int:
    """Resolved cases the customer did not write to again within CASE_RESOLVED_CLOSE_SECONDS."""
    return sum(
        services.case_close_resolved(conversation_id=cid) for cid in services.resolved_cases_due()
    )
