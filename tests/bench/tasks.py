"""The no-op Celery task of the outbound baseline: counts itself in Redis and returns."""

from __future__ import annotations

import redis
from celery import shared_task
from django.conf import settings

_client: redis.Redis | None = None


@shared_task(name="bench.noop")
def noop(run: str) -> None:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    _client.incr(f"bench:noop:{run}")
