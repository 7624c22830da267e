"""The SMS flow of the foundation issue, in real headless Chromium against a live ASGI server.

Twilio is a local stand-in reached through the real ``twilio`` client (``TWILIO_API_BASE_URL``);
it signs its webhooks and status callbacks like Twilio. With ``REDIS_URL`` set (always under CI)
routing and the reply's delivery run in a real Celery worker process; without it, in-process in
the server.
"""

import re

import pytest
from playwright.sync_api import expect

from conversations.models import Conversation, Message, MessageStatus
from tests.conftest import TWILIO_TEST_SID, TWILIO_TEST_TOKEN
from tests.support.browser import assert_same_page, mark_page, wait_until_live

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CUSTOMER = "+14155550123"
ENTRY_POINT = "+15005550006"  # sms_entry_point_a: service A, agent A's service


def send_sms(standin, server, body: str) -> str:
    """The customer texts the entry point: Twilio posts the signed webhook to the live server."""
    sid, response = standin.send_inbound_sms(
        f"{server.url}/webhooks/twilio/sms/", from_=CUSTOMER, to=ENTRY_POINT, body=body
    )
    assert response.status == 200, response.body
    return sid


def accept_offer(page, server) -> Conversation:
    """Click Accept on the one offer in the list; the page opens the conversation."""
    offer = page.locator("#conversation-list .offer")
    expect(offer).to_have_count(1)
    offer.locator("button.accept").click()
    page.wait_for_url(re.compile(re.escape(server.url) + r"/conversations/\d+/$"))
    wait_until_live(page)
    return Conversation.objects.get(pk=page.locator("body").get_attribute("data-conversation-id"))


def test_inbound_sms_is_offered_live_and_the_next_one_shows_in_the_open_timeline(
    agent_page, asgi_server, twilio_standin
):
    page = agent_page
    expect(page.locator("#conversation-list .empty")).to_be_visible()
    marker = mark_page(page)

    first_sid = send_sms(twilio_standin, asgi_server, "My parcel never came")

    offer = page.locator("#conversation-list .offer")
    expect(offer).to_have_count(1)
    expect(offer.locator(".channel-sms")).to_be_visible()
    expect(offer.locator("button.accept")).to_be_enabled()
    assert_same_page(page, marker)

    conversation = accept_offer(page, asgi_server)
    assert conversation.agent.username == "agent_a"
    item = page.locator(
        f'#conversation-list .conversation-item[data-conversation-id="{conversation.pk}"]'
    )
    expect(item).to_have_class(re.compile(r"\bselected\b"))
    expect(item).to_contain_text(conversation.number)
    timeline = page.locator("#timeline .message")
    expect(timeline).to_have_count(1)
    expect(timeline.first.locator(".body")).to_have_text("My parcel never came")
    marker = mark_page(page)

    second = "Order <b>#42</b>, it was due Monday"
    second_sid = send_sms(twilio_standin, asgi_server, second)

    expect(timeline).to_have_count(2)
    latest = timeline.nth(1)
    expect(latest).to_have_class(re.compile(r"\binbound\b"))
    expect(latest.locator(".body")).to_have_text(second)  # customer text shown as text...
    expect(latest.locator(".body b")).to_have_count(0)  # ... never as markup
    expect(page.locator("#conversation-list .conversation-item")).to_have_count(1)
    assert_same_page(page, marker)
    provider_ids = conversation.messages.order_by("id").values_list("provider_id", flat=True)
    assert list(provider_ids) == [first_sid, second_sid]


def test_inbound_sms_on_an_auto_accept_service_lands_in_the_active_conversations_list_live(
    agent_page, asgi_server, twilio_standin, service_a
):
    service_a.auto_accept_channels = ["sms"]
    service_a.save(update_fields=["auto_accept_channels"])
    page = agent_page
    items = page.locator("#conversation-list .conversation-item")
    expect(items).to_have_count(0)
    marker = mark_page(page)

    send_sms(twilio_standin, asgi_server, "Is anyone there?")

    expect(items).to_have_count(1)
    conversation = Conversation.objects.get()
    assert conversation.agent.username == "agent_a"
    expect(items.first).to_have_attribute("data-conversation-id", str(conversation.pk))
    expect(items.first).to_contain_text(conversation.number)
    expect(items.first.locator(".channel-sms")).to_be_visible()
    expect(page.locator("#conversation-list .offer")).to_have_count(0)
    assert_same_page(page, marker)


def test_agent_reply_is_sent_through_twilio_and_its_delivery_shows_live(
    agent_page, asgi_server, twilio_standin, celery_worker, live_services
):
    page = agent_page
    send_sms(twilio_standin, asgi_server, "Can you call me?")
    conversation = accept_offer(page, asgi_server)
    marker = mark_page(page)

    reply = "Sure, we will call you within the hour."
    page.fill("#composer-body", reply)
    page.click("#composer button[type=submit]")

    outbound = page.locator("#timeline .message.outbound")
    expect(outbound).to_have_count(1)
    expect(outbound.locator(".body")).to_have_text(reply)
    expect(page.locator("#composer-body")).to_have_value("")
    expect(outbound.locator('.status[data-status="delivered"]')).to_be_visible()
    assert_same_page(page, marker)

    # Twilio saw exactly one send, from the real client, with our credentials and numbers.
    callbacks = twilio_standin.wait_for_callbacks(2)
    assert [(c.message_status, c.status_code) for c in callbacks] == [
        ("sent", 204),
        ("delivered", 204),
    ]
    requests = twilio_standin.message_requests()
    assert len(requests) == 1, requests
    sent = requests[0]
    message = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    assert sent.path == f"/2010-04-01/Accounts/{TWILIO_TEST_SID}/Messages.json"
    assert (sent.auth_username, sent.auth_password) == (TWILIO_TEST_SID, TWILIO_TEST_TOKEN)
    assert sent.user_agent.startswith("twilio-python/")
    assert (sent.form["To"], sent.form["From"], sent.form["Body"]) == (CUSTOMER, ENTRY_POINT, reply)
    assert sent.form["StatusCallback"] == (
        f"{asgi_server.url}/webhooks/twilio/sms/status/?message={message.pk}"
    )
    assert sent.response_status == 201
    assert (message.status, message.provider_id) == (MessageStatus.DELIVERED, sent.sid)
    assert message.sender.username == "agent_a"

    # Who sent it: the Celery worker process when there is Redis, the server itself otherwise.
    server_log = asgi_server.log_text()
    if live_services.has_worker:
        assert "tasks: celery worker" in server_log  # the server only enqueued
        celery_worker.wait_for_log(
            re.compile(r"Task conversations\.tasks\.deliver_message\[[0-9a-f-]+\] succeeded")
        )
    else:
        assert "tasks: in-process" in server_log
