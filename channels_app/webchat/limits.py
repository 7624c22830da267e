"""Per-visitor rate limits: an atomic counter in Redis when REDIS_URL is set (shared by every
server process), else in Django's local-memory cache (one process, e.g. embedded mode)."""

import time
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches

KEY_PREFIX = "webchat:rate"


@lru_cache(maxsize=4)
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _window(now: float, window: int) -> int:
    return int(now // window)


def rate_limit_hit(
    *, key: str, limit: int | None = None, window_seconds: int | None = None
) -> bool:
    """Count one action for ``key`` in the current fixed window; True when over the limit."""
    limit = settings.WEBCHAT_RATE_LIMIT if limit is None else limit
    window = settings.WEBCHAT_RATE_WINDOW_SECONDS if window_seconds is None else window_seconds
    if limit <= 0:
        return False
    bucket = f"{settings.RATE_LIMIT_KEY_PREFIX}{KEY_PREFIX}:{key}:{_window(time.time(), window)}"
    if settings.REDIS_URL:
        client = _redis(settings.REDIS_URL)
        with client.pipeline(transaction=True) as pipe:
            pipe.incr(bucket)
            pipe.expire(bucket, window + 1)
            count, _ = pipe.execute()
    else:
        cache = caches["default"]
        cache.add(bucket, 0, timeout=window + 1)
        try:
            count = cache.incr(bucket)
        except ValueError:  # expired between add and incr
            cache.add(bucket, 1, timeout=window + 1)
            count = 1
    return int(count) > limit
