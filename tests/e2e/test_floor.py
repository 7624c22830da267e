"""The floor view in real Chromium (acceptance of issue 17, item 1): it changes without a reload
as a chat arrives, the agent goes Ready, accepts, goes to wrap-up and logs out, and ends showing
what a fresh page shows; after a restart of the server it catches up from its last event.

Three browser contexts: the supervisor on /supervisor/, the agent on the desktop, the customer on
the chat page. Changes are made the way production makes them (the customer's chat websocket, the
agent's clicks), so they ring the floor view's socket; the restart case writes from this process
while the server is down, which the page learns from the event log when it reconnects.
"""

import contextlib
import difflib
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from contactcenter.models import Event
from conversations import services
from conversations.models import AgentProfile, AgentState, Interaction
from tests.support.browser import (
    TIMEOUT_MS,
    assert_same_page,
    close_context,
    login,
    mark_page,
    wait_until_live,
)

from .desktop import chat_says, open_chat, start_chat

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECONNECT_TIMEOUT_MS = 45_000  # jittered backoff, capped at 15 s between attempts

# The floor's panels as a user sees them: markup and text, timers' text and CSRF tokens left out.
PANELS = """
() => [...document.querySelectorAll(".floor-panel")].map((panel) => {
  const clone = panel.cloneNode(true);
  clone.querySelectorAll(".timer").forEach((timer) => { timer.textContent = ""; });
  clone.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach((input) => input.remove());
  return clone.innerHTML.replace(/\\s+/g, " ").trim();
})
"""


def open_floor(page, server) -> None:
    page.goto(f"{server.url}/supervisor/")
    wait_until_live(page)


def agent_row(page, agent):
    return page.locator(f'#panel-agents .agent-row[data-agent-id="{agent.pk}"]')


def services_row(page, service):
    return page.locator(f'#panel-services tr[data-service-id="{service.pk}"]')


def assert_matches_fresh_render(page, *, timeout: float = 10_000) -> None:
    """The live floor view shows what the same URL freshly rendered shows (its socket held in
    the new tab: replaying the last seconds of events would make it no fresh render)."""
    fresh = page.context.new_page()
    fresh.route_web_socket("**/ws/agent/", lambda websocket: None)
    fresh.goto(page.url)
    try:
        expected = fresh.evaluate(PANELS)
    finally:
        fresh.close()
    with contextlib.suppress(PlaywrightError):  # the assertion below shows the difference
        page.wait_for_function(
            f"(expected) => JSON.stringify(({PANELS})()) === JSON.stringify(expected)",
            arg=expected,
            timeout=timeout,
        )
    actual = page.evaluate(PANELS)
    diff = difflib.unified_diff(
        "\n".join(expected).split("><"), "\n".join(actual).split("><"), lineterm=""
    )
    assert actual == expected, "\n".join(diff)


@pytest.fixture
def agent_page(browser, asgi_server, agent_a, request):
    """Agent A's desktop in its own browser context, logged in, Not Ready."""
    from tests.support.fixtures import attach_log

    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"console.{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    attach_log(request, "agent's browser console", lambda: "\n".join(console) or "(nothing)")
    AgentProfile.objects.filter(user=agent_a).update(state=AgentState.NOT_READY)
    login(page, asgi_server.url, agent_a.username)
    yield page
    close_context(context)


def test_the_floor_view_follows_a_chat_from_arrival_to_logout_without_a_reload(
    page, agent_page, chat_customer, asgi_server, website_chat_a, supervisor, agent_a, service_a
):
    expect(agent_page.locator("#agent-state")).to_have_value("not_ready|")
    login(page, asgi_server.url, supervisor.username)
    open_floor(page, asgi_server)
    marker = mark_page(page)
    row = agent_row(page, agent_a)
    queue = services_row(page, service_a)
    expect(row).to_have_attribute("data-state", "not_ready")
    expect(queue.locator(".waiting")).to_have_text("0")

    # A chat arrives: it waits (the agent is Not Ready).
    open_chat(chat_customer, asgi_server)
    start_chat(chat_customer, "My order is late", name="Maria García", email="maria@example.com")
    expect(queue.locator(".waiting")).to_have_text("1")
    conversation_row = page.locator("#panel-conversations .conversation-row")
    expect(conversation_row).to_have_count(1)
    expect(conversation_row).to_contain_text("Maria García")
    expect(conversation_row.locator(".conversation-agent")).to_have_text("Waiting for an agent")
    expect(conversation_row.locator("form.assign-form")).to_be_visible()

    # The agent goes Ready: the chat is offered to them.
    agent_page.locator("#agent-state").select_option("ready|")
    expect(row).to_have_attribute("data-state", "ready")
    expect(row.locator(".agent-work")).to_contain_text("Offered")
    expect(agent_page.locator("#conversation-list .offer")).to_have_count(1)

    # They accept: Busy, the conversation is theirs, nobody waits.
    agent_page.locator("#conversation-list .offer button.accept").click()
    agent_page.wait_for_url(re.compile(r".*/conversations/\d+/"))
    wait_until_live(agent_page)
    expect(row).to_have_attribute("data-state", "busy")
    expect(row.locator(".capacity-value")).to_have_text("25 %")
    expect(queue.locator(".waiting")).to_have_text("0")
    expect(conversation_row.locator(".conversation-agent")).to_have_text("Agent agent_a")
    chat_says(chat_customer, "Still there?")
    expect(agent_page.locator("#timeline .message.inbound")).to_have_count(2)

    # They end it: wrap-up.
    agent_page.locator("form.js-end button").click()
    expect(agent_page.locator("#wrap-up")).to_be_visible()
    expect(row).to_have_attribute("data-state", "acw")
    expect(row.locator(".agent-work")).to_contain_text("Wrap-up")
    expect(conversation_row).to_have_attribute("data-status", "wrap_up")

    # They log out (the desktop asks first: a conversation is still in wrap-up).
    agent_page.once("dialog", lambda dialog: dialog.accept())
    agent_page.locator("#logout-form button[type=submit]").click()
    agent_page.wait_for_url(re.compile(r".*/accounts/login/"))
    expect(row).to_have_attribute("data-state", "logged_out")
    expect(row.locator(".agent-state")).to_have_text("Logged out")

    assert_same_page(page, marker)
    assert_matches_fresh_render(page)


def test_after_a_server_restart_the_floor_view_catches_up_from_its_last_event(
    page, asgi_server, supervisor, agent_a, service_a
):
    AgentProfile.objects.filter(user=agent_a).update(state=AgentState.NOT_READY)
    login(page, asgi_server.url, supervisor.username)
    open_floor(page, asgi_server)
    marker = mark_page(page)
    row = agent_row(page, agent_a)
    expect(row).to_have_attribute("data-state", "not_ready")
    banner = page.locator("#connection-banner")

    asgi_server.stop()
    expect(banner).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-connection", "reconnecting")

    # While it is down: the agent goes Ready and a chat arrives and is offered to them.
    before = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    services.agent_state_set(user=agent_a, state=AgentState.READY)
    from contacts.models import Identity

    services.inbound_receive(
        record=services.InboundRecord(
            channel="chat",
            service=service_a,
            identities=[(Identity.Kind.WEBCHAT, "visitor-during-restart")],
            provider_id="chat-during-restart",
            body="Anyone?",
            customer_address="visitor-during-restart",
        )
    )
    assert Interaction.objects.get(customer_address="visitor-during-restart").state == "offered"
    missed = list(
        Event.objects.filter(id__gt=before, audience="supervisors").values_list("id", flat=True)
    )
    assert missed

    asgi_server.start()
    expect(page.locator("body")).to_have_attribute(
        "data-connection", "live", timeout=RECONNECT_TIMEOUT_MS
    )
    expect(banner).to_be_hidden()
    expect(row).to_have_attribute("data-state", "ready")
    expect(row.locator(".agent-work")).to_contain_text("Offered")
    page.wait_for_function(
        "(last) => Number(document.body.dataset.lastAppliedEvent || 0) >= last", arg=max(missed)
    )
    assert_same_page(page, marker)
    assert_matches_fresh_render(page)
