"""The event log and its doorbell.

``publish`` appends an Event row in the caller's transaction and, only after commit, rings the
audience's group on the channel layer with the event. The layer is at-most-once; consumers catch
up from the log (``events_for_replay``) on hello and on every heartbeat, so a lost ring only
delays an event, never loses it.
"""

import logging
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from .models import Event

logger = logging.getLogger(__name__)

SUPERVISORS = "supervisors"
REPLAY_LIMIT = 1000


def agent_audience(user_id: int) -> str:
    return f"agent.{user_id}"


def conversation_audience(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def service_audience(service_id: int) -> str:
    return f"service.{service_id}"


def publish(*, audiences: list[str] | str, type: str, payload: dict) -> list[Event]:
    """Append one event per audience now; ring the groups after the transaction commits."""
    if isinstance(audiences, str):
        audiences = [audiences]
    events = [
        Event.objects.create(audience=audience, type=type, payload=payload)
        for audience in dict.fromkeys(audiences)
    ]
    transaction.on_commit(lambda: ring(events))
    return events


def ring(events: list[Event]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for event in events:
        try:
            async_to_sync(layer.group_send)(
                event.audience, {"type": "event.ring", "event": event.as_message()}
            )
        except Exception:
            # The log is the record: a lost ring is recovered by the next heartbeat catch-up.
            logger.warning("realtime ring failed for event %s", event.id, exc_info=True)


def latest_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def replay_gap_too_old(last_event_id: int) -> bool:
    """True when events after ``last_event_id`` may have been pruned: the page must reload."""
    if last_event_id <= 0:
        return False
    oldest = Event.objects.aggregate(oldest=Min("id"))["oldest"]
    return oldest is not None and oldest > last_event_id + 1


def events_for_replay(*, audiences: list[str], last_event_id: int) -> list[Event]:
    """Events after ``last_event_id`` plus a short overlap before it.

    Ids are handed out at insert, not at commit, so an event with a smaller id can become visible
    after a larger one. The overlap (recent events at or below the last id) catches those; the
    caller drops ids the client already has.
    """
    overlap_since = timezone.now() - timedelta(seconds=settings.EVENT_REPLAY_OVERLAP_SECONDS)
    query = Q(id__gt=last_event_id) | Q(created_at__gte=overlap_since)
    return list(Event.objects.filter(query, audience__in=audiences).order_by("id")[:REPLAY_LIMIT])


def prune_events(*, older_than_hours: int | None = None) -> int:
    hours = settings.EVENT_RETENTION_HOURS if older_than_hours is None else older_than_hours
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted, _ = Event.objects.filter(created_at__lt=cutoff).delete()
    return deleted
