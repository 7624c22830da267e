"""Helpers of the agent desktop e2e suites (tests/e2e/test_desktop_*.py).

- :func:`record_frames`: an init script that keeps every websocket frame a page receives in
  ``window.__ccFrames``, so a test can wait for an event to have reached the page.
- :func:`snapshot`: the desktop's state as a user sees it (Active Conversations list, timeline
  rows with their data-* attributes and text, the state selector), timers' text left out.
- :func:`assert_matches_fresh_render`: a page kept up to date by events shows what a freshly
  rendered page (a new tab) shows.
- :func:`post_as`: an action over HTTP on the live server with the page's session and CSRF token,
  as another tab of the same agent would do it (the page under test is left alone).
- Test-process writers (through the services, against the shared test database): an inbound SMS,
  a conversation the agent already accepted.
- Fixtures (imported by tests/e2e/conftest.py): ``website_chat_a``, the web chat "website" of
  service A; ``chat_customer``, the customer's own browser context on its chat page.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from channels_app.models import WebChatSettings
from conversations import services
from conversations.models import Conversation, Offer
from tests.channels_app.webchat.factories import ChatEntryPointFactory
from tests.support.browser import TIMEOUT_MS, close_context
from tests.support.fixtures import attach_log
from tests.support.twilio_standin import new_sid

CUSTOMER = "+14155550123"
ENTRY_POINT = "+15005550006"  # sms_entry_point_a: service A, agent A's service

RECORDER = """
(() => {
  if (window.__ccFrames) return;
  const frames = [];
  Object.defineProperty(window, "__ccFrames", { value: frames });
  const Native = window.WebSocket;
  window.WebSocket = class RecordingWebSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("message", (message) => {
        let data = null;
        try {
          data = JSON.parse(message.data);
        } catch (error) {
          data = { raw: String(message.data) };
        }
        frames.push({ url: String(url), data });
      });
    }
  };
})();
"""

SNAPSHOT = """
() => {
  const norm = (text) => (text || "").replace(/\\s+/g, " ").trim();
  const TIMERS = ".countdown, .total-time, .waiting-time, .call-time, #agent-state-timer";
  const TIMER_CLASSES = ["late", "ending"];
  const KEPT = ["href", "action", "src", "datetime", "disabled", "hidden", "value"];
  const describe = (element) => {
    const clone = element.cloneNode(true);
    clone.querySelectorAll(TIMERS).forEach((timer) => { timer.textContent = ""; });
    clone.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach((input) => input.remove());
    const nodes = [clone, ...clone.querySelectorAll("*")].map((node) => {
      const attributes = [...node.attributes]
        .sort((a, b) => a.name.localeCompare(b.name))
        .flatMap(({ name, value }) => {
          if (name === "class") {
            const classes = value.split(/\\s+/).filter((c) => c && !TIMER_CLASSES.includes(c));
            return [`class=${classes.sort().join(" ")}`];
          }
          return name.startsWith("data-") || KEPT.includes(name) ? [`${name}=${value}`] : [];
        });
      return `${node.tagName.toLowerCase()}[${attributes.join(" ")}]`;
    });
    return { nodes, text: norm(clone.textContent) };
  };
  const rows = (selector) => [...document.querySelectorAll(selector)].map(describe);
  const select = document.getElementById("agent-state");
  const timer = document.getElementById("agent-state-timer");
  const status = document.getElementById("conversation-status");
  return {
    list: rows("#conversation-list li"),
    timeline: rows("#timeline > li"),
    state: select && {
      value: select.value,
      label: norm(select.selectedOptions[0] ? select.selectedOptions[0].textContent : ""),
      state: select.dataset.state || "",
      since: timer ? timer.dataset.since || "" : "",
      pending: (() => {
        const pending = document.getElementById("agent-state-pending");
        return pending ? { hidden: pending.hidden, text: norm(pending.textContent) } : null;
      })(),
    },
    conversation: status && { status: status.dataset.status, label: norm(status.textContent) },
    composer: Boolean(document.getElementById("composer")),
    wrapUp: Boolean(document.getElementById("wrap-up")),
  };
}
"""

SAME_AS = f"""
(expected) => {{
  const canonical = (value) => JSON.stringify(value, (key, item) =>
    item && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.keys(item).sort().map((k) => [k, item[k]]))
      : item);
  return canonical(({SNAPSHOT})()) === canonical(expected);
}}
"""


def record_frames(context) -> None:
    """Record the websocket frames of every page of ``context`` opened from now on."""
    context.add_init_script(RECORDER)


def agent_events(page, type_: str | None = None) -> list[dict]:
    """The events the page's agent socket received (in order), optionally of one type."""
    events = page.evaluate(
        """() => (window.__ccFrames || [])
            .filter((f) => f.url.includes("/ws/agent/") && f.data.type === "event")
            .map((f) => f.data.event)"""
    )
    return [event for event in events if type_ is None or event["type"] == type_]


def wait_for_agent_event(page, type_: str, *, timeout: float = 15_000) -> None:
    """Block until the page's agent socket delivered an event of ``type_``."""
    page.wait_for_function(
        """(type) => (window.__ccFrames || []).some(
            (f) => f.url.includes("/ws/agent/") && f.data.type === "event"
                && f.data.event.type === type)""",
        arg=type_,
        timeout=timeout,
    )


def snapshot(page) -> dict:
    return page.evaluate(SNAPSHOT)


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False)


def open_fresh(page, url: str | None = None):
    """The same URL (or ``url``) freshly rendered in a new tab of the page's context.

    The new tab's agent socket is held (mocked, never reaching the server): on hello the server
    replays the last seconds of events (the replay overlap), and a tab that applied those would
    no longer be a fresh render to compare with.
    """
    fresh = page.context.new_page()
    fresh.route_web_socket("**/ws/agent/", lambda websocket: None)
    fresh.goto(url or page.url)  # the desktop's module script has run once "load" fired
    return fresh


def assert_matches_fresh_render(page, *, timeout: float = 10_000) -> dict:
    """The page shows what a fresh render of its URL shows (waiting for in-flight fetches)."""
    fresh = open_fresh(page)
    try:
        expected = snapshot(fresh)
    finally:
        fresh.close()
    with contextlib.suppress(PlaywrightError):  # the assertion below shows the difference
        page.wait_for_function(SAME_AS, arg=expected, timeout=timeout)
    actual = canonical(snapshot(page))
    wanted = canonical(expected)
    diff = difflib.unified_diff(
        wanted.splitlines(), actual.splitlines(), "fresh render", "page kept live", lineterm=""
    )
    assert actual == wanted, "\n".join(diff)
    return expected


def origin(page) -> str:
    parts = urlsplit(page.url)
    return f"{parts.scheme}://{parts.netloc}"


def post_as(page, path: str, data: dict | None = None):
    """POST a form to ``path`` with the page's session cookie and CSRF token, outside the page
    (its DOM and scripts are not involved). Returns Playwright's APIResponse."""
    token = page.evaluate("() => document.querySelector('input[name=csrfmiddlewaretoken]').value")
    return page.context.request.post(
        f"{origin(page)}{path}",
        form=data or {},
        headers={"X-CSRFToken": token, "Referer": page.url},
        max_redirects=0,
    )


def send_sms(standin, server, body: str, *, phone: str = CUSTOMER, to: str = ENTRY_POINT) -> str:
    """The customer texts the entry point: Twilio posts the signed webhook to the live server."""
    sid, response = standin.send_inbound_sms(
        f"{server.url}/webhooks/twilio/sms/", from_=phone, to=to, body=body
    )
    assert response.status == 200, response.body
    return sid


# --- writes from the test process (through the services; no ring reaches the live pages) -------


def inbound_sms(body: str, *, phone: str = CUSTOMER, to: str = ENTRY_POINT):
    """An inbound SMS stored by the services in this process (routing runs here, in-process)."""
    from channels_app.services import InboundSms, sms_receive

    result = sms_receive(
        sms=InboundSms(message_sid=new_sid(), from_number=phone, to_number=to, body=body)
    )
    return result.message


def offered(agent, message) -> Offer:
    return Offer.objects.get(agent=agent, interaction=message.interaction, state="offered")


def accepted_sms_conversation(agent, body: str, *, phone: str = CUSTOMER) -> Conversation:
    """A customer texted and ``agent`` accepted the offer: an open SMS conversation of theirs."""
    message = inbound_sms(body, phone=phone)
    services.offer_accept(offer_id=offered(agent, message).pk, user=agent)
    return Conversation.objects.get(pk=message.conversation_id)


def expect_list_items(page, count: int) -> None:
    expect(page.locator("#conversation-list .conversation-item")).to_have_count(count)


# --- the customer's chat ----------------------------------------------------------------------


@pytest.fixture
def website_chat_a(service_a):
    """The web chat "website" of service A (agent A's service), at /chat/website/."""
    entry_point = ChatEntryPointFactory(name="Website chat", address="website", service=service_a)
    WebChatSettings.objects.create(entry_point=entry_point, title="Help")
    return entry_point


@pytest.fixture
def chat_customer(browser, request):
    """The customer's browser: its own context (cookies, storage) next to the agent's."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"console.{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    attach_log(request, "customer's browser console", lambda: "\n".join(console) or "(nothing)")
    yield page
    close_context(context)


def open_chat(customer_page, server):
    """The customer's chat page on the contact center's own origin, connected."""
    customer_page.goto(f"{server.url}/chat/website/")
    expect(customer_page.locator("body")).to_have_attribute("data-connection", "live")
    return customer_page


def start_chat(chat, question: str, *, name: str, email: str, phone: str = "") -> None:
    """Fill in the pre-chat form; the question is the chat's first line."""
    expect(chat.locator("#chat-prechat")).to_be_visible()
    chat.locator("#id_prechat-name").fill(name)
    chat.locator("#id_prechat-email").fill(email)
    if phone:
        chat.locator("#id_prechat-phone").fill(phone)
    chat.locator("#id_prechat-question").fill(question)
    chat.locator("#prechat-form button[type=submit]").click()
    expect(chat.locator("#chat-transcript .chat-line")).to_have_count(1)


def chat_says(chat, text: str) -> None:
    lines = chat.locator("#chat-transcript .chat-line-customer")
    before = lines.count()
    chat.locator("#chat-input").fill(text)
    chat.locator("#chat-input").press("Enter")
    expect(lines).to_have_count(before + 1)
