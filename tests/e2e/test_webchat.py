"""Web chat flows in real headless Chromium, two browser contexts: the customer on a website of
ANOTHER origin (a small static page served by a second local HTTP server, http://localhost:<port>,
that adds the widget with its one <script> tag) and the agent on the desktop (http://127.0.0.1).

The chat runs in the widget's iframe on the contact center's origin, over /ws/chat/website/;
the agent's desktop over its one socket /ws/agent/.
"""

import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from playwright.sync_api import expect

from channels_app.models import ChatSession, ChatTranscriptRequest, WebChatSettings
from channels_app.tasks import webchat_inactivity
from conversations.models import AgentState, BusinessHours, Conversation, Message
from tests.channels_app.webchat.factories import ChatEntryPointFactory
from tests.support.browser import close_context, login, wait_until_live
from tests.support.live_server import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
  <h1>{title}</h1>
  <p>A customer's website on another origin.</p>
  <a id="next" href="/returns">Returns</a>
  <script src="{server}/static/webchat/widget.js" data-entry-point="website" async></script>
</body></html>
"""


class HostSite:
    """A second local HTTP server: the customer's website, on another origin."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.port = free_port()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                title = "Returns" if self.path.startswith("/returns") else "Order 42"
                body = HOST_PAGE.format(title=title, server=site.server_url).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def __enter__(self) -> "HostSite":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def host_site(asgi_server):
    with HostSite(asgi_server.url) as site:
        yield site


@pytest.fixture
def website_chat(service_a, host_site):
    entry_point = ChatEntryPointFactory(name="Website chat", address="website", service=service_a)
    WebChatSettings.objects.create(
        entry_point=entry_point, title="Help", allowed_origins=host_site.origin
    )
    return entry_point


@pytest.fixture
def customer(browser, request):
    """The customer's browser: its own context (cookies, storage) next to the agent's."""
    failed_before = request.session.testsfailed
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"console.{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    yield page
    if request.session.testsfailed > failed_before:
        print(f"\n----- customer console ({page.url}) -----\n" + ("\n".join(console) or "-"))
    close_context(context)


def open_widget(page, site: HostSite, path: str = "/"):
    page.goto(f"{site.origin}{path}")
    launcher = page.locator("[data-cc-chat] button.launcher")
    expect(launcher).to_be_visible()
    expect(launcher).to_have_text("Chat with us")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    chat = page.frame_locator("[data-cc-chat] iframe")
    expect(chat.locator("body")).to_have_attribute("data-connection", "live")
    return chat


def fill_prechat(chat, question: str, *, name="Maria García", email="maria@example.com"):
    expect(chat.locator("#chat-prechat")).to_be_visible()
    chat.locator("#id_prechat-name").fill(name)
    chat.locator("#id_prechat-email").fill(email)
    chat.locator("#id_prechat-question").fill(question)
    chat.locator("#prechat-form button[type=submit]").click()


def accept_offer(agent, server, name="Maria García"):
    accept = (
        agent.locator("#conversation-list .offer").filter(has_text=name).locator("button.accept")
    )
    expect(accept).to_be_visible()
    accept.click()
    agent.wait_for_url(re.compile(rf"{re.escape(server.url)}/conversations/\d+/"))
    wait_until_live(agent)


def test_customer_chats_with_a_ready_agent_from_another_website(
    page, customer, asgi_server, host_site, website_chat, agent_a
):
    agent = page
    login(agent, asgi_server.url, agent_a.username)
    chat = open_widget(customer, host_site)

    # Pre-chat validation is visible, per field.
    chat.locator("#prechat-form button[type=submit]").click()
    expect(chat.locator('[data-error-for="prechat-email"]')).to_be_visible()
    expect(chat.locator("#id_prechat-email")).to_have_attribute("aria-invalid", "true")

    fill_prechat(chat, "Where is my <b>order</b>?")
    lines = chat.locator("#chat-transcript .chat-line")
    expect(lines).to_have_count(1)
    expect(lines.first.locator(".chat-line-body")).to_have_text("Where is my <b>order</b>?")

    # The conversation reaches the Ready agent.
    accept_offer(agent, asgi_server)
    expect(agent.locator("#timeline .message.inbound .body")).to_have_text(
        "Where is my <b>order</b>?"
    )
    expect(agent.locator("#channel-panel .chat-page a")).to_have_attribute(
        "href", f"{host_site.origin}/"
    )
    expect(chat.locator("#chat-agent")).to_have_text("You are chatting with Agent agent_a")
    expect(chat.locator(".chat-notice-agent_joined")).to_have_text("Agent agent_a joined the chat.")
    # The agent has it on screen: the customer's line is read.
    expect(lines.first.locator(".chat-line-status")).to_have_text("Read")

    # Typing both ways.
    expect(agent.locator("#chat-customer-typing")).to_be_hidden()
    chat.locator("#chat-input").press_sequentially("Hel")
    expect(agent.locator("#chat-customer-typing")).to_be_visible()
    expect(agent.locator("#chat-customer-typing")).to_have_text("The customer is typing…")
    agent.locator("#composer-body").press_sequentially("Let me")
    expect(chat.locator("#chat-typing")).to_have_text("Agent agent_a is typing…")

    # Messages both ways.
    agent.locator("#composer-body").fill("Let me check, Maria.")
    agent.locator("#composer button[type=submit]").click()
    agent_line = chat.locator("#chat-transcript .chat-line-agent")
    expect(agent_line).to_have_count(1)
    expect(agent_line.locator(".chat-line-body")).to_have_text("Let me check, Maria.")
    expect(agent_line.locator(".chat-line-who")).to_have_text("Agent agent_a")
    expect(chat.locator("#chat-typing")).to_be_hidden()
    expect(agent.locator('#timeline .message.outbound .status[data-status="read"]')).to_be_visible()

    chat.locator("#chat-input").fill("Thanks!")
    chat.locator("#chat-input").press("Enter")
    expect(agent.locator("#timeline .message.inbound")).to_have_count(2)
    expect(agent.locator("#chat-customer-typing")).to_be_hidden()
    expect(lines).to_have_count(3)

    # The customer moves to another page: the agent sees it.
    customer.goto(f"{host_site.origin}/returns")
    chat = customer.frame_locator("[data-cc-chat] iframe")
    expect(customer.locator("[data-cc-chat] button.launcher")).to_have_attribute(
        "aria-expanded", "true"
    )  # the panel stays open across pages
    expect(agent.locator("#channel-panel .chat-page a")).to_have_text("Returns")

    # Reload: same visitor, the transcript of the ongoing chat is back.
    customer.reload()
    chat = customer.frame_locator("[data-cc-chat] iframe")
    expect(chat.locator("body")).to_have_attribute("data-connection", "live")
    lines = chat.locator("#chat-transcript .chat-line")
    expect(lines).to_have_count(3)
    expect(lines.nth(0).locator(".chat-line-body")).to_have_text("Where is my <b>order</b>?")
    expect(lines.nth(1).locator(".chat-line-body")).to_have_text("Let me check, Maria.")
    expect(lines.nth(2).locator(".chat-line-body")).to_have_text("Thanks!")
    expect(chat.locator("#chat-agent")).to_have_text("You are chatting with Agent agent_a")
    assert ChatSession.objects.count() == 1

    # The agent ends the conversation: the widget shows that the chat ended.
    agent.locator("form.js-end button[type=submit]").click()
    expect(chat.locator("#chat-ended")).to_be_visible()
    expect(chat.locator(".chat-notice-ended")).to_have_text("The agent ended the chat.")
    expect(chat.locator("#chat-composer")).to_be_hidden()

    # ... and can ask for the transcript by email (recorded for the email channel).
    chat.locator("#id_transcript-email").fill("maria@example.com")
    chat.locator("#transcript-form button[type=submit]").click()
    expect(chat.locator("#transcript-done")).to_have_text(
        "We will email the transcript to maria@example.com."
    )
    assert ChatTranscriptRequest.objects.get().email == "maria@example.com"


def test_waiting_customers_see_their_position_live_and_closed_hours_show_the_offline_form(
    page, customer, browser, asgi_server, host_site, website_chat, agent_a, service_a
):
    profile = agent_a.agent_profile
    profile.state = AgentState.NOT_READY
    # One chat fills the agent: the second customer keeps waiting (first in line) after the first
    # is taken, instead of being offered at once.
    profile.capacity_overrides = {"share": {"chat": 100}}
    profile.save()
    agent = page
    login(agent, asgi_server.url, agent_a.username)

    first = open_widget(customer, host_site)
    fill_prechat(first, "First in line", name="Ana First", email="first@example.com")
    expect(first.locator("#chat-queue")).to_contain_text("You are number 1 in the queue.")
    expect(first.locator("#chat-queue")).to_contain_text("Estimated wait")

    second_context = browser.new_context()
    try:
        second_page = second_context.new_page()
        second = open_widget(second_page, host_site)
        fill_prechat(second, "Second in line", name="Bo Second", email="second@example.com")
        expect(second.locator("#chat-queue")).to_contain_text("You are number 2 in the queue.")

        # The agent becomes Ready and takes the first: the second moves up without a reload.
        agent.select_option("#agent-state", label="Ready")
        accept_offer(agent, asgi_server, name="Ana First")
        expect(first.locator("#chat-queue")).to_be_hidden()
        expect(first.locator("#chat-agent")).to_have_text("You are chatting with Agent agent_a")
        expect(second.locator("#chat-queue")).to_contain_text("You are number 1 in the queue.")
    finally:
        close_context(second_context)

    # The service is closed now (its only opening hours are on another day): offline form.
    from django.utils import timezone

    other_day = (timezone.localtime(timezone.now(), timezone=None).weekday() + 3) % 7
    BusinessHours.objects.create(
        service=service_a, weekday=other_day, opens="09:00", closes="10:00"
    )
    late_context = browser.new_context()
    try:
        late = open_widget(late_context.new_page(), host_site)
        expect(late.locator("#chat-offline")).to_be_visible()
        expect(late.locator("#offline-heading")).to_have_text("We are closed right now.")
        expect(late.locator("#chat-prechat")).to_be_hidden()
        late.locator("#offline-form button[type=submit]").click()
        expect(late.locator('[data-error-for="offline-message"]')).to_be_visible()
        late.locator("#id_offline-name").fill("Aiko Tanaka")
        late.locator("#id_offline-email").fill("aiko@example.com")
        late.locator("#id_offline-message").fill("Please call me back tomorrow.")
        late.locator("#offline-form button[type=submit]").click()
        expect(late.locator("#offline-done")).to_have_text("Thank you! We will answer by email.")
    finally:
        close_context(late_context)

    email = Message.objects.get(channel="email", direction="inbound")
    assert email.body == "Please call me back tomorrow."
    # ... and the customer got one acknowledgement (the local outbox, without SMTP here).
    acknowledgement = Message.objects.get(channel="email", direction="outbound")
    assert acknowledgement.conversation_id == email.conversation_id
    assert email.interaction.channel == "email"
    assert email.conversation.service == service_a
    assert email.conversation.contact.identities.filter(value="aiko@example.com").exists()


def test_inactivity_warns_then_ends_the_chat_in_the_widget(
    page, customer, asgi_server, host_site, website_chat, agent_a, service_a
):
    service_a.auto_accept_channels = ["chat"]
    service_a.save()
    login(page, asgi_server.url, agent_a.username)
    chat = open_widget(customer, host_site)
    fill_prechat(chat, "Hello?")
    expect(chat.locator("#chat-agent")).to_have_text("You are chatting with Agent agent_a")
    session = ChatSession.objects.get()
    assert session.expires_at - session.warn_at == timedelta(minutes=5)

    # Time moves in this process only; the beat task runs here, the widget learns it live.
    with time_machine.travel(session.warn_at, tick=False):
        assert webchat_inactivity() == {"warned": 1, "ended": 0, "left": 0}
    expect(chat.locator("#chat-warning")).to_be_visible()
    expect(chat.locator("#chat-warning")).to_contain_text("Are you still there?")

    with time_machine.travel(session.expires_at, tick=False):
        assert webchat_inactivity() == {"warned": 0, "ended": 1, "left": 0}
    expect(chat.locator("#chat-ended")).to_be_visible()
    expect(chat.locator(".chat-notice-ended")).to_have_text(
        "The chat ended because there was no activity."
    )
    conversation = Conversation.objects.get()
    assert conversation.messages.filter(kind="system", body__contains="inactive").exists()
