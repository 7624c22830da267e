"""Isolation and XSS on the desktop, in real Chromium against the module's shared live server.

- Agent B (service B) can neither open, reply to, end, wrap up, annotate nor transfer agent A's
  conversation over HTTP, nor subscribe to it over a websocket; B's agent socket never carries
  A's events, live or replayed.
- Hostile customer text (chat lines, SMS bodies, MMS media URLs, contact names) is shown as text
  everywhere it appears: desktop list, workspace, contact page (with its lazily loaded timeline)
  and the customer's chat widget on a website; nothing runs (a dialog fails the test) and no
  element is injected.
"""

import contextlib

import pytest
from playwright.sync_api import expect

from channels_app.models import WebChatSettings
from contacts.models import Contact
from conversations.models import Conversation, Interaction, Message, Offer
from tests.conftest import TWILIO_TEST_SID, TWILIO_TEST_TOKEN
from tests.factories import ContactFactory, IdentityFactory
from tests.support.browser import close_context, login, wait_until_live
from tests.support.twilio_standin import new_sid, signed_post

from .desktop import (
    CUSTOMER,
    ENTRY_POINT,
    accepted_sms_conversation,
    agent_events,
    chat_says,
    expect_list_items,
    inbound_sms,
    offered,
    post_as,
    record_frames,
    send_sms,
    start_chat,
    wait_for_agent_event,
)
from .test_webchat import HostSite, open_widget

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def second_agent_page(browser, server, username):
    context = browser.new_context()
    context.set_default_timeout(15_000)
    record_frames(context)
    page = context.new_page()
    login(page, server.url, username)
    return page


def may_watch(page, conversation_id: int) -> bool:
    """Whether the desktop socket lets the page watch a conversation (its typing and reads): the
    server answers an error for a conversation the agent may not see, and nothing otherwise."""
    return page.evaluate(
        """(id) => new Promise((resolve) => {
            const socket = new WebSocket(`ws://${location.host}/ws/agent/`);
            socket.onopen = () => {
                socket.send(JSON.stringify({type: "watch", conversation_id: id}));
                socket.send(JSON.stringify({type: "ping"}));
            };
            socket.onmessage = (message) => {
                const frame = JSON.parse(message.data);
                if (frame.type === "error") { socket.close(); resolve(false); }
                if (frame.type === "pong") { socket.close(); resolve(true); }
            };
            socket.onclose = () => resolve(false);
        })""",
        conversation_id,
    )


def state_of_the_world() -> dict:
    return {
        "conversations": list(
            Conversation.objects.order_by("pk").values_list(
                "pk", "agent_id", "status", "service_id", "disposition_id", "wrap_up_notes"
            )
        ),
        "interactions": list(
            Interaction.objects.order_by("pk").values_list("pk", "state", "agent_id", "channel")
        ),
        "messages": list(Message.objects.order_by("pk").values_list("pk", "body", "status")),
        "offers": list(Offer.objects.order_by("pk").values_list("pk", "state", "agent_id")),
    }


def test_agent_b_cannot_open_act_on_or_subscribe_to_agent_a_conversation_nor_hear_its_events(
    browser, page, shared_asgi_server, shared_twilio_standin, agent_a, agent_b, service_b,
    sms_entry_point_a,
):  # fmt: skip
    server = shared_asgi_server
    conversation = accepted_sms_conversation(agent_a, "Please call me back")
    waiting = offered(agent_a, inbound_sms("Another customer", phone="+14155550999"))
    record_frames(page.context)
    login(page, server.url, agent_a.username)
    alice = page
    bob = second_agent_page(browser, server, agent_b.username)
    bob.clock.install()  # B's heartbeat is brought forward below
    bob.reload()
    wait_until_live(bob)
    pk = conversation.pk
    before = state_of_the_world()

    # Over HTTP: 404 everywhere, as if the conversation did not exist.
    assert bob.goto(f"{server.url}/conversations/{pk}/").status == 404
    bob.goto(f"{server.url}/")
    wait_until_live(bob)
    for path in (
        f"/conversations/{pk}/messages/",
        f"/conversations/{pk}/messages/?after=0",
        f"/channels/conversations/{pk}/panel/",
        f"/contacts/activities/{pk}/timeline/?partial=1",
    ):
        assert bob.context.request.get(f"{server.url}{path}").status == 404, path
    for path, data in (
        (f"/conversations/{pk}/reply/", {"body": "Hi, agent B here"}),
        (f"/conversations/{pk}/reply/", {"body": "Hi", "channel": "sms", "to": CUSTOMER}),
        (f"/conversations/{pk}/notes/", {"body": "B was here"}),
        (f"/conversations/{pk}/end/", {}),
        (f"/conversations/{pk}/wrap-up/", {"disposition": "", "notes": "closed by B"}),
        (f"/conversations/{pk}/transfer/", {"target": f"service:{service_b.pk}"}),
        (f"/offers/{waiting.pk}/accept/", {}),
        (f"/offers/{waiting.pk}/reject/", {}),
    ):
        assert post_as(bob, path, data).status == 404, path
    # Over websockets: watching the conversation (its typing and reads) is refused.
    assert not may_watch(bob, pk)
    assert may_watch(alice, pk)
    assert state_of_the_world() == before
    assert shared_twilio_standin.message_requests() == []

    # A's conversation lives on: the customer writes, A replies (sent, delivered), A ends it.
    alice.goto(f"{server.url}/conversations/{pk}/")
    wait_until_live(alice)
    send_sms(shared_twilio_standin, server, "Still waiting for that call")
    expect(alice.locator("#timeline .message.inbound")).to_have_count(2)
    alice.fill("#composer-body", "Calling you in five minutes.")
    alice.click("#composer button[type=submit]")
    expect(alice.locator('#timeline .status[data-status="delivered"]')).to_be_visible()
    alices = {event["id"] for event in agent_events(alice)}
    assert {"message.created", "message.status_changed"} <= {
        event["type"] for event in agent_events(alice)
    }
    assert post_as(alice, f"/conversations/{pk}/end/").ok  # wrap-up, After Call Work

    # B's socket is live (its own state change arrives) and its heartbeat catch-up ran, yet
    # none of A's events ever reached it.
    bob.clock.fast_forward("00:21")
    assert post_as(bob, "/agent/state/", {"state": "not_ready", "reason": ""}).ok
    wait_for_agent_event(bob, "agent.state_changed")
    bobs = agent_events(bob)
    assert bobs, "B's socket received nothing at all"
    assert {event["payload"].get("agent_id") for event in bobs} == {agent_b.pk}
    assert not alices & {event["id"] for event in bobs}
    assert all(event["payload"].get("conversation_id") is None for event in bobs)
    expect_list_items(bob, 0)
    expect(bob.locator("#conversation-list .offer")).to_have_count(0)
    close_context(bob.context)


# --- XSS --------------------------------------------------------------------------------------

XSS = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "\"><svg onload=alert('xss-3')>",
    "'><iframe src=\"javascript:alert('xss-4')\"></iframe>",
    "<a href=\"javascript:alert('xss-5')\">click me</a>",
    '<img src=x onerror="window.__xss=6">',
    "</textarea></li></ol><script>window.__xss=7</script>",
    "<details open ontoggle=alert('xss-8')>",
    "{{7*7}} {% now 'Y' %} ${7*7} #{7*7}",
]
CHAT_NAME = "<img src=x onerror=alert('name-1')> \"><svg onload=alert('name-2')>"
CORPUS = "\n".join(XSS)
SMS_FIRST_NAME = "\"><svg onload=alert('name-3')>"
SMS_LAST_NAME = "{{7*7}}<script>window.__xss='name'</script>"

INJECTED = """
() => {
  const found = [];
  for (const element of document.querySelectorAll("*")) {
    for (const { name, value } of element.attributes) {
      if (/^on/i.test(name)) found.push(`${element.tagName} ${name}=${value}`);
      const url = ["href", "src", "action", "formaction"].includes(name);
      if (url && /^\\s*javascript:/i.test(value)) found.push(`${element.tagName} ${name}=${value}`);
    }
  }
  document
    .querySelectorAll("svg, iframe, script:not([src]):not([type='application/json'])")
    .forEach((element) => {
      const widget = element.matches("[data-cc-chat] > * > iframe"); // the widget's own frame
      if (!widget) found.push(element.outerHTML.slice(0, 120));
    });
  if (window.__xss !== undefined) found.push(`window.__xss=${window.__xss}`);
  return found;
}
"""


def refuse_dialogs(page, dialogs: list) -> None:
    def handle(dialog) -> None:
        dialogs.append(f"{page.url}: {dialog.type} {dialog.message}")
        dialog.dismiss()

    page.on("dialog", handle)


def assert_nothing_ran(page, dialogs: list) -> None:
    for frame in page.frames:  # the customer's website and the widget's chat in its iframe
        assert frame.evaluate(INJECTED) == [], frame.url
    assert dialogs == []


def send_mms(server, *, body: str, media: list[str]) -> None:
    sid = new_sid("MM")
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": TWILIO_TEST_SID,
        "From": CUSTOMER,
        "To": ENTRY_POINT,
        "Body": body,
        "NumMedia": str(len(media)),
        "ApiVersion": "2010-04-01",
    }
    for index, url in enumerate(media):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = "image/png"
    response = signed_post(
        f"{server.url}/webhooks/twilio/sms/", params, auth_token=TWILIO_TEST_TOKEN
    )
    assert response.status == 200, response.body


def test_hostile_customer_text_and_names_show_as_text_and_never_run(
    request, page, chat_customer, shared_asgi_server, shared_twilio_standin, agent_a,
    sms_entry_point_a, website_chat_a,
):  # fmt: skip
    server, agent = shared_asgi_server, page
    stack = contextlib.ExitStack()
    request.addfinalizer(stack.close)
    dialogs: list[str] = []
    refuse_dialogs(agent, dialogs)
    refuse_dialogs(chat_customer, dialogs)
    texter = ContactFactory(first_name=SMS_FIRST_NAME, last_name=SMS_LAST_NAME)
    IdentityFactory(contact=texter, kind="phone", value=CUSTOMER)
    login(agent, server.url, agent_a.username)

    # Chat, in the widget on the customer's website (another origin): the customer's name, the
    # corpus as the question and then as one multi-line message (the chat socket limits frames
    # per second: a line-by-line burst would be refused).
    website = stack.enter_context(HostSite(server.url))
    WebChatSettings.objects.filter(entry_point=website_chat_a).update(
        allowed_origins=website.origin
    )
    chat = open_widget(chat_customer, website)
    start_chat(chat, XSS[0], name=CHAT_NAME, email="mallory@example.com")
    assert len(chat_customer.frames) == 2
    offer = agent.locator("#conversation-list .offer")
    expect(offer.locator(".contact-name")).to_have_text(CHAT_NAME)
    assert_nothing_ran(agent, dialogs)
    offer.locator("button.accept").click()
    agent.wait_for_url(f"{server.url}/conversations/*/")
    wait_until_live(agent)
    chat_conversation = agent.locator("body").get_attribute("data-conversation-id")
    chat_says(chat, CORPUS)
    inbound = agent.locator("#timeline .message.inbound .body")
    expect(inbound).to_have_count(2)
    assert inbound.all_inner_texts() == [XSS[0], CORPUS]
    expect(agent.locator(".workspace-header .contact-name")).to_have_text(CHAT_NAME)
    # The agent quotes the corpus back: the customer's page shows it as text too.
    agent.fill("#composer-body", CORPUS)
    agent.click("#composer button[type=submit]")
    agent_lines = chat.locator("#chat-transcript .chat-line-agent .chat-line-body")
    expect(agent_lines).to_have_count(1)
    # (a form posts a textarea's line breaks as CRLF)
    assert [text.replace("\r\n", "\n") for text in agent_lines.all_inner_texts()] == [CORPUS]
    customer_lines = chat.locator("#chat-transcript .chat-line-customer .chat-line-body")
    assert customer_lines.all_inner_texts() == [XSS[0], CORPUS]
    assert_nothing_ran(agent, dialogs)
    assert_nothing_ran(chat_customer, dialogs)

    # SMS and MMS from a contact with a hostile name, offered while the agent is in the chat.
    for line in XSS:
        send_sms(shared_twilio_standin, server, line)
    send_mms(
        server,
        body="see pictures",
        media=["javascript:alert('xss-mms')", "http://127.0.0.1:9/x.png\" onerror=\"alert('m')"],
    )
    sms_offer = agent.locator("#conversation-list .offer")
    expect(sms_offer.locator(".contact-name")).to_have_text(f"{SMS_FIRST_NAME} {SMS_LAST_NAME}")
    assert_nothing_ran(agent, dialogs)
    sms_offer.locator("button.accept").click()
    agent.wait_for_url(lambda url: not url.endswith(f"/conversations/{chat_conversation}/"))
    wait_until_live(agent)
    expect(agent.locator("#timeline .message.inbound .body")).to_have_text([*XSS, "see pictures"])
    links = agent.locator("#timeline .attachments a")
    expect(links).to_have_count(1)  # the javascript: URL was dropped
    expect(links).to_have_attribute("href", "http://127.0.0.1:9/x.png\" onerror=\"alert('m')")
    assert_nothing_ran(agent, dialogs)

    # The desktop's list with both names.
    agent.goto(f"{server.url}/")
    wait_until_live(agent)
    expect(agent.locator("#conversation-list .contact-name")).to_have_text(
        [f"{SMS_FIRST_NAME} {SMS_LAST_NAME}", CHAT_NAME]
    )
    assert_nothing_ran(agent, dialogs)

    # Both contacts' pages, with the Activities' timelines loaded into the page.
    for contact in Contact.objects.filter(conversations__isnull=False).distinct():
        agent.goto(f"{server.url}/contacts/{contact.pk}/")
        expect(agent.locator("h1")).to_have_text(contact.display_name)
        details = agent.locator("#activities details.activity-timeline")
        expect(details).to_have_count(1)
        details.locator("summary").click()
        bodies = details.locator(".activity-messages .message.inbound .body")
        expect(bodies.first).to_be_visible()
        assert set(XSS) <= set("\n".join(bodies.all_inner_texts()).splitlines())
        assert_nothing_ran(agent, dialogs)
    assert Conversation.objects.count() == 2
