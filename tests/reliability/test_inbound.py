"""Inbound in production: concurrent first messages of one new customer, PostgreSQL going away
under traffic, Redis down when a webhook or a reply commits, enough database connections."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from django.db import connection

from contacts.models import Contact, Identity
from conversations.models import Conversation, Message, MessageStatus, Offer
from tests.conftest import TWILIO_TEST_TOKEN
from tests.support.live_server import REPO_ROOT, AsgiServer, free_port
from tests.support.services import (
    AgentHttp,
    OwnPostgres,
    OwnRedis,
    SupervisedProcfile,
    worker_command,
)
from tests.support.twilio_standin import signed_post

from .conftest import SMS_NUMBER, ready_agents
from .test_outbound import outbound_statuses, sms_conversation, wait_until


def post_inbound(url: str, *, sid: str, phone: str, body: str = "hello", timeout: float = 30):
    return signed_post(
        f"{url}/webhooks/twilio/sms/",
        {"MessageSid": sid, "From": phone, "To": SMS_NUMBER, "Body": body},
        auth_token=TWILIO_TEST_TOKEN,
        timeout=timeout,
    )


def test_simultaneous_first_messages_of_a_new_customer_make_one_contact_and_conversation(
    stack, sms_service
):
    stack.worker()
    server = stack.server()
    phone = "+14155559876"
    barrier = threading.Barrier(10)

    def first_message(n: int):
        barrier.wait()
        return post_inbound(server.url, sid=f"SM{n:032x}", phone=phone, body=f"hi {n}")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(first_message, range(10)))

    assert [r.status for r in results] == [200] * 10
    assert Identity.objects.filter(kind="phone", value=phone).count() == 1
    contact = Identity.objects.get(kind="phone", value=phone).contact
    assert Contact.objects.count() == 1, "no contact left without the phone"
    assert Conversation.objects.filter(contact=contact).count() == 1
    assert Message.objects.filter(conversation__contact=contact).count() == 10


def test_concurrent_webhooks_never_run_out_of_database_connections(stack, sms_service):
    stack.worker()
    server = stack.server()

    test_database = connection.settings_dict["NAME"]

    def count_connections() -> int:
        with psycopg.connect(os.environ["DATABASE_URL"]) as db:
            return db.execute(
                "select count(*) from pg_stat_activity where datname = %s",
                (test_database,),
            ).fetchone()[0]

    jobs = [(f"SM{n:032x}", f"+1415888{n:04d}") for n in range(200)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(
            pool.map(lambda job: post_inbound(server.url, sid=job[0], phone=job[1]), jobs)
        )

    assert [r.status for r in results if r.status != 200] == []
    assert Message.objects.filter(direction="inbound").count() == 200
    # The server holds a bounded pool (DATABASE_POOL_MAX_SIZE per process), not one per request.
    assert count_connections() <= 30


def test_postgresql_stopped_under_traffic_never_acknowledges_a_webhook_it_did_not_store(
    stack, tmp_path
):
    postgres = OwnPostgres(log_path=tmp_path / "postgres.log")
    stack.request.addfinalizer(postgres.remove)
    postgres.start()
    postgres.create_database("faults")
    database_url = postgres.url("faults")
    # This server runs on the test's own PostgreSQL only (tasks in-process, no Redis needed).
    env = {
        key: value
        for key, value in stack.env.items()
        if key not in ("REDIS_URL", "CELERY_KEY_PREFIX", "CHANNEL_LAYER_PREFIX")
    }
    env["DATABASE_URL"] = database_url
    setup = (
        "from conversations.models import Service; from channels_app.models import EntryPoint; "
        "s = Service.objects.create(name='Faults', offer_timeout_seconds=600); "
        f"EntryPoint.objects.create(name='SMS', channel='sms', address='{SMS_NUMBER}', service=s)"
    )
    for command in (["migrate", "--noinput"], ["shell", "-c", setup]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=REPO_ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    server = stack.add(
        AsgiServer(port=free_port(), env=env, log_path=tmp_path / "asgi.log"), "ASGI server log"
    )
    acknowledged: dict[str, int] = {}
    failures: list[int] = []
    stop = threading.Event()

    def twilio_like_sender(worker: int) -> None:
        n = 0
        while not stop.is_set():
            sid = f"SM{worker:04d}{n:028x}"
            n += 1
            for _attempt in range(200):  # Twilio retries a failed webhook
                try:
                    result = post_inbound(
                        server.url, sid=sid, phone=f"+1415999{worker:04d}", timeout=10
                    )
                except OSError:
                    result = None
                if result is not None and result.status == 200:
                    acknowledged[sid] = acknowledged.get(sid, 0) + 1
                    break
                failures.append(result.status if result is not None else 0)
                time.sleep(0.3)
            time.sleep(0.05)

    senders = [threading.Thread(target=twilio_like_sender, args=(w,)) for w in range(4)]
    for sender in senders:
        sender.start()
    time.sleep(3)
    postgres.stop()
    time.sleep(10)
    postgres.start()
    time.sleep(6)
    stop.set()
    for sender in senders:
        sender.join(timeout=120)

    assert failures, "the outage was seen by the senders"
    assert all(status == 0 or status >= 500 for status in failures)
    with psycopg.connect(database_url) as db:
        stored = dict(
            db.execute(
                "select provider_id, count(*) from conversations_message"
                " where direction = 'inbound' group by provider_id"
            ).fetchall()
        )
    assert set(acknowledged) <= set(stored), "a 200 was answered for a webhook never stored"
    assert set(stored.values()) == {1}, "a retried webhook was stored twice"
    assert len(acknowledged) == len(stored) > 0


def test_redis_down_at_commit_answers_success_and_recovers_everything_after(
    stack, twilio, sms_service, tmp_path
):
    """The webhook and the reply commit while Redis is down: no 500 after the commit; the enqueue
    failure is logged, and the sweeps route the customer and send the reply once Redis is back."""
    redis = stack.add(OwnRedis(log_path=tmp_path / "redis.log"), "own Redis log")
    env = {"REDIS_URL": redis.url}
    busy, _other = ready_agents(sms_service, 2)
    conversation = sms_conversation(busy, sms_service)
    stack.add(
        SupervisedProcfile(
            lines={
                "worker": worker_command(queues="realtime,outbound,maintenance", name="all"),
                "beat": f"celery -A contactcenter beat -s {tmp_path / 'beat-schedule'}",
            },
            env={**stack.env, **env},
            log_path=tmp_path / "supervised.log",
        ),
        "supervised worker log",
    )
    server = stack.server(**env)
    desktop = AgentHttp(server.url, busy.username)

    redis.stop()
    webhook = post_inbound(server.url, sid="SM" + "a" * 32, phone="+14155554321")
    reply = desktop.reply(conversation.pk, "sent while Redis was down")
    assert webhook.status == 200
    assert reply.status_code == 201
    assert Message.objects.filter(provider_id="SM" + "a" * 32).exists()
    assert "the periodic sweep will recover it" in server.log_text()
    assert "Internal Server Error" not in server.log_text()

    redis.start()
    wait_until(
        lambda: Offer.objects.filter(interaction__customer_address="+14155554321").exists(),
        timeout=60,
        what="the customer routed by the sweep",
    )
    wait_until(
        lambda: outbound_statuses(conversation) == [MessageStatus.SENT],
        timeout=60,
        what="the reply sent by the sweep",
    )
    assert [m["body"] for m in twilio.created_messages()] == ["sent while Redis was down"]
