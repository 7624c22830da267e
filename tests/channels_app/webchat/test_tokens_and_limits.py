import os
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from channels_app.webchat import limits
from channels_app.webchat.tokens import (
    SALT,
    InvalidToken,
    visitor_token_issue,
    visitor_token_read,
)
from tests.conftest import IN_CI


def test_a_token_names_its_visitor_and_entry_point():
    issued = visitor_token_issue(entry_point_id=7)
    assert issued.visitor_id.isalnum() and len(issued.visitor_id) == 32
    assert visitor_token_read(issued.token, entry_point_id=7).visitor_id == issued.visitor_id


@pytest.mark.parametrize(
    "token",
    [
        "",
        None,
        "garbage",
        signing.dumps({"e": 7, "v": "a" * 32}, key="another-key", salt=SALT),
        signing.dumps({"e": 7, "v": "a" * 32}, salt="another-salt"),
        signing.dumps({"e": 7, "v": "../../etc"}, salt=SALT),
        signing.dumps(["e", 7], salt=SALT),
    ],
)
def test_forged_or_malformed_tokens_are_refused(token):
    with pytest.raises(InvalidToken):
        visitor_token_read(token, entry_point_id=7)


def test_a_token_is_bound_to_its_entry_point():
    token = visitor_token_issue(entry_point_id=7).token
    with pytest.raises(InvalidToken):
        visitor_token_read(token, entry_point_id=8)


def test_a_token_expires_and_a_reissued_one_slides(settings):
    settings.WEBCHAT_TOKEN_MAX_AGE_SECONDS = 3600
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = visitor_token_issue(entry_point_id=7)
    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        renewed = visitor_token_issue(entry_point_id=7, visitor_id=first.visitor_id)
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        with pytest.raises(InvalidToken):
            visitor_token_read(first.token, entry_point_id=7)
        assert visitor_token_read(renewed.token, entry_point_id=7).visitor_id == first.visitor_id


def hammer(key: str, attempts: int, workers: int = 8) -> int:
    """``attempts`` concurrent hits; how many were under the limit."""
    allowed = []
    lock = threading.Lock()
    barrier = threading.Barrier(workers)

    def run(count: int) -> None:
        barrier.wait()
        for _ in range(count):
            ok = not limits.rate_limit_hit(key=key, limit=10, window_seconds=60)
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=run, args=(attempts // workers,)) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(allowed)


def test_local_counter_allows_exactly_the_limit_under_concurrency(settings):
    settings.REDIS_URL = ""
    assert hammer(f"test-local-{os.getpid()}-{timezone.now().timestamp()}", 40) == 10


def test_redis_counter_allows_exactly_the_limit_across_clients(settings):
    url = os.environ.get("REDIS_URL", "")
    if not url:
        if IN_CI:
            pytest.fail("REDIS_URL is required under CI")
        pytest.skip("needs REDIS_URL")
    settings.REDIS_URL = url
    key = f"test-redis-{os.getpid()}-{timezone.now().timestamp()}"
    try:
        assert hammer(key, 40) == 10
    finally:
        client = limits._redis(url)
        for bucket in client.scan_iter(f"{limits.KEY_PREFIX}:{key}:*"):
            client.delete(bucket)
