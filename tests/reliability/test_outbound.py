"""The outbox in production: nothing sent twice, nothing lost — without status callbacks, with a
worker killed mid-send, across a Redis restart, and while the provider hangs."""

from __future__ import annotations

import time

from conversations.models import Channel, Message, MessageStatus, Offer
from tests.factories import ConversationFactory, InteractionFactory
from tests.support.services import AgentHttp, OwnRedis, SupervisedProcfile, worker_command
from tests.support.twilio_standin import signed_post

from .conftest import SMS_NUMBER, ready_agents


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def sms_conversation(agent, service, customer="+14155550100"):
    conversation = ConversationFactory(agent=agent, service=service)
    InteractionFactory(
        conversation=conversation,
        channel=Channel.SMS,
        customer_address=customer,
        service_address=SMS_NUMBER,
    )
    return conversation


def outbound_statuses(conversation) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, direction=Message.Direction.OUTBOUND)
        .order_by("id")
        .values_list("status", flat=True)
    )


def bodies_sent(twilio) -> list[str]:
    return [message["body"] for message in twilio.created_messages()]


def test_without_status_callbacks_each_reply_is_sent_once_and_ends_sent(stack, twilio, sms_service):
    """Twilio answers a create with ``queued`` and, with no callback URL, never says more: the
    sweeper asks Twilio (fetch by SID) and settles the message; it never sends it again."""
    (agent,) = ready_agents(sms_service, 1)
    conversation = sms_conversation(agent, sms_service)
    stack.worker(queues="outbound,maintenance")
    stack.beat()
    server = stack.server()

    desktop = AgentHttp(server.url, agent.username)
    for n in range(3):
        assert desktop.reply(conversation.pk, f"reply {n}").status_code == 201

    wait_until(
        lambda: outbound_statuses(conversation) == ["sent"] * 3,
        timeout=30,
        what="three replies settled as sent",
    )
    time.sleep(8)  # several more sweeps: a stuck message would be sent again by now
    assert sorted(bodies_sent(twilio)) == ["reply 0", "reply 1", "reply 2"]
    assert outbound_statuses(conversation) == ["sent"] * 3
    fetched = [r for r in twilio.requests if r.method == "GET"]
    assert fetched, "the sweeper asked Twilio about the messages"


def test_a_worker_killed_mid_send_does_not_send_twice(stack, twilio, sms_service):
    (agent,) = ready_agents(sms_service, 1)
    conversation = sms_conversation(agent, sms_service)
    worker = stack.worker(queues="outbound,maintenance")
    stack.beat()
    server = stack.server()
    desktop = AgentHttp(server.url, agent.username)
    twilio.hang_next(1, seconds=10)

    assert desktop.reply(conversation.pk, "in flight").status_code == 201
    wait_until(lambda: twilio.created_messages(), timeout=20, what="the send reaching Twilio")
    worker.kill()  # SIGKILL while Twilio has the message and the worker waits for the answer
    replacement = stack.worker(queues="outbound,maintenance")

    wait_until(
        lambda: outbound_statuses(conversation) == ["sent"],
        timeout=40,
        what="the message reconciled with Twilio and settled",
    )
    message = Message.objects.get(conversation=conversation, direction="outbound")
    assert message.provider_id == twilio.created_messages()[0]["sid"]
    assert desktop.reply(conversation.pk, "after the crash").status_code == 201
    wait_until(
        lambda: outbound_statuses(conversation) == ["sent", "sent"],
        timeout=30,
        what="the next reply through the new worker",
    )
    assert sorted(bodies_sent(twilio)) == ["after the crash", "in flight"]
    assert replacement.running


def test_a_redis_restart_loses_and_duplicates_nothing_and_workers_come_back(
    stack, twilio, sms_service, tmp_path
):
    redis = stack.add(OwnRedis(log_path=tmp_path / "redis.log"), "own Redis log")
    env = {"REDIS_URL": redis.url}
    (agent,) = ready_agents(sms_service, 1)
    conversation = sms_conversation(agent, sms_service)
    workers = SupervisedProcfile(
        lines={
            "outbound": worker_command(queues="outbound,maintenance", name="outbound"),
            "realtime": worker_command(queues="realtime", name="realtime"),
            "beat": f"celery -A contactcenter beat -s {tmp_path / 'beat-schedule'}",
        },
        env={**stack.env, **env},
        log_path=tmp_path / "supervised.log",
    )
    stack.add(workers, "supervised workers log")
    server = stack.server(**env)
    desktop = AgentHttp(server.url, agent.username)

    assert desktop.reply(conversation.pk, "before").status_code == 201
    wait_until(lambda: outbound_statuses(conversation) == ["sent"], timeout=30, what="before")

    redis.stop()
    # While Redis is down the reply is still accepted: the row is the outbox.
    assert desktop.reply(conversation.pk, "during").status_code == 201
    time.sleep(3)
    redis.start()
    assert desktop.reply(conversation.pk, "after").status_code == 201

    wait_until(
        lambda: outbound_statuses(conversation) == ["sent"] * 3,
        timeout=60,
        what="every reply sent after Redis came back",
    )
    time.sleep(5)
    assert sorted(bodies_sent(twilio)) == ["after", "before", "during"]
    health = wait_until(
        lambda: _healthy(server.url), timeout=40, what="workers and beat healthy again"
    )
    assert health["checks"]["worker:outbound"]["ok"]
    assert workers.running


def _healthy(base_url: str) -> dict | None:
    import requests

    try:
        response = requests.get(f"{base_url}/healthz", timeout=5)
    except requests.RequestException:
        return None
    return response.json() if response.status_code == 200 else None


def test_a_hanging_provider_does_not_delay_offers(stack, twilio, sms_service):
    """Sends hang for 20 s on the outbound worker; routing has its own worker, so a new
    customer's SMS is still offered at once."""
    busy, _free = ready_agents(sms_service, 2)
    conversation = sms_conversation(busy, sms_service)
    stack.worker(queues="outbound,maintenance")
    stack.worker(queues="realtime")
    server = stack.server()
    twilio.hang_next(3, seconds=20)
    desktop = AgentHttp(server.url, busy.username)
    for n in range(3):
        assert desktop.reply(conversation.pk, f"slow {n}").status_code == 201
    wait_until(lambda: twilio.created_messages(), timeout=10, what="a send hanging at Twilio")

    started = time.monotonic()
    result = signed_post(
        f"{server.url}/webhooks/twilio/sms/",
        {"MessageSid": "SM" + "f" * 32, "From": "+14155550199", "To": SMS_NUMBER, "Body": "hi"},
        auth_token=stack.env["TWILIO_AUTH_TOKEN"],
    )
    assert result.status == 200
    wait_until(
        lambda: Offer.objects.filter(interaction__customer_address="+14155550199").exists(),
        timeout=5,
        interval=0.02,
        what="the new customer's offer",
    )
    latency = time.monotonic() - started
    print(f"\nwebhook -> offer while every send hangs: {latency * 1000:.0f} ms")
    assert latency < 5
    # The sends were still hanging: the offer did not wait for them.
    assert MessageStatus.SENT not in outbound_statuses(conversation)
