"""What every websocket of the project shares.

- :class:`SameOriginValidator`: a websocket is accepted only from a page of this very origin
  (scheme, host and port, as the browser sent them in ``Origin``), or from an origin listed in
  ``CSRF_TRUSTED_ORIGINS`` / ``WEBSOCKET_ALLOWED_ORIGINS``. Host names alone are not enough:
  another port or scheme of the same host is another origin.
- :class:`EventStreamConsumer`: a consumer that streams the event log to its socket exactly once
  and in order (``realtime.EventCursor``): hello with the page's cursor, replay, live on every
  ring, catch-up on every heartbeat, and a reload when the gap was pruned. Subclasses say which
  audiences they follow and may transform each event before it is sent.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from . import realtime

logger = logging.getLogger(__name__)

SESSION_CLOSED = 4401


def _origin_of(scope: dict) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin-1")
    return None


def _header(scope: dict, wanted: bytes) -> str:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return ""


def _normalized(origin: str) -> str | None:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"


def own_origin(scope: dict) -> str | None:
    """This server's origin as the browser sees it: the websocket's Host and scheme (or the
    proxy's ``X-Forwarded-Proto``/``X-Forwarded-Host`` when those are trusted)."""
    host = _header(scope, b"host")
    secure = scope.get("scheme") == "wss"
    if settings.TRUST_X_FORWARDED:
        forwarded_host = _header(scope, b"x-forwarded-host").split(",")[0].strip()
        host = forwarded_host or host
        proto = _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower()
        if proto:
            secure = proto in ("https", "wss")
    if not host:
        return None
    return _normalized(f"{'https' if secure else 'http'}://{host}")


def origin_allowed(scope: dict) -> bool:
    origin = _origin_of(scope)
    if not origin:
        return False
    normalized = _normalized(origin)
    if normalized is None:
        return False
    allowed = {own_origin(scope)}
    allowed.update(
        _normalized(extra)
        for extra in [*settings.CSRF_TRUSTED_ORIGINS, *settings.WEBSOCKET_ALLOWED_ORIGINS]
    )
    return normalized in allowed


class SameOriginValidator:
    """ASGI middleware: refuse (close 403) a websocket whose Origin is not an allowed one."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            logger.warning("websocket refused: origin %r not allowed", _origin_of(scope))
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 4403})
            return None
        return await self.application(scope, receive, send)


def session_group(session_key: str) -> str:
    """Channel-layer group of the sockets opened under one login session."""
    import hashlib

    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def revoke_session_sockets(session_key: str | None) -> None:
    """Close every socket of this login session (logout); after the caller's commit."""
    if session_key:
        realtime.ring_group(session_group(session_key), {"type": "session.revoked"})


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    """Streams the event log of ``self.audiences`` to the socket (see the module docstring).

    Protocol:
      client -> {"type": "hello", "cursor": C, "seen": [ids above C the page has]}
      server -> {"type": "event", "event": {...}, "cursor": C'} per missed event, in id order,
                then {"type": "ready", "cursor": C'}; or {"type": "reload"} if the gap was pruned
      client -> {"type": "ping"} every ~20 s
      server -> anything the doorbell missed, then {"type": "pong", "cursor": C'}
      server -> {"type": "event", ...} live, as changes commit
    The client keeps the last cursor it was given and the ids it got above it, and sends them in
    its next hello.
    """

    audiences: list[str]
    stream: realtime.EventCursor | None = None

    async def stream_join(self, audiences: list[str]) -> None:
        self.audiences = list(dict.fromkeys(audiences))
        for audience in self.audiences:
            await self.channel_layer.group_add(audience, self.channel_name)

    async def stream_leave(self) -> None:
        for audience in getattr(self, "audiences", []):
            await self.channel_layer.group_discard(audience, self.channel_name)

    async def stream_hello(self, content: dict) -> bool:
        """Start streaming from the client's cursor. False when the page must reload."""
        cursor = _as_int(content.get("cursor", content.get("last_event_id")))
        seen = [_as_int(i) for i in (content.get("seen") or [])[: realtime.EventCursor.SENT_MEMORY]]
        if await database_sync_to_async(realtime.replay_gap_too_old)(cursor):
            await self.send_json({"type": "reload"})
            return False
        self.stream = realtime.EventCursor(self.audiences, cursor=cursor, seen=seen)
        await self.stream_pump()
        return True

    async def stream_heartbeat(self) -> None:
        # Re-joining refreshes the membership's age: a socket that died without leaving lapses.
        for audience in self.audiences:
            await self.channel_layer.group_add(audience, self.channel_name)
        await self.stream_pump()

    async def stream_pump(self) -> None:
        if self.stream is None:
            return
        events = await database_sync_to_async(self.stream.pump)()
        if not events:
            return
        messages = await self.prepare_events([event.as_message() for event in events])
        for message in messages:
            await self.send_json({"type": "event", "event": message, "cursor": self.stream.cursor})

    async def prepare_events(self, events: list[dict]) -> list[dict]:
        """Hook: transform or drop events before they are sent (default: as they are)."""
        return events

    async def event_ring(self, message: dict) -> None:
        await self.stream_pump()

    @property
    def cursor(self) -> int:
        return self.stream.cursor if self.stream is not None else 0

    async def session_still_valid(self) -> bool:
        """The login session behind this socket still exists and is this user's (not logged out,
        not expired). Checked on every heartbeat; sockets of a logout are also closed at once
        (``revoke_session_sockets``)."""
        session = self.scope.get("session")
        user = self.scope.get("user")
        if session is None or user is None or not user.is_authenticated:
            return True
        return await database_sync_to_async(_session_belongs_to)(session.session_key, user.pk)

    async def session_revoked(self, message: dict) -> None:
        await self.close(code=SESSION_CLOSED)


def _session_belongs_to(session_key: str | None, user_id: int) -> bool:
    from importlib import import_module

    from django.contrib.auth import SESSION_KEY

    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    return str(store.load().get(SESSION_KEY)) == str(user_id)  # {} when gone or expired


def _as_int(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
