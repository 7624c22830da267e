"""AgentConsumer at /ws/agent/: the agent's (and supervisor's) events, exactly once, in order —
the one socket of a desktop page.

The protocol is ``contactcenter.ws.EventStreamConsumer``'s (hello with the page's cursor, replay,
live events, heartbeats). Besides:
  client -> {"type": "watch", "conversation_id": N}  the conversation open on the page: its
            ephemeral activity (the customer typing) comes as {"type": "typing", ...}
  client -> {"type": "typing", "conversation_id": N, "typing": bool}  shown to the customer
  client -> {"type": "read", "conversation_id": N, "up_to": message id}  read receipts
Every heartbeat marks the agent's desktop as seen (presence), and the socket is closed when its
login session ends (logout, expiry).
"""

from channels.db import database_sync_to_async

from contactcenter import realtime
from contactcenter.exceptions import NotFound
from contactcenter.ws import SESSION_CLOSED, EventStreamConsumer, session_group

from . import selectors, services
from .ports import agent_activity_relays
from .selectors import conversation_get_for_agent, is_supervisor


class AgentConsumer(EventStreamConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=SESSION_CLOSED)
            return
        self.user = user
        audiences = [realtime.agent_audience(user.pk), realtime.softphone_audience(user.pk)]
        if await database_sync_to_async(is_supervisor)(user):
            audiences.append(realtime.SUPERVISORS)
        # The queues of the agent's services: their pull lists follow them.
        service_ids = await database_sync_to_async(selectors.agent_service_ids)(user=user)
        audiences += [realtime.service_audience(service_id) for service_id in service_ids]
        await self.stream_join(audiences)
        session = self.scope.get("session")
        self.session_group = session_group(session.session_key) if session else None
        if self.session_group:
            await self.channel_layer.group_add(self.session_group, self.channel_name)
        self.watching: int | None = None
        await self.accept()
        await database_sync_to_async(services.agent_seen)(user_id=user.pk)

    async def disconnect(self, code: int) -> None:
        await self.stream_leave()
        await self._unwatch()
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
        elif kind == "watch":
            await self._watch(_as_int(content.get("conversation_id")))
        elif kind == "typing":
            await self._relay(content, typing=bool(content.get("typing")))
        elif kind == "read":
            await self._relay(content, up_to=_as_int(content.get("up_to")))
        else:
            await self.send_json({"type": "error", "detail": f"unknown message type {kind!r}"})

    def _conversation(self, pk: int):
        try:
            return conversation_get_for_agent(user=self.user, pk=pk)
        except NotFound:
            return None

    async def _watch(self, conversation_id: int) -> None:
        await self._unwatch()
        if await database_sync_to_async(self._conversation)(conversation_id) is None:
            await self.send_json({"type": "error", "detail": "conversation not found"})
            return
        self.watching = conversation_id
        await self.channel_layer.group_add(
            realtime.activity_group(conversation_id), self.channel_name
        )

    async def _unwatch(self) -> None:
        if getattr(self, "watching", None):
            await self.channel_layer.group_discard(
                realtime.activity_group(self.watching), self.channel_name
            )
            self.watching = None

    async def _relay(self, content: dict, **activity: object) -> None:
        """The agent's typing or reading, to the channels of the conversation (only one the agent
        may open)."""
        pk = _as_int(content.get("conversation_id"))

        def send_to_channels() -> bool:
            conversation = self._conversation(pk)
            if conversation is None:
                return False
            for channel_relay in agent_activity_relays():
                if "typing" in activity:
                    channel_relay.typing(conversation=conversation, user=self.user, **activity)
                else:
                    channel_relay.read(conversation=conversation, user=self.user, **activity)
            return True

        if not await database_sync_to_async(send_to_channels)():
            await self.send_json({"type": "error", "detail": "conversation not found"})

    async def activity_typing(self, message: dict) -> None:
        """The customer is typing (ephemeral, from the channel's consumer)."""
        await self.send_json(
            {
                "type": "typing",
                "conversation_id": message.get("conversation_id"),
                "typing": bool(message.get("typing")),
            }
        )


def _as_int(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
