"""AgentConsumer at /ws/agent/: the agent's (and supervisor's) events, exactly once, in order.

The protocol is ``contactcenter.ws.EventStreamConsumer``'s (hello with the page's cursor, replay,
live events, heartbeats). Besides: every heartbeat marks the agent's desktop as seen (presence),
and the socket is closed when its login session ends (logout, expiry).
"""

from channels.db import database_sync_to_async

from contactcenter import realtime
from contactcenter.ws import SESSION_CLOSED, EventStreamConsumer, session_group

from . import services
from .selectors import is_supervisor


class AgentConsumer(EventStreamConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=SESSION_CLOSED)
            return
        self.user = user
        audiences = [realtime.agent_audience(user.pk)]
        if is_supervisor(user):
            audiences.append(realtime.SUPERVISORS)
        await self.stream_join(audiences)
        session = self.scope.get("session")
        self.session_group = session_group(session.session_key) if session else None
        if self.session_group:
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        await self.accept()
        await database_sync_to_async(services.agent_seen)(user_id=user.pk)

    async def disconnect(self, code: int) -> None:
        await self.stream_leave()
        if getattr(self, "session_group", None):
            await self.channel_layer.group_discard(self.session_group, self.channel_name)

    async def receive_json(self, content: dict, **kwargs: object) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "hello":
            if await self.stream_hello(content):
                await self.send_json({"type": "ready", "cursor": self.cursor})
        elif kind == "ping":
            if not await self.session_still_valid():
                await self.close(code=SESSION_CLOSED)
                return
            await database_sync_to_async(services.agent_seen)(user_id=self.user.pk)
            if self.session_group:
                await self.channel_layer.group_add(self.session_group, self.channel_name)
            await self.stream_heartbeat()
            await self.send_json({"type": "pong", "cursor": self.cursor})
        else:
            await self.send_json({"type": "error", "detail": f"unknown message type {kind!r}"})
