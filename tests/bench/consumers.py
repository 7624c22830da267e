"""The bare websocket consumer: joins one group, forwards each ring as it comes."""

from __future__ import annotations

import time

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .views import BARE_GROUP


class BareConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(BARE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(BARE_GROUP, self.channel_name)

    async def bench_ring(self, event: dict) -> None:
        await self.send_json({"tag": event["tag"], "sent": event["t"], "t": time.time()})
