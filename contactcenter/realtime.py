"""The event log and its doorbell.

``publish`` appends Event rows in the caller's transaction; after commit the audiences' groups are
rung on the channel layer, once per audience per transaction. A ring carries no event: it only
tells the sockets of an audience to read the log (``events_after``), so a ring that is lost,
late, duplicated or out of order changes nothing but timing. The log is the record.

Exactly once, in order, without gaps — the **settled cursor**. Ids are handed out at insert, not
at commit, so an event with a smaller id can become visible after a larger one. A socket therefore
does not resume from "the highest id it sent" (a late commit below it would be skipped for good);
it resumes from its *settled cursor*: the highest id below which every event has either committed
or been rolled back, because it was inserted more than ``EVENT_SETTLE_SECONDS`` ago (transactions
that append events are short; PostgreSQL sessions idle in a transaction longer than that are
ended). Events above the cursor are sent once each (the socket remembers which), in id order.

Order per conversation: every writer that appends events about a conversation holds that
conversation's row lock while it does (``select_for_update``), so two transactions on one
conversation commit in the order of their event ids, and a socket reading the log in id order
after each ring sees them in that order.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from .models import Event

logger = logging.getLogger(__name__)

SUPERVISORS = "supervisors"
REPLAY_LIMIT = 500
RING = "event.ring"
FEED_LIMIT = 1000

#: Every event type integrations may see or subscribe to, with its description; each app adds its
#: catalogue (``conversations.events``, ``contacts.events``) in ``AppConfig.ready()``.
_event_types: dict[str, str] = {}


def register_event_types(types: dict[str, str]) -> None:
    _event_types.update(types)


def event_types() -> dict[str, str]:
    return dict(sorted(_event_types.items()))


def agent_audience(user_id: int) -> str:
    return f"agent.{user_id}"


def conversation_audience(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def service_audience(service_id: int) -> str:
    return f"service.{service_id}"


def softphone_audience(user_id: int) -> str:
    """A call's signaling (SDP, ICE candidates) to the agent's desktop: an audience of the log that
    integrations never read (``feed_audiences``, webhooks see ``agent.<id>``)."""
    return f"softphone.{user_id}"


def activity_group(conversation_id: int) -> str:
    """Ephemeral signals about a conversation (the customer is typing) to the desktops that have
    it open; not an audience of the event log."""
    return f"activity.{conversation_id}"


# --- Writing ----------------------------------------------------------------------------------


def publish(*, audiences: list[str] | str, type: str, payload: dict) -> list[Event]:
    """Append one event per audience now; ring the audiences after the transaction commits."""
    if isinstance(audiences, str):
        audiences = [audiences]
    rows = [
        Event(audience=audience, type=type, payload=payload)
        for audience in dict.fromkeys(audiences)
    ]
    batch = _batch.get()
    if batch is None:
        events = Event.objects.bulk_create(rows)
    else:
        batch.extend(rows)
        events = rows
    ring_on_commit(event.audience for event in events)
    if any(_integrations_see(audience) for audience in audiences):
        from .webhooks import fan_out_on_commit

        fan_out_on_commit()
    return events


_batch: contextvars.ContextVar[list[Event] | None] = contextvars.ContextVar(
    "realtime_batch", default=None
)


@contextlib.contextmanager
def publishing_batched() -> Iterator[None]:
    """Append every event published inside the block in one INSERT as the block ends (a hot
    path's three or four events cost one statement, not one each).

    Use it just inside the transaction it belongs to (``with transaction.atomic(),
    publishing_batched():``): if the block raises, its events are dropped with the transaction.
    Until the block ends its events have no id, so nothing inside may read them back; and
    events appended inside a savepoint that is rolled back while the block goes on would still
    be written, so nothing inside may catch a database error and carry on (the inbound path and
    routing passes let every such error end their transaction).
    """
    rows: list[Event] = []
    token = _batch.set(rows)
    try:
        yield
    finally:
        _batch.reset(token)
    if rows:
        Event.objects.bulk_create(rows)


def _integrations_see(audience: str) -> bool:
    return audience == SUPERVISORS or audience.startswith("agent.")


class _Rings:
    """The audiences a transaction will ring when it commits (one ring per audience)."""

    __qualname__ = "realtime rings"

    def __init__(self) -> None:
        self.audiences: dict[str, None] = {}
        self.rang = False

    def __call__(self) -> None:
        self.rang = True
        ring(list(self.audiences))


def ring_on_commit(audiences: Iterable[str]) -> None:
    """Ring ``audiences`` once the current transaction commits (right away outside one)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        enclosing = set(connection.savepoint_ids)
        for savepoints, pending, _robust in connection.run_on_commit:
            if isinstance(pending, _Rings) and not pending.rang and savepoints <= enclosing:
                pending.audiences.update(dict.fromkeys(audiences))
                return
    rings = _Rings()
    rings.audiences.update(dict.fromkeys(audiences))
    transaction.on_commit(rings, robust=True)


def ring(audiences: list[str]) -> None:
    """Ring each audience's group: its sockets read the log. Never raises (the log is the
    record: a lost ring is recovered by the sockets' next heartbeat)."""
    if not audiences:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    messages = [(audience, {"type": RING, "audience": audience}) for audience in audiences]
    try:
        if _uses_redis(layer):
            _bell().send(layer, messages)
        else:
            async_to_sync(_group_send_all)(layer, messages)
    except Exception as exc:
        logger.warning("realtime: ring of %s failed (%s)", ",".join(audiences), exc)


def ring_group(group: str, message: dict) -> None:
    """Best-effort, after commit: for ephemeral signals that are not worth an event row (typing,
    "refresh this panel")."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            if _uses_redis(layer):
                _bell().send(layer, [(group, message)])
            else:
                async_to_sync(_group_send_all)(layer, [(group, message)])
        except Exception as exc:
            logger.warning("realtime: ring to %s failed (%s)", group, exc)

    transaction.on_commit(send, robust=True)


async def _group_send_all(layer, messages: list[tuple[str, dict]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)


def _uses_redis(layer) -> bool:
    return type(layer).__module__.startswith("channels_redis")


class _Bell:
    """Rings from synchronous code (views, tasks) through one event loop per process, kept
    running on a thread, so the channel layer's Redis connections are reused instead of opened
    per ring. Sends are fire-and-forget with a bound: a slow Redis never holds up a request."""

    TIMEOUT_SECONDS = 2.0

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self.loop.run_forever, name="realtime-bell", daemon=True)
        thread.start()

    def send(self, layer, messages: list[tuple[str, dict]]) -> None:
        future = asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(_group_send_all(layer, messages), self.TIMEOUT_SECONDS), self.loop
        )
        future.add_done_callback(_log_ring_failure)


def _log_ring_failure(future) -> None:
    with contextlib.suppress(Exception):
        exc = future.exception()
        if exc is not None:
            logger.warning("realtime: ring failed (%s: %s)", type(exc).__name__, exc)


_bell_lock = threading.Lock()
_bell_instance: _Bell | None = None


def _bell() -> _Bell:
    global _bell_instance
    with _bell_lock:
        if _bell_instance is None or _bell_instance.pid != os.getpid():  # new after a fork
            _bell_instance = _Bell()
        return _bell_instance


# --- Reading ----------------------------------------------------------------------------------


def settle_cutoff() -> datetime:
    """Events inserted before this instant have committed or rolled back."""
    return timezone.now() - timedelta(seconds=settings.EVENT_SETTLE_SECONDS)


def page_cursor() -> int:
    """The settled cursor of a page rendered now: its socket replays what came after it (a few
    seconds of events the page may already show; applying them again must be harmless)."""
    return (
        Event.objects.filter(created_at__lt=settle_cutoff())
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def latest_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def replay_gap_too_old(cursor: int) -> bool:
    """True when events after ``cursor`` may have been pruned: the page must reload."""
    if cursor <= 0:
        return False
    oldest = Event.objects.aggregate(oldest=Min("id"))["oldest"]
    return oldest is not None and oldest > cursor + 1


def events_after(*, audiences: list[str], after_id: int, limit: int = REPLAY_LIMIT) -> list[Event]:
    """The audiences' events with an id above ``after_id``, in id order (reads only those rows,
    by the (audience, id) index)."""
    return list(
        Event.objects.filter(audience__in=audiences, id__gt=after_id).order_by("id")[:limit]
    )


class EventCursor:
    """One socket's position in the log: sends each event of its audiences exactly once, in id
    order, and resumes from its settled cursor (see the module docstring).

    ``pump()`` reads the log after the cursor and returns the events not sent yet, advancing the
    cursor over those that have settled; call it on hello, on every ring and every heartbeat.
    """

    SENT_MEMORY = 20_000

    def __init__(self, audiences: list[str], *, cursor: int = 0, seen: Iterable[int] = ()) -> None:
        self.audiences = list(audiences)
        self.cursor = max(0, int(cursor))
        self.sent: set[int] = {int(i) for i in seen if int(i) > self.cursor}

    def pump(self, *, max_pages: int = 10) -> list[Event]:
        """Synchronous (call through ``database_sync_to_async``)."""
        fresh: list[Event] = []
        cutoff = settle_cutoff()
        after = self.cursor
        for _page in range(max_pages):
            rows = events_after(audiences=self.audiences, after_id=after)
            for event in rows:
                if event.id not in self.sent:
                    self.sent.add(event.id)
                    fresh.append(event)
            # Every id below an event inserted before the cutoff has settled.
            settled = [event.id for event in rows if event.created_at < cutoff]
            if settled:
                self._advance(max(settled))
            if len(rows) < REPLAY_LIMIT:
                break
            after = rows[-1].id
        return fresh

    def _advance(self, settled: int) -> None:
        if settled > self.cursor:
            self.cursor = settled
            self.sent = {i for i in self.sent if i > settled}
        if len(self.sent) > self.SENT_MEMORY:
            # Far more unsettled events than transactions can leave open: drop the oldest.
            self.sent = set(sorted(self.sent)[-self.SENT_MEMORY :])


def prune_events(*, older_than_hours: int | None = None) -> int:
    hours = settings.EVENT_RETENTION_HOURS if older_than_hours is None else older_than_hours
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted, _ = Event.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --- The event feed of integrations (API and webhooks) ----------------------------------------


def feed_audiences(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    """The one audience whose events a user's integrations see, so each fact appears once.

    Every event a supervisor's desktop shows is published to ``supervisors``; an agent's to
    ``agent.<id>``. A supervisor who also takes conversations gets those facts on both audiences:
    reading one of them only is what deduplicates them."""
    if not (user and user.is_authenticated and user.is_active):
        return []
    if user.is_staff:
        return [SUPERVISORS]
    return [agent_audience(user.pk)]


def _commit_horizon():
    """A time before which every event row that will ever commit is visible now.

    Ids are handed out at insert, not at commit: on PostgreSQL a transaction still open may
    commit an id lower than one already visible. Its events are created after it began, so events
    created before the oldest open transaction began (minus a margin for clocks) are final. SQLite
    runs one writing transaction at a time, so ids commit in order there: no horizon needed."""
    if connection.vendor != "postgresql":
        return None
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
            "AND backend_type = 'client backend'"
        )
        oldest = cursor.fetchone()[0]
    horizon = min(oldest, now) if oldest is not None else now
    return horizon - timedelta(seconds=settings.EVENT_FEED_CLOCK_MARGIN_SECONDS)


def feed_events_after(
    *, audiences: list[str], after_id: int, limit: int = FEED_LIMIT
) -> list[Event]:
    """Events of ``audiences`` with ids above ``after_id``, in id order, up to ``limit``: only
    events whose id can no longer be preceded by a late commit, so a reader that resumes after
    the last id it got never misses one."""
    if not audiences:
        return []
    query = Event.objects.filter(audience__in=audiences, id__gt=after_id)
    horizon = _commit_horizon()
    if horizon is not None:
        late = (
            Event.objects.filter(id__gt=after_id, created_at__gt=horizon)
            .order_by("id")
            .values_list("id", flat=True)
            .first()
        )
        if late is not None:
            query = query.filter(id__lt=late)
    return list(query.order_by("id")[:limit])
