"""Monitoring, whisper and barge-in in real Chromium (acceptance of issue 17, item 2): a supervisor
watches a chat live, whispers (the agent sees it pop up, the customer never sees it) and barges in
(the customer sees the supervisor's line, under the supervisor's name). An agent gets 403 for each
of these.

Three browser contexts: the supervisor, the agent (desktop), the customer (chat page).
"""

import re

import pytest
from playwright.sync_api import expect

from conversations.models import AgentProfile, AgentState, Conversation, Message
from tests.support.browser import (
    TIMEOUT_MS,
    assert_same_page,
    close_context,
    login,
    mark_page,
    wait_until_live,
)

from .desktop import chat_says, open_chat, post_as, start_chat

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agent_page(browser, asgi_server, agent_a, request):
    """Agent A's desktop in its own browser context, logged in and Ready."""
    from tests.support.fixtures import attach_log

    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"console.{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    attach_log(request, "agent's browser console", lambda: "\n".join(console) or "(nothing)")
    AgentProfile.objects.filter(user=agent_a).update(state=AgentState.READY)
    login(page, asgi_server.url, agent_a.username)
    yield page
    close_context(context)


def accepted_chat(agent_page, chat_customer, server) -> Conversation:
    open_chat(chat_customer, server)
    start_chat(chat_customer, "My order is late", name="Maria García", email="maria@example.com")
    agent_page.locator("#conversation-list .offer button.accept").click()
    agent_page.wait_for_url(re.compile(r".*/conversations/\d+/"))
    wait_until_live(agent_page)
    number = int(re.search(r"/conversations/(\d+)/", agent_page.url).group(1))
    return Conversation.objects.get(pk=number)


def test_a_supervisor_monitors_whispers_and_barges_in_on_a_chat(
    page, agent_page, chat_customer, asgi_server, website_chat_a, supervisor, agent_a
):
    conversation = accepted_chat(agent_page, chat_customer, asgi_server)
    login(page, asgi_server.url, supervisor.username)

    # From the floor view to the conversation's live view.
    page.goto(f"{asgi_server.url}/supervisor/")
    wait_until_live(page)
    page.locator(
        f'#panel-conversations a[href="/supervisor/conversations/{conversation.pk}/"]'
    ).first.click()
    page.wait_for_url(f"{asgi_server.url}/supervisor/conversations/{conversation.pk}/")
    wait_until_live(page)
    marker = mark_page(page)
    timeline = page.locator("#timeline")
    expect(timeline.locator(".message.inbound .body")).to_have_text(["My order is late"])
    expect(page.locator("#composer")).to_have_count(0)  # read-only: no reply box of the agent's

    # Monitor: what the customer and the agent write appears live.
    chat_says(chat_customer, "Is anybody there?")
    expect(timeline.locator(".message.inbound .body")).to_have_text(
        ["My order is late", "Is anybody there?"]
    )
    agent_page.locator("#composer-body").fill("Checking your order now.")
    agent_page.locator("#composer button[type=submit]").click()
    expect(timeline.locator(".message.outbound .body")).to_have_text(["Checking your order now."])
    customer_lines = chat_customer.locator("#chat-transcript .chat-line-agent")
    expect(customer_lines).to_have_count(1)

    # Whisper: it pops up on the agent's screen and is a note in their timeline.
    page.locator("#whisper-body").fill("Offer the 10 % voucher.")
    page.locator("#whisper-form button[type=submit]").click()
    popup = agent_page.locator("#whisper-popups .whisper")
    expect(popup).to_have_count(1)
    expect(popup.locator(".whisper-title")).to_have_text(
        f"Whisper from Sam Supervisor · {conversation.number}"
    )
    expect(popup.locator(".whisper-body")).to_have_text("Offer the 10 % voucher.")
    expect(agent_page.locator("#timeline .message.kind-note .body")).to_have_text(
        ["Offer the 10 % voucher."]
    )
    expect(timeline.locator(".message.kind-note .body")).to_have_text(["Offer the 10 % voucher."])

    # Barge in: the customer sees the supervisor's line, under the supervisor's name.
    page.locator("#barge-body").fill("Hello Maria, I am the team lead.")
    page.locator("#barge-form button[type=submit]").click()
    expect(customer_lines).to_have_count(2)
    expect(customer_lines.nth(1).locator(".chat-line-body")).to_have_text(
        "Hello Maria, I am the team lead."
    )
    expect(customer_lines.nth(1).locator(".chat-line-who")).to_have_text("Sam Supervisor")
    expect(agent_page.locator("#timeline .message.outbound .body")).to_have_text(
        ["Checking your order now.", "Hello Maria, I am the team lead."]
    )
    expect(timeline.locator(".message.outbound .body")).to_have_text(
        ["Checking your order now.", "Hello Maria, I am the team lead."]
    )

    # The customer never saw the whisper: not then, not after the barge-in that came later,
    # not after reloading their chat.
    assert "voucher" not in chat_customer.locator("#chat-transcript").inner_text()
    chat_customer.reload()
    expect(chat_customer.locator("#chat-transcript .chat-line-agent")).to_have_count(2)
    assert "voucher" not in chat_customer.locator("body").inner_text()

    # The dismissed pop-up stays dismissed across a reload of the desktop.
    popup.locator(".whisper-close").click()
    expect(popup).to_have_count(0)
    agent_page.reload()
    wait_until_live(agent_page)
    expect(agent_page.locator("#whisper-popups .whisper")).to_have_count(0)

    assert_same_page(page, marker)
    assert Message.objects.filter(conversation=conversation, kind="note").count() == 1


def test_an_agent_cannot_monitor_whisper_or_barge_in(
    agent_page, chat_customer, asgi_server, website_chat_a, agent_a
):
    conversation = accepted_chat(agent_page, chat_customer, asgi_server)
    base = asgi_server.url

    monitor = agent_page.request.get(f"{base}/supervisor/conversations/{conversation.pk}/")
    assert monitor.status == 403
    for action in ("whisper", "barge"):
        response = post_as(
            agent_page, f"/supervisor/conversations/{conversation.pk}/{action}/", {"body": "x"}
        )
        assert response.status == 403, action
    assert not Message.objects.filter(conversation=conversation, body="x").exists()
