"""The desktop survives a restart of the ASGI server: it shows "Reconnecting…", reconnects by
itself and replays what happened meanwhile from the event log, each event once and in order,
without a reload. This module has its own server (the test stops it), not the shared one.
"""

import pytest
from playwright.sync_api import expect

from contactcenter.models import Event
from tests.support.browser import assert_same_page, login, mark_page, wait_until_live

from .desktop import accepted_sms_conversation, agent_events, inbound_sms, record_frames

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECONNECT_TIMEOUT_MS = 45_000  # jittered backoff, capped at 15 s between attempts


def test_messages_that_arrive_while_the_server_restarts_show_once_in_order_without_a_reload(
    page, asgi_server, agent_a, sms_entry_point_a
):
    record_frames(page.context)
    conversation = accepted_sms_conversation(agent_a, "My parcel never came")
    login(page, asgi_server.url, agent_a.username)
    page.goto(f"{asgi_server.url}/conversations/{conversation.pk}/")
    wait_until_live(page)
    timeline = page.locator("#timeline .message")
    expect(timeline).to_have_count(1)
    banner = page.locator("#connection-banner")
    expect(banner).to_be_hidden()
    marker = mark_page(page)

    asgi_server.stop()
    expect(banner).to_be_visible()
    expect(banner).to_have_text("Reconnecting…")
    expect(page.locator("body")).to_have_attribute("data-connection", "reconnecting")

    # Five customer messages while the server is down: durable Event rows, nobody rings.
    bodies = [f"Outage message {n}" for n in range(1, 6)]
    messages = [inbound_sms(body) for body in bodies]
    assert {message.conversation_id for message in messages} == {conversation.pk}
    missed = list(
        Event.objects.filter(
            type="message.created", payload__message_id__in=[m.pk for m in messages]
        )
        .filter(audience=f"agent.{agent_a.pk}")
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert len(missed) == 5

    asgi_server.start()
    expect(page.locator("body")).to_have_attribute(
        "data-connection", "live", timeout=RECONNECT_TIMEOUT_MS
    )
    expect(banner).to_be_hidden()
    expect(timeline).to_have_count(6)
    expect(page.locator("#timeline .message .body")).to_have_text(["My parcel never came", *bodies])
    ids = page.locator("#timeline .message").evaluate_all(
        "rows => rows.map((row) => Number(row.dataset.messageId))"
    )
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert ids[1:] == [message.pk for message in messages]
    assert_same_page(page, marker)

    # The page applied each missed event exactly once, in order.
    applied = [event["id"] for event in agent_events(page, "message.created")]
    assert [event_id for event_id in applied if event_id in missed] == missed
