"""AgentConsumer at /ws/agent/: forwards the agent's events, replaying what the page missed.

Protocol (JSON):
  client -> {"type": "hello", "last_event_id": N, "seen": [ids the page has above N - overlap]}
  server -> {"type": "event", "event": {...}} for each missed event, in id order, then
            {"type": "ready", "last_event_id": M}; or {"type": "reload"} if the gap was pruned
  client -> {"type": "ping", "last_event_id": N}  (every ~20 s)
  server -> any events the doorbell failed to deliver, then {"type": "pong"}
  server -> {"type": "event", "event": {...}} live, as changes commit
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from contactcenter import realtime

from . import selectors, services

SENT_MEMORY = 5000


class AgentConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.audiences = [realtime.agent_audience(user.pk)]
        if user.is_staff:
            self.audiences.append(realtime.SUPERVISORS)
        # The queues of the agent's services: their pull lists follow them.
        service_ids = await database_sync_to_async(selectors.agent_service_ids)(user=user)
        self.audiences += [realtime.service_audience(service_id) for service_id in service_ids]
        self.sent: dict[int, None] = {}
        self.cursor = 0
        for audience in self.audiences:
            await self.channel_layer.group_add(audience, self.channel_name)
        await self.accept()
        await database_sync_to_async(services.agent_seen)(user_id=user.pk)

    async def disconnect(self, code: int) -> None:
        for audience in getattr(self, "audiences", []):
            await self.channel_layer.group_discard(audience, self.channel_name)

    async def receive_json(self, content: dict, **kwargs: object) -> None:
        kind = content.get("type")
        if kind == "hello":
            last_id = _as_int(content.get("last_event_id"))
            for seen_id in content.get("seen") or []:
                self._remember(_as_int(seen_id))
            self.cursor = max(self.cursor, last_id)
            if await database_sync_to_async(realtime.replay_gap_too_old)(last_id):
                await self.send_json({"type": "reload"})
                return
            await self._catch_up(last_id)
            await self.send_json({"type": "ready", "last_event_id": self.cursor})
        elif kind == "ping":
            await database_sync_to_async(services.agent_seen)(user_id=self.user.pk)
            await self._catch_up(self.cursor)
            await self.send_json({"type": "pong", "last_event_id": self.cursor})
        else:
            await self.send_json({"type": "error", "detail": f"unknown message type {kind!r}"})

    async def event_ring(self, message: dict) -> None:
        await self._send_event(message["event"])

    async def _catch_up(self, last_id: int) -> None:
        events = await database_sync_to_async(realtime.events_for_replay)(
            audiences=self.audiences, last_event_id=last_id
        )
        for event in events:
            await self._send_event(event.as_message())

    async def _send_event(self, event: dict) -> None:
        if event["id"] in self.sent:
            return
        self._remember(event["id"])
        self.cursor = max(self.cursor, event["id"])
        await self.send_json({"type": "event", "event": event})

    def _remember(self, event_id: int) -> None:
        self.sent[event_id] = None
        if len(self.sent) > SENT_MEMORY:
            self.sent.pop(next(iter(self.sent)))


def _as_int(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
