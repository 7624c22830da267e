"""Outbound webhooks: subscriptions, fan-out from the event log, delivery through an outbox.

- **Fan-out** reads the event log after each subscription's cursor (only events the
  subscription's user may see, of the types it chose, in id order, never past an id a late
  commit could still precede) and writes one :class:`WebhookDelivery` per event, advancing the
  cursor in the same transaction. It runs after every commit that appended events (a hook in
  ``realtime.publish``) and every few seconds from beat.
- **Delivery** claims a row with a conditional update (``pending -> sending``), POSTs the signed
  body and records the attempt. Transient failures go back to ``pending`` with capped, jittered
  exponential backoff, up to ``WEBHOOK_MAX_ATTEMPTS``; permanent ones fail at once.
- **The sweeper** re-enqueues deliveries that are due but were never handed to a worker, and
  puts back those stuck in ``sending`` (a worker died mid-request): delivery is at least once, so
  receivers dedupe on ``X-CC-Delivery``.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from . import realtime
from .exceptions import InvalidState, ValidationError
from .jobs import enqueue_on_commit
from .models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .outbound_http import DeliveryError, signed_post, url_problem

logger = logging.getLogger(__name__)

DELIVER_TASK = "contactcenter.tasks.deliver_webhook"
FAN_OUT_TASK = "contactcenter.tasks.webhooks_fan_out"
EVENT_HEADER = "X-CC-Event"
DELIVERY_HEADER = "X-CC-Delivery"
FAN_OUT_BATCH = 500
URL_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 120

# --- Subscriptions ----------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def subscription_fields_clean(
    *, name: str, url: str, event_types: list[str]
) -> tuple[str, str, list[str]]:
    """Name, URL and event types checked (ValidationError naming the field)."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            gettext("Give a name of at most %(limit)s characters.") % {"limit": NAME_MAX_LENGTH},
            field="name",
        )
    url = (url or "").strip()
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(
            gettext("The URL is longer than %(limit)s characters.") % {"limit": URL_MAX_LENGTH},
            field="url",
        )
    problem = url_problem(url)
    if problem:
        raise ValidationError(
            gettext("This URL cannot receive webhooks: %(problem)s.") % {"problem": problem},
            field="url",
        )
    known = realtime.event_types()
    event_types = list(dict.fromkeys(event_types or []))
    unknown = [t for t in event_types if t not in known]
    if unknown:
        raise ValidationError(
            gettext("Unknown event type: %(types)s.") % {"types": ", ".join(map(str, unknown))},
            field="event_types",
        )
    if not event_types:
        raise ValidationError(gettext("Choose at least one event type."), field="event_types")
    return name, url, event_types


def webhook_subscription_create(
    *,
    user: AbstractBaseUser,
    name: str,
    url: str,
    event_types: list[str],
    active: bool = True,
) -> WebhookSubscription:
    """Events from now on (the cursor starts at the newest event)."""
    name, url, event_types = subscription_fields_clean(name=name, url=url, event_types=event_types)
    subscription = WebhookSubscription.objects.create(
        user=user,
        name=name,
        url=url,
        event_types=event_types,
        secret=new_secret(),
        active=active,
        last_event_id=realtime.latest_event_id(),
    )
    subscriptions_changed()
    return subscription


def webhook_subscription_update(
    *, subscription: WebhookSubscription, data: dict
) -> WebhookSubscription:
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
        name, url, event_types = subscription_fields_clean(
            name=data.get("name", subscription.name),
            url=data.get("url", subscription.url),
            event_types=data.get("event_types", subscription.event_types),
        )
        subscription.name, subscription.url, subscription.event_types = name, url, event_types
        fields = ["name", "url", "event_types"]
        if "active" in data and bool(data["active"]) != subscription.active:
            subscription.active = bool(data["active"])
            fields.append("active")
            if subscription.active:  # resumes from now, not from where it was switched off
                subscription.last_event_id = realtime.latest_event_id()
                fields.append("last_event_id")
        subscription.save(update_fields=fields)
    subscriptions_changed()
    return subscription


def webhook_subscription_rotate_secret(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """A new signing secret (the old one stops working at once)."""
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret"])
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    subscription.delete()
    subscriptions_changed()


# Whether any subscription is active, remembered for a few seconds per process so that appending
# events costs no query; beat's fan-out covers the seconds a new subscription is not yet known.
_ACTIVE_TTL_SECONDS = 5.0
_active_cache: tuple[float, bool] | None = None


def subscriptions_changed() -> None:
    global _active_cache
    _active_cache = None


def webhooks_active() -> bool:
    global _active_cache
    now = time.monotonic()
    if _active_cache is None or _active_cache[0] < now:
        active = WebhookSubscription.objects.filter(active=True).exists()
        _active_cache = (now + _ACTIVE_TTL_SECONDS, active)
    return _active_cache[1]


def fan_out_on_commit() -> None:
    """Called by ``realtime.publish``: fan the new events out once the transaction commits."""
    if webhooks_active():
        enqueue_on_commit(FAN_OUT_TASK)


# --- Fan-out ----------------------------------------------------------------------------------


def webhook_body(*, delivery_id: int, subscription_id: int, event: Event) -> dict:
    return {"delivery_id": delivery_id, "subscription_id": subscription_id, **event.as_public()}


def webhooks_fan_out() -> tuple[list[int], bool]:
    """Fan new events out to every active subscription. Returns the new deliveries' ids and
    whether events remain to look at (a full batch, or events held back until earlier ids are
    final): the caller runs it again shortly."""
    created: list[int] = []
    more = False
    for subscription_id in WebhookSubscription.objects.filter(active=True).values_list(
        "id", flat=True
    ):
        ids, pending = webhook_subscription_fan_out(subscription_id=subscription_id)
        created += ids
        more = more or pending
    return created, more


def webhook_subscription_fan_out(*, subscription_id: int) -> tuple[list[int], bool]:
    with transaction.atomic():
        subscription = (
            WebhookSubscription.objects.select_for_update()
            .select_related("user")
            .filter(pk=subscription_id, active=True)
            .first()
        )
        if subscription is None:
            return [], False
        events = realtime.feed_events_after(
            audiences=realtime.feed_audiences(subscription.user),
            after_id=subscription.last_event_id,
            limit=FAN_OUT_BATCH,
        )
        created = []
        now = timezone.now()
        wanted = set(subscription.event_types)
        for event in events:
            if event.type not in wanted:
                continue
            delivery = WebhookDelivery.objects.create(
                subscription=subscription,
                event_id=event.id,
                event_type=event.type,
                payload={},
                next_attempt_at=now,
                created_at=now,
                status_changed_at=now,
            )
            delivery.payload = webhook_body(
                delivery_id=delivery.pk, subscription_id=subscription.pk, event=event
            )
            delivery.save(update_fields=["payload"])
            created.append(delivery.pk)
            enqueue_on_commit(DELIVER_TASK, delivery.pk)
        if events:
            subscription.last_event_id = events[-1].id
            subscription.save(update_fields=["last_event_id"])
        more = len(events) == FAN_OUT_BATCH or _held_back(subscription)
    return created, more


def _held_back(subscription: WebhookSubscription) -> bool:
    """Events of the subscription's audience exist past its cursor (not final yet)."""
    audiences = realtime.feed_audiences(subscription.user)
    return Event.objects.filter(audience__in=audiences, id__gt=subscription.last_event_id).exists()


# --- Delivery ---------------------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter (half fixed, half random), capped."""
    ceiling = min(
        settings.WEBHOOK_RETRY_CAP_SECONDS,
        settings.WEBHOOK_RETRY_BASE_SECONDS * (2 ** max(0, attempts - 1)),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def webhook_deliver(*, delivery_id: int) -> float | None:
    """Send one due delivery. Returns the delay before the next attempt after a transient
    failure (the caller schedules it), else None (delivered, failed for good, or not ours)."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now,
    ).update(
        status=WebhookDelivery.Status.SENDING,
        attempts=F("attempts") + 1,
        status_changed_at=now,
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    headers = {EVENT_HEADER: delivery.event_type, DELIVERY_HEADER: str(delivery.pk)}
    try:
        result = signed_post(
            url=subscription.url,
            secret=subscription.secret,
            payload=delivery.payload,
            headers=headers,
        )
    except DeliveryError as exc:
        return _attempt_failed(delivery, exc)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            status_code=result.status_code,
            response_body=result.response_body,
            duration_ms=result.duration_ms,
            outcome="delivered",
        )
        now = timezone.now()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED,
            last_status_code=result.status_code,
            last_error="",
            delivered_at=now,
            status_changed_at=now,
            next_attempt_at=None,
        )
    return None


def _attempt_failed(delivery: WebhookDelivery, exc: DeliveryError) -> float | None:
    permanent = not exc.transient or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    delay = None if permanent else retry_delay(delivery.attempts)
    now = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            status_code=exc.status_code,
            error=exc.message[:500],
            response_body=exc.response_body[:500],
            duration_ms=exc.duration_ms,
            outcome="failed" if permanent else "retry",
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED if permanent else WebhookDelivery.Status.PENDING,
            last_status_code=exc.status_code,
            last_error=exc.message[:500],
            status_changed_at=now,
            next_attempt_at=None if permanent else now + timedelta(seconds=delay),
        )
    logger.warning(
        "webhook delivery %s attempt %s: %s (%s)",
        delivery.pk,
        delivery.attempts,
        exc.message,
        "gave up" if permanent else f"retry in {delay:.1f} s",
    )
    return delay


def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now (its log keeps the earlier attempts)."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status == WebhookDelivery.Status.SENDING:
            raise InvalidState(gettext("This delivery is being sent right now."))
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = now
        delivery.status_changed_at = now
        delivery.save(update_fields=["status", "next_attempt_at", "status_changed_at"])
        enqueue_on_commit(DELIVER_TASK, delivery.pk)
    return delivery


# --- The sweeper ------------------------------------------------------------------------------


def webhooks_sweep(*, limit: int = 500) -> list[int]:
    """Deliveries to hand to a worker again: due pending ones (their task was lost) and ones
    stuck in ``sending`` past ``WEBHOOK_STUCK_SECONDS`` (put back to pending first)."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.WEBHOOK_STUCK_SECONDS)
    WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.SENDING, status_changed_at__lt=stuck_before
    ).update(status=WebhookDelivery.Status.PENDING, next_attempt_at=now, status_changed_at=now)
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
