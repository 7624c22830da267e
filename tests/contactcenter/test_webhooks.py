"""Outbound webhooks: subscriptions per event type, signed deliveries fanned out from the event
log after commit, retries with backoff through the delivery outbox, the delivery log in admin
and redelivery. The receiver is a local HTTP server (tests/support/webhook_receiver.py)."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from contactcenter import tasks, webhooks
from contactcenter.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from contactcenter.outbound_http import compute_signature, verify_signature
from contacts.models import Identity
from conversations import events, services
from tests.support.api import api_for, error_of
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture(autouse=True)
def feed_settings(settings):
    # Events of the test's own (open) transaction are final for it: no clock margin needed.
    settings.EVENT_FEED_CLOCK_MARGIN_SECONDS = 0
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver listens on 127.0.0.1
    webhooks.subscriptions_changed()
    yield
    webhooks.subscriptions_changed()


def inbound_chat(service, visitor: str, body: str = "hi"):
    return services.inbound_receive(
        record=services.InboundRecord(
            channel="chat",
            service=service,
            identities=[(Identity.Kind.WEBCHAT, visitor)],
            provider_id=f"chat-{visitor}-{body}",
            body=body,
            customer_address=visitor,
        )
    ).message


def subscribe(user, url: str, types: list[str]) -> WebhookSubscription:
    return webhooks.webhook_subscription_create(user=user, name="CRM", url=url, event_types=types)


@pytest.mark.django_db
def test_a_subscription_receives_each_event_of_its_types_once_signed(
    supervisor, service_a, run_on_commit
):
    with WebhookReceiver() as receiver:
        subscription = subscribe(supervisor, receiver.url, [events.CONVERSATION_CREATED])
        message = run_on_commit(lambda: inbound_chat(service_a, "v1"))
        received = receiver.wait_for(1)

    assert len(received) == 1, "message.created and queue.changed were not subscribed to"
    request = received[0]
    body = request.json
    assert body["type"] == events.CONVERSATION_CREATED
    assert body["payload"]["conversation_id"] == message.conversation_id
    assert request.headers["X-CC-Event"] == events.CONVERSATION_CREATED
    delivery = WebhookDelivery.objects.get()
    assert request.headers["X-CC-Delivery"] == str(delivery.pk) == str(body["delivery_id"])
    assert WebhookReceiver.verified(request, subscription.secret)
    assert not WebhookReceiver.verified(request, "another secret")
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert list(delivery.log.values_list("outcome", "status_code")) == [("delivered", 200)]


@pytest.mark.django_db
def test_the_signature_covers_timestamp_and_body_and_expires():
    body = b'{"a":1}'
    signature = compute_signature("s3cret", 1_700_000_000, body)
    ok = {"secret": "s3cret", "timestamp": "1700000000", "body": body, "signature": signature}
    assert verify_signature(**ok, now=1_700_000_010)
    assert not verify_signature(**{**ok, "body": b'{"a":2}'}, now=1_700_000_010)
    assert not verify_signature(**{**ok, "timestamp": "1700000001"}, now=1_700_000_010)
    assert not verify_signature(**ok, now=1_700_000_000 + 301)  # a replayed old request


@pytest.mark.django_db
def test_an_agents_subscription_only_gets_what_the_agent_may_see(
    agent_a, agent_b, service_a, run_on_commit
):
    with WebhookReceiver() as receiver:
        subscribe(agent_b, receiver.url, [events.MESSAGE_CREATED, events.OFFER_CREATED])
        subscribe(agent_a, receiver.url, [events.OFFER_CREATED])
        run_on_commit(lambda: inbound_chat(service_a, "v1"))  # offered to agent A
        received = receiver.wait_for(1)

    assert [r.json["type"] for r in received] == [events.OFFER_CREATED]
    assert WebhookDelivery.objects.get().subscription.user == agent_a


@pytest.mark.django_db
def test_a_failing_endpoint_is_retried_with_backoff_until_it_answers(
    supervisor, service_a, run_on_commit, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    with WebhookReceiver(answers=[503, 500, 200]) as receiver:
        subscribe(supervisor, receiver.url, [events.CONVERSATION_CREATED])
        run_on_commit(lambda: inbound_chat(service_a, "v1"))
        receiver.wait_for(1)
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == WebhookDelivery.Status.PENDING
        first_due = delivery.next_attempt_at
        assert first_due > timezone.now() + timedelta(seconds=4)  # backoff, not at once

        # Nothing is sent again before it is due.
        assert tasks.webhooks_sweep() == 0
        with time_machine.travel(first_due + timedelta(seconds=1)):
            run_on_commit(tasks.webhooks_sweep)
        receiver.wait_for(2)
        delivery.refresh_from_db()
        second_gap = delivery.next_attempt_at - first_due
        with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
            run_on_commit(tasks.webhooks_sweep)
        received = receiver.wait_for(3)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 3
    assert second_gap > timedelta(seconds=5)
    assert list(delivery.log.values_list("number", "outcome", "status_code")) == [
        (1, "retry", 503),
        (2, "retry", 500),
        (3, "delivered", 200),
    ]
    assert len({r.headers["X-CC-Delivery"] for r in received}) == 1  # one delivery, 3 tries


@pytest.mark.django_db
def test_a_permanent_refusal_is_not_retried(supervisor, service_a, run_on_commit):
    with WebhookReceiver(answers=[410]) as receiver:
        subscribe(supervisor, receiver.url, [events.CONVERSATION_CREATED])
        run_on_commit(lambda: inbound_chat(service_a, "v1"))
        receiver.wait_for(1)
        with time_machine.travel(timezone.now() + timedelta(hours=1)):
            assert run_on_commit(tasks.webhooks_sweep) == 0

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.last_status_code == 410
    assert list(delivery.log.values_list("outcome", flat=True)) == ["failed"]


@pytest.mark.django_db
def test_transient_failures_stop_after_the_last_attempt(
    supervisor, service_a, run_on_commit, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with WebhookReceiver(answers=[500]) as receiver:
        subscribe(supervisor, receiver.url, [events.CONVERSATION_CREATED])
        run_on_commit(lambda: inbound_chat(service_a, "v1"))
        receiver.wait_for(1)
        for _ in range(3):
            with time_machine.travel(timezone.now() + timedelta(hours=1)):
                run_on_commit(tasks.webhooks_sweep)
        assert len(receiver.requests) == 2

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert list(delivery.log.values_list("outcome", flat=True)) == ["retry", "failed"]


@pytest.mark.django_db
def test_an_unreachable_endpoint_is_a_transient_failure(supervisor, service_a, run_on_commit):
    with WebhookReceiver() as receiver:
        url = receiver.url
    subscribe(supervisor, url, [events.CONVERSATION_CREATED])  # nobody listens there any more
    run_on_commit(lambda: inbound_chat(service_a, "v1"))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.log.get().outcome == "retry"
    assert "ConnectionError" in delivery.last_error


@pytest.mark.django_db
def test_a_delivery_stuck_in_sending_is_sent_again_by_the_sweeper(
    supervisor, service_a, run_on_commit, settings
):
    with WebhookReceiver() as receiver:
        subscribe(supervisor, receiver.url, [events.CONVERSATION_CREATED])
        run_on_commit(lambda: inbound_chat(service_a, "v1"))
        receiver.wait_for(1)
        delivery = WebhookDelivery.objects.get()
        # A worker that died mid-request left it "sending".
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.SENDING)
        assert run_on_commit(tasks.webhooks_sweep) == 0  # not stuck long enough yet
        with time_machine.travel(
            timezone.now() + timedelta(seconds=settings.WEBHOOK_STUCK_SECONDS + 5)
        ):
            assert run_on_commit(tasks.webhooks_sweep) == 1
        assert len(receiver.wait_for(2)) == 2


@pytest.mark.django_db
def test_fan_out_twice_creates_each_delivery_once(supervisor, service_a, run_on_commit):
    with WebhookReceiver() as receiver:
        subscribe(supervisor, receiver.url, [events.MESSAGE_CREATED])
        run_on_commit(lambda: inbound_chat(service_a, "v1"))
        run_on_commit(webhooks.webhooks_fan_out)
        run_on_commit(tasks.webhooks_fan_out)
        receiver.wait_for(1)
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.requests) == 1


# --- The delivery log and redelivery in admin -------------------------------------------------


@pytest.mark.django_db
def test_the_delivery_log_in_admin_shows_every_attempt_and_redelivers(
    admin_client, supervisor, service_a, run_on_commit
):
    with WebhookReceiver(answers=[500, 200]) as receiver:
        subscribe(supervisor, receiver.url, [events.CONVERSATION_CREATED])
        run_on_commit(lambda: inbound_chat(service_a, "v1"))
        delivery = WebhookDelivery.objects.get()

        page = admin_client.get(
            reverse("admin:contactcenter_webhookdelivery_change", args=[delivery.pk])
        )
        assert page.status_code == 200
        assert "retry" in page.content.decode() and "500" in page.content.decode()

        changelist = reverse("admin:contactcenter_webhookdelivery_changelist")
        response = run_on_commit(
            lambda: admin_client.post(
                changelist, {"action": "redeliver", "_selected_action": [delivery.pk]}
            )
        )
        assert response.status_code == 302
        receiver.wait_for(2)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert list(delivery.log.values_list("outcome", flat=True)) == ["retry", "delivered"]
    listing = admin_client.get(changelist).content.decode()
    assert events.CONVERSATION_CREATED in listing


@pytest.mark.django_db
def test_a_subscription_is_made_in_admin_with_its_event_types(admin_client, supervisor):
    url = reverse("admin:contactcenter_webhooksubscription_add")
    response = admin_client.post(
        url,
        {
            "name": "CRM",
            "url": "https://crm.example.com/hook",
            "user": supervisor.pk,
            "event_types": [events.MESSAGE_CREATED, events.CONVERSATION_CLOSED],
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = WebhookSubscription.objects.get()
    assert subscription.event_types == [events.MESSAGE_CREATED, events.CONVERSATION_CLOSED]
    assert subscription.secret.startswith("whsec_")
    unknown = admin_client.post(
        url,
        {"name": "X", "url": "https://x.example/", "user": supervisor.pk, "event_types": ["nope"]},
    )
    assert unknown.status_code == 200 and WebhookSubscription.objects.count() == 1


# --- The webhooks API -------------------------------------------------------------------------


@pytest.mark.django_db
def test_subscriptions_through_the_api_show_the_secret_once(supervisor, agent_b):
    api = api_for(supervisor, scopes=["webhooks"])
    created = api.post(
        "/api/v1/webhooks/",
        {"name": "CRM", "url": "https://crm.example.com/hook", "event_types": ["message.created"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"] == WebhookSubscription.objects.get().secret
    detail = api.get(f"/api/v1/webhooks/{body['id']}/").json()
    assert "secret" not in detail
    assert "secret" not in api.get("/api/v1/webhooks/").json()["results"][0]
    rotated = api.post(f"/api/v1/webhooks/{body['id']}/rotate-secret/")
    assert rotated.json()["secret"] not in ("", body["secret"])
    # Another user's subscription does not exist for them.
    assert api_for(agent_b).get(f"/api/v1/webhooks/{body['id']}/").status_code == 404
    assert api_for(agent_b).delete(f"/api/v1/webhooks/{body['id']}/").status_code == 404


@pytest.mark.django_db
def test_the_webhooks_api_needs_the_webhooks_scope(supervisor):
    response = api_for(supervisor, scopes=["read", "write"]).get("/api/v1/webhooks/")
    assert response.status_code == 403
    assert "webhooks" in error_of(response)["message"]


@pytest.mark.django_db
def test_bad_subscriptions_are_400s_naming_the_field(supervisor, settings):
    api = api_for(supervisor, scopes=["webhooks"])
    unknown = api.post(
        "/api/v1/webhooks/",
        {"name": "CRM", "url": "https://crm.example.com/h", "event_types": ["no.such"]},
        format="json",
    )
    assert unknown.status_code == 400 and list(error_of(unknown)["fields"]) == ["event_types"]
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    internal = api.post(
        "/api/v1/webhooks/",
        {"name": "CRM", "url": "http://127.0.0.1:6379/", "event_types": ["message.created"]},
        format="json",
    )
    assert internal.status_code == 400 and list(error_of(internal)["fields"]) == ["url"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_a_private_address_is_refused_at_delivery_time_too(
    supervisor, service_a, run_on_commit, settings
):
    with WebhookReceiver() as receiver:
        subscribe(supervisor, receiver.url, [events.CONVERSATION_CREATED])
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False  # e.g. DNS now points inside
        run_on_commit(lambda: inbound_chat(service_a, "v1"))
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert "non-public" in delivery.last_error


@pytest.mark.django_db
def test_the_delivery_log_and_redelivery_through_the_api(supervisor, service_a, run_on_commit):
    with WebhookReceiver(answers=[500, 200]) as receiver:
        subscription = subscribe(supervisor, receiver.url, [events.CONVERSATION_CREATED])
        run_on_commit(lambda: inbound_chat(service_a, "v1"))
        api = api_for(supervisor, scopes=["webhooks"])
        log = api.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/").json()["results"]
        assert [(d["status"], [a["outcome"] for a in d["log"]]) for d in log] == [
            ("pending", ["retry"])
        ]
        response = run_on_commit(
            lambda: api.post(
                f"/api/v1/webhooks/{subscription.pk}/deliveries/{log[0]['id']}/redeliver/"
            )
        )
        assert response.status_code == 202
        receiver.wait_for(2)
    assert WebhookAttempt.objects.filter(outcome="delivered").count() == 1
    event_types = api.get("/api/v1/webhooks/event-types/").json()
    assert {
        "type": events.MESSAGE_CREATED,
        "description": events.CATALOGUE[events.MESSAGE_CREATED],
    } in event_types
    assert "contact.merged" in {t["type"] for t in event_types}


@pytest.mark.django_db
def test_event_types_of_every_catalogue_are_known(settings):
    from contactcenter import realtime
    from contacts import events as contact_events

    known = realtime.event_types()
    assert set(events.ALL) <= set(known)
    assert set(contact_events.CATALOGUE) <= set(known)


@pytest.mark.django_db
def test_deliveries_are_json_of_the_event(supervisor, service_a, run_on_commit):
    with WebhookReceiver() as receiver:
        subscribe(supervisor, receiver.url, [events.MESSAGE_CREATED])
        message = run_on_commit(lambda: inbound_chat(service_a, "v1", body="Hola ñ"))
        request = receiver.wait_for(1)[0]
    assert request.headers["Content-Type"].startswith("application/json")
    body = json.loads(request.body.decode("utf-8"))
    assert body["payload"]["message_id"] == message.pk
    assert set(body) == {"delivery_id", "subscription_id", "id", "type", "payload", "at"}


@pytest.mark.django_db
def test_a_new_subscription_starts_with_the_next_event(supervisor, service_a, run_on_commit):
    run_on_commit(lambda: inbound_chat(service_a, "v1"))  # before anyone subscribed
    with WebhookReceiver() as receiver:
        subscribe(supervisor, receiver.url, [events.MESSAGE_CREATED])
        run_on_commit(webhooks.webhooks_fan_out)
        assert WebhookDelivery.objects.count() == 0
        message = run_on_commit(lambda: inbound_chat(service_a, "v2"))
        received = receiver.wait_for(1)
    assert [r.json["payload"]["message_id"] for r in received] == [message.pk]


@pytest.mark.django_db
def test_the_readmes_verification_snippet_accepts_our_signatures(
    supervisor, service_a, run_on_commit
):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    snippet = next(
        block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "def verify" in block
    )
    namespace: dict = {}
    exec(snippet, namespace)  # the integrator's code, as documented
    with WebhookReceiver() as receiver:
        subscription = subscribe(supervisor, receiver.url, [events.CONVERSATION_CREATED])
        run_on_commit(lambda: inbound_chat(service_a, "v1"))
        request = receiver.wait_for(1)[0]
    args = (request.headers["X-CC-Timestamp"], request.body, request.headers["X-CC-Signature"])
    assert namespace["verify"](subscription.secret, *args)
    assert not namespace["verify"]("whsec_wrong", *args)
