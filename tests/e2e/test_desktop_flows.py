"""The agent desktop's flows in real Chromium against one live server shared by this module:
a chat and an SMS handled at once, an SMS sent from inside a chat and answered by SMS (one
conversation), and a wrap-up whose disposition is required.

The customer's chat runs in its own browser context on the chat page (/chat/<entry point>/, what
the widget shows in its iframe); SMS go through the Twilio stand-in (signed webhooks, status
callbacks) with the real ``twilio`` client sending.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from channels_app.email.services import email_receive
from contacts.models import Contact
from conversations import services
from conversations.models import Conversation, Disposition, Offer
from tests.channels_app.email.mail import customer_email
from tests.factories import DispositionFactory, EntryPointFactory
from tests.support.browser import assert_same_page, login, mark_page, wait_until_live

from .desktop import (
    ENTRY_POINT,
    accepted_sms_conversation,
    assert_matches_fresh_render,
    chat_says,
    expect_list_items,
    open_chat,
    send_sms,
    start_chat,
)
from .test_webchat import accept_offer as accept_chat_offer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def accept_sms_offer(page, server) -> Conversation:
    """Accept the one SMS offer in the list; the page opens that conversation (from wherever)."""
    before = page.url
    offer = page.locator("#conversation-list .offer")
    expect(offer).to_have_count(1)
    offer.locator("button.accept").click()
    page.wait_for_url(
        lambda url: (
            url != before
            and re.fullmatch(re.escape(server.url) + r"/conversations/\d+/", url) is not None
        )
    )
    wait_until_live(page)
    return current_conversation(page)


def current_conversation(page) -> Conversation:
    return Conversation.objects.get(pk=page.locator("body").get_attribute("data-conversation-id"))


def list_item(page, conversation: Conversation):
    return page.locator(
        f'#conversation-list .conversation-item[data-conversation-id="{conversation.pk}"]'
    )


def timeline_channels(page) -> set[str]:
    """The channel of every row of the open timeline."""
    return set(
        page.evaluate(
            """() => [...document.querySelectorAll("#timeline .message .channel")].map(
                (el) => [...el.classList].find((c) => c.startsWith("channel-")))"""
        )
    )


def customer_lines(page) -> list[str]:
    return page.locator("#timeline .message.inbound .body").all_inner_texts()


def test_agent_handles_a_chat_and_an_sms_at_once_both_live_in_the_list_each_with_its_timeline(
    page, chat_customer, shared_asgi_server, shared_twilio_standin, agent_a, sms_entry_point_a,
    website_chat_a,
):  # fmt: skip
    server, agent = shared_asgi_server, page
    login(agent, server.url, agent_a.username)
    chat = open_chat(chat_customer, server)
    start_chat(chat, "Chat: where is my order?", name="Maria Chat", email="maria@example.com")
    accept_chat_offer(agent, server, name="Maria Chat")
    chatting = current_conversation(agent)
    expect(chat.locator("#chat-agent")).to_have_text("You are chatting with Agent agent_a")

    # An SMS arrives while the agent is in the chat: offered in the list, without a reload.
    marker = mark_page(agent)
    send_sms(shared_twilio_standin, server, "SMS: my parcel is late")
    offer = agent.locator("#conversation-list .offer")
    expect(offer).to_have_count(1)
    expect(offer.locator(".channel-sms")).to_be_visible()
    assert_same_page(agent, marker)
    texting = accept_sms_offer(agent, server)
    assert {chatting.agent_id, texting.agent_id} == {agent_a.pk}
    assert chatting.pk != texting.pk

    items = agent.locator("#conversation-list .conversation-item")
    expect_list_items(agent, 2)
    expect(list_item(agent, chatting).locator(".channel-chat")).to_be_visible()
    expect(list_item(agent, texting).locator(".channel-sms")).to_be_visible()
    assert customer_lines(agent) == ["SMS: my parcel is late"]
    assert timeline_channels(agent) == {"channel-sms"}

    # In the SMS workspace: the chat's new line updates the list only...
    marker = mark_page(agent)
    chat_says(chat, "Chat: it is order 42")
    expect(list_item(agent, chatting).locator(".unread")).to_have_text("2")
    expect(items.first).to_have_attribute("data-conversation-id", str(chatting.pk))
    # ... the SMS's new line updates the list and this timeline.
    send_sms(shared_twilio_standin, server, "SMS: tracking number 1Z999")
    expect(agent.locator("#timeline .message.inbound")).to_have_count(2)
    expect(list_item(agent, texting).locator(".unread")).to_have_text("2")
    expect(items.first).to_have_attribute("data-conversation-id", str(texting.pk))
    assert customer_lines(agent) == ["SMS: my parcel is late", "SMS: tracking number 1Z999"]
    assert timeline_channels(agent) == {"channel-sms"}
    assert_same_page(agent, marker)

    # Over to the chat workspace: its own timeline; the other one still live in the list.
    list_item(agent, chatting).locator("a").click()
    agent.wait_for_url(f"{server.url}/conversations/{chatting.pk}/")
    wait_until_live(agent)
    expect(list_item(agent, chatting)).to_have_class(re.compile(r"\bselected\b"))
    assert customer_lines(agent) == ["Chat: where is my order?", "Chat: it is order 42"]
    assert timeline_channels(agent) == {"channel-chat"}
    marker = mark_page(agent)
    send_sms(shared_twilio_standin, server, "SMS: hello again?")
    expect(list_item(agent, texting).locator(".unread")).to_have_text("3")
    expect(items.first).to_have_attribute("data-conversation-id", str(texting.pk))
    chat_says(chat, "Chat: thanks for looking")
    expect(agent.locator("#timeline .message.inbound")).to_have_count(3)
    expect(list_item(agent, chatting).locator(".unread")).to_have_text("3")
    assert customer_lines(agent) == [
        "Chat: where is my order?",
        "Chat: it is order 42",
        "Chat: thanks for looking",
    ]
    assert timeline_channels(agent) == {"channel-chat"}
    expect_list_items(agent, 2)
    assert_same_page(agent, marker)


def test_sms_sent_from_a_chat_and_answered_by_sms_is_one_conversation_in_the_contacts_activities(
    page, chat_customer, shared_asgi_server, shared_twilio_standin, agent_a, sms_entry_point_a,
    website_chat_a,
):  # fmt: skip
    server, agent = shared_asgi_server, page
    phone = "+14155550177"
    login(agent, server.url, agent_a.username)
    chat = open_chat(chat_customer, server)
    start_chat(
        chat,
        "Can you text me the tracking number?",
        name="Lena Text",
        email="lena@example.com",
        phone="(415) 555-0177",
    )
    accept_chat_offer(agent, server, name="Lena Text")
    conversation = current_conversation(agent)

    # Reply on: "Send an SMS to <phone>" opens an SMS leg in this conversation.
    target = agent.locator("#composer-target")
    expect(target.locator("option", has_text=f"Send an SMS to {phone}")).to_have_count(1)
    target.select_option(label=f"Send an SMS to {phone}")
    agent.fill("#composer-body", "Your tracking number is 1Z999.")
    agent.click("#composer button[type=submit]")
    # A new leg: the page reloads into the conversation with its SMS interaction.
    expect(agent.locator(".workspace-header .channel-sms")).to_contain_text(phone)
    outbound = agent.locator("#timeline .message.outbound.kind-text")
    expect(outbound).to_have_count(1)
    expect(outbound.locator(".channel-sms")).to_be_visible()
    expect(outbound.locator('.status[data-status="delivered"]')).to_be_visible()
    wait_until_live(agent)
    (sent,) = shared_twilio_standin.wait_for_message_requests(1)
    assert (sent.form["To"], sent.form["From"]) == (phone, ENTRY_POINT)
    assert sent.form["Body"] == "Your tracking number is 1Z999."
    # The chat customer's page shows no SMS: that leg is the customer's phone.
    expect(chat.locator("#chat-transcript .chat-line-agent")).to_have_count(0)

    # The customer answers by SMS: it lands in the open conversation, live.
    marker = mark_page(agent)
    send_sms(shared_twilio_standin, server, "Got it, thanks!", phone=phone)
    inbound_sms = agent.locator("#timeline .message.inbound.kind-text:has(.channel-sms)")
    expect(inbound_sms).to_have_count(1)
    expect(inbound_sms.locator(".body")).to_have_text("Got it, thanks!")
    assert_same_page(agent, marker)
    assert customer_lines(agent) == ["Can you text me the tracking number?", "Got it, thanks!"]
    assert timeline_channels(agent) == {"channel-chat", "channel-sms"}
    rows = agent.locator("#timeline .message.kind-text")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator(".channel-chat")).to_be_visible()
    expect(rows.nth(1).locator(".channel-sms")).to_be_visible()
    expect(rows.nth(2).locator(".channel-sms")).to_be_visible()
    item = list_item(agent, conversation)
    expect_list_items(agent, 1)
    expect(item.locator(".channel-chat")).to_be_visible()
    expect(item.locator(".channel-sms")).to_be_visible()

    contact = Contact.objects.get(conversations=conversation)
    assert Conversation.objects.count() == 1
    assert sorted(conversation.interactions.values_list("channel", flat=True)) == ["chat", "sms"]
    assert set(contact.identities.values_list("kind", "value")) >= {
        ("email", "lena@example.com"),
        ("phone", phone),
    }

    # The contact's Activities: one conversation, on both channels.
    agent.goto(f"{server.url}/contacts/{contact.pk}/")
    activities = agent.locator("#activities .activity")
    expect(activities).to_have_count(1)
    expect(activities.first).to_have_attribute("data-conversation-id", str(conversation.pk))
    expect(activities.first.locator(".case-number")).to_have_text(conversation.number)
    expect(activities.first.locator(".channels .channel-chat")).to_be_visible()
    expect(activities.first.locator(".channels .channel-sms")).to_be_visible()


def test_required_disposition_cannot_be_skipped_then_agent_is_ready_and_activity_has_it(
    page, shared_asgi_server, shared_twilio_standin, agent_a, service_a, sms_entry_point_a
):
    service_a.disposition_required = True
    service_a.save(update_fields=["disposition_required"])
    resolved = DispositionFactory(service=service_a, name="Resolved")
    DispositionFactory(service=service_a, name="Call back")
    server, agent = shared_asgi_server, page
    login(agent, server.url, agent_a.username)
    send_sms(shared_twilio_standin, server, "I was charged twice")
    conversation = accept_sms_offer(agent, server)
    state = agent.locator("#agent-state")
    expect(state).to_have_attribute("data-state", "busy")

    agent.click("form.js-end button[type=submit]")
    wrap_up = agent.locator("#wrap-up")
    expect(wrap_up).to_be_visible()
    wait_until_live(agent)
    expect(state).to_have_attribute("data-state", "acw")
    expect(state.locator("option:checked")).to_have_text("After Call Work")
    marker = mark_page(agent)

    # Without a disposition the browser does not even send the form...
    wrap_up.locator("button[type=submit]").click()
    assert agent.locator("#wrap-up-disposition").evaluate("select => select.validity.valueMissing")
    # ... and a form sent anyway (the server decides) is refused, saying why.
    agent.evaluate("() => { document.getElementById('wrap-up').noValidate = true; }")
    wrap_up.locator("button[type=submit]").click()
    expect(agent.locator("#wrap-up-error")).to_have_text(
        "Choose a disposition: this service requires one."
    )
    assert_same_page(agent, marker)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.disposition) == ("wrap_up", None)
    expect(wrap_up).to_be_visible()
    expect(state).to_have_attribute("data-state", "acw")

    agent.select_option("#wrap-up-disposition", label="Resolved")
    agent.fill("#wrap-up-notes", "Refunded the duplicate charge.")
    wrap_up.locator("button[type=submit]").click()
    agent.wait_for_url(f"{server.url}/")
    wait_until_live(agent)
    expect(state).to_have_value("ready|")
    expect(state.locator("option:checked")).to_have_text("Ready")
    expect_list_items(agent, 0)
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    assert conversation.disposition == Disposition.objects.get(pk=resolved.pk)
    assert conversation.wrap_up_notes == "Refunded the duplicate charge."

    agent.goto(f"{server.url}/contacts/{conversation.contact_id}/")
    activity = agent.locator(f'#activities .activity[data-conversation-id="{conversation.pk}"]')
    expect(agent.locator("#activities .activity")).to_have_count(1)
    expect(activity.locator(".status")).to_have_text("Closed")
    expect(activity.locator(".activity-facts")).to_contain_text("Resolved")
    expect(activity.locator(".activity-notes")).to_have_text("Refunded the duplicate charge.")


def test_on_a_phone_nothing_is_wider_than_the_screen_on_a_laptop_the_timeline_has_half_the_height(
    page, shared_asgi_server, shared_twilio_standin, agent_a, sms_entry_point_a
):
    conversation = accepted_sms_conversation(agent_a, "Where is my parcel?", phone="+14155550142")
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, shared_asgi_server.url, agent_a.username)
    item = list_item(page, conversation)
    expect(item.locator(".contact-name")).to_have_text("+1 415-555-0142")  # an unnamed contact
    expect(item.locator(".preview")).to_have_text("Where is my parcel?")
    expect(item.locator(".timer-label")).to_have_text(["In conversation", "Waiting"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    item.locator("a").click()
    page.wait_for_url(f"{shared_asgi_server.url}/conversations/{conversation.pk}/")
    wait_until_live(page)
    expect(page.locator(".workspace-header .contact-name")).to_have_text("+1 415-555-0142")
    expect(page.locator("#timeline .message.inbound")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # On a laptop screen the conversation's timeline gets at least half of the height.
    page.set_viewport_size({"width": 1280, "height": 720})
    timeline = page.locator("#timeline").bounding_box()
    assert timeline["height"] >= 360, timeline
    send = page.locator("#composer button[type=submit]").bounding_box()
    box = page.locator("#composer-body").bounding_box()
    assert send["x"] > box["x"] + box["width"], "Send sits beside the text box"


#: Where the suite leaves the desktop's screenshots for a person to look at (not compared).
SCREENSHOTS = (
    Path(
        os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "test-artifacts")
    )
    / "screenshots"
)
SIZES = [(1440, 900), (1280, 720), (390, 844)]


def test_screenshots_of_the_desktop_with_a_chat_an_sms_and_an_email_at_three_sizes_and_dark(
    page, chat_customer, shared_asgi_server, shared_twilio_standin, agent_a, service_a,
    sms_entry_point_a, website_chat_a,
):  # fmt: skip
    server, agent = shared_asgi_server, page
    login(agent, server.url, agent_a.username)
    # An email first (it needs the agent's whole capacity free), then a chat and an SMS.
    EntryPointFactory(
        name="Support email", channel="email", address="support@example.com", service=service_a
    )
    email_receive(raw=customer_email(subject="My booking", body="Can I move it to Friday?"))
    offer = Offer.objects.get(agent=agent_a, state=Offer.State.OFFERED)
    services.offer_accept(offer_id=offer.pk, user=agent_a)
    chat = open_chat(chat_customer, server)
    start_chat(chat, "Where is my order?", name="Lucia Chat", email="lucia@example.com")
    accept_chat_offer(agent, server, name="Lucia Chat")
    chat_says(chat, "It is order 42")
    send_sms(shared_twilio_standin, server, "My parcel is late")
    texting = accept_sms_offer(agent, server)
    expect_list_items(agent, 3)
    expect(agent.locator("#timeline .message.inbound")).to_have_count(1)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        agent.set_viewport_size({"width": width, "height": height})
        path = SCREENSHOTS / f"desktop-{width}x{height}.png"
        agent.screenshot(path=str(path))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert texting.pk == current_conversation(agent).pk

    # Dark mode follows the system setting: dark surfaces, light text.
    background = "getComputedStyle(document.body).backgroundColor"
    assert agent.evaluate(background) == "rgb(245, 246, 248)"
    agent.emulate_media(color_scheme="dark")
    agent.set_viewport_size({"width": 1280, "height": 720})
    assert agent.evaluate(background) == "rgb(18, 21, 28)"
    assert agent.evaluate("getComputedStyle(document.body).color") == "rgb(230, 233, 239)"
    agent.screenshot(path=str(SCREENSHOTS / "desktop-1280x720-dark.png"))


def test_keyboard_only_the_agent_moves_through_the_list_accepts_replies_and_ends(
    page, shared_asgi_server, shared_twilio_standin, agent_a, sms_entry_point_a
):
    server = shared_asgi_server
    earlier = accepted_sms_conversation(agent_a, "First customer", phone="+14155550150")
    login(page, server.url, agent_a.username)
    send_sms(shared_twilio_standin, server, "Second customer here", phone="+14155550151")
    accept = page.locator("#conversation-list .offer button.accept")
    expect(accept).to_have_count(1)

    page.keyboard.press("Alt+1")  # the list's first entry: the offer
    expect(accept).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(list_item(page, earlier).locator("a")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(accept).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: re.search(r"/conversations/\d+/$", url) is not None)
    wait_until_live(page)
    conversation = current_conversation(page)
    assert conversation.pk != earlier.pk

    expect(page.locator("#composer-body")).to_be_focused()
    page.keyboard.type("Hello, how can I help?")
    page.keyboard.press("Enter")
    expect(page.locator("#timeline .message.outbound")).to_have_count(1)
    page.keyboard.press("Alt+q")
    expect(page.locator("#conversation-status")).not_to_have_attribute("data-status", "open")
    conversation.refresh_from_db()
    assert conversation.status in (Conversation.Status.WRAP_UP, Conversation.Status.CLOSED)


def test_a_new_message_refreshes_only_its_entry_and_moves_it_to_the_top(
    page, shared_asgi_server, shared_twilio_standin, agent_a, sms_entry_point_a
):
    """Issue 11's per-item update: a customer's message fetches that one entry (not the whole
    list), which moves to the top with its preview and unread count; the page then shows what a
    fresh render shows."""
    first = accepted_sms_conversation(agent_a, "First customer", phone="+14155550181")
    second = accepted_sms_conversation(agent_a, "Second customer", phone="+14155550182")
    server = shared_asgi_server
    login(page, server.url, agent_a.username)
    items = page.locator("#conversation-list .items > .conversation-item")
    expect(items.first).to_have_attribute("data-conversation-id", str(second.pk))
    # The fresh page re-reads its list when it goes live and for the replayed recent events
    # (the offers and acceptances above): let that settle before counting.
    wait_until_live(page)
    page.wait_for_load_state("networkidle")
    fetched: list[str] = []
    page.on(
        "request",
        lambda request: fetched.append(request.url) if "/fragment/list/" in request.url else None,
    )
    marker = mark_page(page)

    send_sms(shared_twilio_standin, server, "First again", phone="+14155550181")
    expect(items.first).to_have_attribute("data-conversation-id", str(first.pk))
    expect(items.first.locator(".preview")).to_have_text("First again")
    expect(items.first.locator(".unread")).to_have_text("2")
    expect(items.nth(1)).to_have_attribute("data-conversation-id", str(second.pk))
    assert fetched == [f"{server.url}/conversations/fragment/list/?conversation={first.pk}"]
    assert_same_page(page, marker)
    assert_matches_fresh_render(page)
