"""Issue 16, acceptance 4, in real Chromium against a live server (and a Celery worker under
Redis): an external system posts an inbound message through the API channel, an agent replies in
the desktop, and the system's endpoint (a local HTTP server) receives the signed reply once; a
webhook endpoint that fails gets retries, and the delivery log in admin shows them."""

import re
import time

import pytest
import requests
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from channels_app.models import ApiChannelSettings
from contactcenter import webhooks
from contactcenter.models import WebhookDelivery
from contactcenter.tokens import api_token_create
from conversations import events
from conversations.models import Channel, Conversation, Message, MessageStatus
from tests.factories import EntryPointFactory, UserFactory
from tests.support.browser import close_context, login, wait_until_live
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_server_env(live_server_env):
    """Quick retries, and (embedded mode) delayed jobs on the server's timers."""
    return {
        **live_server_env,
        "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
        "WEBHOOK_RETRY_CAP_SECONDS": "1",
        "EMBEDDED_DELAYED_JOBS": "1",
    }


@pytest.fixture
def reply_endpoint():
    """The external system's reply URL."""
    with WebhookReceiver(reply={"id": "ext-reply-1"}) as receiver:
        yield receiver


@pytest.fixture
def failing_hook(supervisor):
    """A CRM's webhook endpoint that fails twice before it answers; subscribed before the server
    starts, so every server process knows of it from its first event."""
    with WebhookReceiver(answers=[500, 503, 200], script_per="X-CC-Delivery") as receiver:
        subscription = webhooks.webhook_subscription_create(
            user=supervisor, name="CRM", url=receiver.url, event_types=[events.MESSAGE_CREATED]
        )
        yield receiver, subscription


@pytest.fixture
def bridge(service_a, reply_endpoint):
    entry_point = EntryPointFactory(
        name="Messenger bridge", channel=Channel.API, address="bridge", service=service_a
    )
    return ApiChannelSettings.objects.create(entry_point=entry_point, reply_url=reply_endpoint.url)


@pytest.fixture
def system_key(db):
    user = UserFactory(username="bridge-system")
    user.user_permissions.add(Permission.objects.get(codename="post_api_inbound"))
    _token, key = api_token_create(user=user, name="Messenger bridge", scopes=["write"])
    return key


def test_an_api_channel_message_is_answered_in_the_desktop_and_the_reply_posted_signed_once(
    failing_hook, bridge, system_key, reply_endpoint, agent_page, asgi_server, browser
):
    hook, subscription = failing_hook
    page = agent_page

    # The external system posts its customer's message.
    posted = requests.post(
        f"{asgi_server.url}/api/v1/channels/api/bridge/messages/",
        json={
            "message_id": "tg-99812",
            "identities": [{"kind": "messenger", "value": "telegram:48213"}],
            "first_name": "Ana",
            "body": "Where is my order?",
        },
        headers={"Authorization": f"Token {system_key}", "Idempotency-Key": "tg-99812"},
        timeout=30,
    )
    assert posted.status_code == 201, posted.text

    # The agent gets the offer live, accepts it and replies in the desktop.
    offer = page.locator("#conversation-list .offer")
    expect(offer).to_have_count(1)
    offer.locator("button.accept").click()
    page.wait_for_url(re.compile(re.escape(asgi_server.url) + r"/conversations/\d+/$"))
    wait_until_live(page)
    expect(page.locator("#timeline .message.inbound .body")).to_have_text("Where is my order?")
    page.fill("#composer-body", "It ships today.")
    page.click("#composer button[type=submit]")
    outbound = page.locator("#timeline .message.outbound")
    expect(outbound).to_have_count(1)
    expect(outbound.locator('.status[data-status="sent"]')).to_be_visible()

    # The system's endpoint received the reply once, signed with the channel's secret.
    received = reply_endpoint.wait_for(1)
    time.sleep(2)  # anything sent twice would have arrived by now
    assert len(reply_endpoint.requests) == 1
    request = received[0]
    assert WebhookReceiver.verified(request, bridge.secret)
    conversation = Conversation.objects.get(pk=posted.json()["conversation_id"])
    reply = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    assert request.json["message_id"] == reply.pk
    assert (request.json["to"], request.json["body"]) == ("telegram:48213", "It ships today.")
    assert request.headers["Idempotency-Key"] == f"message-{reply.pk}"
    assert reply.status == MessageStatus.SENT
    assert reply.provider_id == f"bridge:out:{reply.pk}:ext-reply-1"

    # The failing webhook endpoint got retries; the delivery log in admin shows each attempt.
    first_delivery = hook.wait_for(1)[0].headers["X-CC-Delivery"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tries = [r for r in hook.requests if r.headers["X-CC-Delivery"] == first_delivery]
        if len(tries) >= 3:
            break
        time.sleep(0.2)
    assert [r.status for r in tries] == [500, 503, 200]
    assert all(WebhookReceiver.verified(r, subscription.secret) for r in tries)
    delivery = WebhookDelivery.objects.get(pk=first_delivery)
    deadline = time.monotonic() + 30
    while delivery.status != WebhookDelivery.Status.DELIVERED and time.monotonic() < deadline:
        time.sleep(0.2)
        delivery.refresh_from_db()
    assert list(delivery.log.values_list("outcome", "status_code")) == [
        ("retry", 500),
        ("retry", 503),
        ("delivered", 200),
    ]

    UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = browser.new_context().new_page()
    try:
        login(admin, asgi_server.url, "root")
        admin.goto(f"{asgi_server.url}/admin/contactcenter/webhookdelivery/")
        row = admin.locator("#result_list tbody tr", has_text=events.MESSAGE_CREATED).first
        expect(row).to_contain_text("Delivered")
        admin.goto(f"{asgi_server.url}/admin/contactcenter/webhookdelivery/{delivery.pk}/change/")
        attempts = admin.locator(".inline-related tbody tr.has_original")
        expect(attempts).to_have_count(3)
        expect(attempts.nth(0)).to_contain_text("500")
        expect(attempts.nth(1)).to_contain_text("503")
        expect(attempts.nth(2)).to_contain_text("200")
    finally:
        close_context(admin.context)
