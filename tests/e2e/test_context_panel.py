"""The context panel beside the conversation, in real Chromium (issue 15, acceptance 1-3): the
recognized contact, their earlier conversations and the pre-chat answers without leaving the
page; an inline rename reaching the list of a second tab of the same agent live; the service's
fields filled during the conversation, a required one blocking wrap-up until filled, then shown in
Activities; on a phone the list, the conversation and the panel as three switchable views; no
console error on the agent's pages."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Contact
from conversations.models import Conversation, Interaction
from tests.factories import (
    CannedResponseFactory,
    ContactFactory,
    ConversationFactory,
    CustomFieldDefinitionFactory,
    DispositionFactory,
    IdentityFactory,
    InteractionFactory,
)
from tests.support.browser import assert_same_page, login, mark_page, wait_until_live

from .desktop import accepted_sms_conversation, open_chat, start_chat

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def earlier_conversations(contact: Contact, service, agent, notes: list[str]) -> None:
    """Closed conversations of ``contact``, oldest first, each with a disposition and notes."""
    disposition = DispositionFactory(service=service, name="Refunded")
    start = timezone.now() - timedelta(days=len(notes) + 1)
    for day, note in enumerate(notes):
        conversation = ConversationFactory(
            contact=contact,
            service=service,
            agent=agent,
            status=Conversation.Status.CLOSED,
            opened_at=start + timedelta(days=day),
            closed_at=start + timedelta(days=day, minutes=6),
            disposition=disposition,
            wrap_up_notes=note,
        )
        InteractionFactory(conversation=conversation, state=Interaction.State.ENDED)


def open_tab(page, name: str):
    page.locator(f"#context-panel [role=tab][data-tab={name}]").click()
    section = page.locator(f'#context-panel [data-tab-panel="{name}"]')
    expect(section).to_be_visible()
    return section


def test_panel_shows_contact_history_and_prechat_and_a_rename_reaches_a_second_tab_live(
    page, chat_customer, shared_asgi_server, agent_a, service_a, website_chat_a
):
    server, agent = shared_asgi_server, page
    known = ContactFactory(first_name="Lucia", last_name="Pérez", company="Acme")
    IdentityFactory(contact=known, kind="email", value="lucia@example.com")
    earlier_conversations(known, service_a, agent_a, ["Card replaced.", "Refund sent."])
    login(agent, server.url, agent_a.username)
    chat = open_chat(chat_customer, server)
    start_chat(chat, "My card was charged twice", name="Lucia Pérez", email="lucia@example.com")
    agent.locator("#conversation-list .offer button.accept").click()
    agent.wait_for_url(f"{server.url}/conversations/*/")
    wait_until_live(agent)
    conversation = Conversation.objects.get(pk=agent.locator("body").get_attribute(
        "data-conversation-id"
    ))  # fmt: skip
    assert conversation.contact_id == known.pk  # recognized by the pre-chat email

    # Everything in the page: the contact...
    marker = mark_page(agent)
    contact = open_tab(agent, "contact")
    expect(contact.locator(".context-contact-name")).to_have_text("Lucia Pérez")
    expect(contact).to_contain_text("Acme")
    expect(contact.locator('[data-identity-kind="email"]')).to_have_text("lucia@example.com")
    # ... their earlier conversations, newest first, expandable in place...
    activities = open_tab(agent, "activities")
    expect(agent.locator("#context-tab-activities .count")).to_have_text("2")
    items = activities.locator(".panel-activity")
    expect(items).to_have_count(2)
    expect(items.first.locator(".activity-notes")).to_be_hidden()
    items.first.locator("summary").click()
    expect(items.first.locator(".activity-notes")).to_have_text("Refund sent.")
    expect(items.first.locator("summary")).to_contain_text("Refunded")
    # ... and the pre-chat answers with the page the customer is on.
    details = open_tab(agent, "details")
    expect(details).to_contain_text("My card was charged twice")
    expect(details).to_contain_text("lucia@example.com")
    page_link = details.locator("a", has_text="Help")  # the chat page's title
    expect(page_link).to_have_attribute("href", f"{server.url}/chat/website/")
    assert_same_page(agent, marker)

    # A second tab of the same agent shows the same conversation in its list.
    second = agent.context.new_page()
    second.goto(f"{server.url}/")
    wait_until_live(second)
    item = second.locator(
        f'#conversation-list .conversation-item[data-conversation-id="{conversation.pk}"]'
    )
    expect(item.locator(".contact-name")).to_have_text("Lucia Pérez")

    # Inline edit in the first tab: the second tab's list follows, live.
    open_tab(agent, "contact")
    agent.locator(".contact-inline-edit summary").click()
    agent.fill("#contact-first-name", "Lucía")
    agent.fill("#contact-last-name", "Pérez Gómez")
    agent.locator("#contact-inline-form button[type=submit]").click()
    expect(agent.locator(".context-contact-name")).to_have_text("Lucía Pérez Gómez")
    expect(agent.locator(".workspace-header .contact-name")).to_have_text("Lucía Pérez Gómez")
    expect(item.locator(".contact-name")).to_have_text("Lucía Pérez Gómez")
    known.refresh_from_db()
    assert (known.first_name, known.last_name) == ("Lucía", "Pérez Gómez")
    assert_same_page(agent, marker)

    # A name too long is refused with the reason, in place.
    agent.locator(".contact-inline-edit summary").click()
    agent.evaluate(
        "() => document.getElementById('contact-first-name').removeAttribute('maxlength')"
    )
    agent.fill("#contact-first-name", "x" * 300)
    agent.locator("#contact-inline-form button[type=submit]").click()
    expect(agent.locator("#contact-inline-form .error")).not_to_be_empty()
    known.refresh_from_db()
    assert known.first_name == "Lucía"


def test_required_field_blocks_wrap_up_until_filled_in_the_panel_then_shows_in_activities(
    page, shared_asgi_server, shared_twilio_standin, agent_a, service_a, sms_entry_point_a
):
    CustomFieldDefinitionFactory(service=service_a, key="order", label="Order number")
    CustomFieldDefinitionFactory(
        service=service_a,
        key="reason",
        label="Reason",
        kind="choice",
        choices="Delivery\nBilling",
        required=True,
    )
    conversation = accepted_sms_conversation(agent_a, "Parcel not here", phone="+14155550161")
    server, agent = shared_asgi_server, page
    login(agent, server.url, agent_a.username)
    agent.goto(f"{server.url}/conversations/{conversation.pk}/")
    wait_until_live(agent)
    expect(agent.locator("#context-tab-details .count-warn")).to_have_text("1")
    details = open_tab(agent, "details")
    agent.fill("#field-order", "A-1042")
    agent.locator("#conversation-fields-form button[type=submit]").click()
    expect(agent.locator("#field-order")).to_have_value("A-1042")
    expect(agent.locator("#context-tab-details .count-warn")).to_have_text("1")

    agent.locator("form.js-end button[type=submit]").click()
    wrap_up = agent.locator("#wrap-up")
    expect(wrap_up).to_be_visible()
    wait_until_live(agent)
    expect(agent.locator("#wrap-up-missing")).to_contain_text("Reason")
    marker = mark_page(agent)
    wrap_up.locator("button[type=submit]").click()
    expect(agent.locator("#wrap-up-error")).to_have_text(
        "Fill in the required fields first: Reason."
    )
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.WRAP_UP

    # An invalid choice sent anyway is refused per field; then the right one is saved.
    details = open_tab(agent, "details")
    agent.evaluate(
        """() => { const o = document.createElement('option'); o.value = o.textContent = 'Refund';
                   document.getElementById('field-reason').append(o); }"""
    )
    agent.select_option("#field-reason", "Refund")
    agent.locator("#conversation-fields-form button[type=submit]").click()
    expect(details.locator(".error")).to_have_text("Reason: Choose one of: Delivery, Billing.")
    expect(agent.locator("#field-reason")).to_have_attribute("aria-invalid", "true")
    agent.select_option("#field-reason", "Billing")
    agent.locator("#conversation-fields-form button[type=submit]").click()
    expect(agent.locator("#context-tab-details .count-warn")).to_have_count(0)
    expect(agent.locator("#wrap-up-missing")).to_be_hidden()
    assert_same_page(agent, marker)

    wrap_up.locator("button[type=submit]").click()
    agent.wait_for_url(f"{server.url}/")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert conversation.custom_fields == {"order": "A-1042", "reason": "Billing"}

    agent.goto(f"{server.url}/contacts/{conversation.contact_id}/")
    activity = agent.locator(f'#activities .activity[data-conversation-id="{conversation.pk}"]')
    expect(activity.locator(".activity-facts")).to_contain_text("Order number")
    expect(activity.locator(".activity-field")).to_have_text(["A-1042", "Billing"])


def test_on_a_phone_list_conversation_and_context_are_three_views_and_no_page_logs_an_error(
    page, shared_asgi_server, shared_twilio_standin, agent_a, service_a, sms_entry_point_a
):
    CannedResponseFactory(service=service_a, title="Case", body="Your case is {{ case }}.")
    CannedResponseFactory(service=service_a, title="Goodbye", body="Thanks, bye!")
    conversation = accepted_sms_conversation(agent_a, "Hello from a phone", phone="+14155550162")
    server, agent = shared_asgi_server, page
    problems: list[str] = []
    agent.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    agent.on("pageerror", lambda error: problems.append(str(error)))
    agent.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    agent.set_viewport_size({"width": 390, "height": 844})
    login(agent, server.url, agent_a.username)
    agent.goto(f"{server.url}/conversations/{conversation.pk}/")
    wait_until_live(agent)
    width = "document.documentElement.scrollWidth"
    views = {
        "list": agent.locator(".conversation-list"),
        "conversation": agent.locator(".workspace"),
        "context": agent.locator("#context-panel"),
    }
    # It opens on the conversation; each view is one tap away, nothing wider than the screen.
    for name in ["conversation", "context", "list", "conversation"]:
        if name != "conversation" or agent.locator("#desktop").get_attribute("data-view") != name:
            agent.locator(f".view-switch button[data-view={name}]").click()
        for other, locator in views.items():
            if other == name:
                expect(locator).to_be_visible()
            else:
                expect(locator).to_be_hidden()
        expect(agent.locator(f".view-switch button[data-view={name}]")).to_have_attribute(
            "aria-pressed", "true"
        )
        assert agent.evaluate(width) <= 390, name
    # From the Knowledge tab, a canned response goes into the reply and back to the conversation.
    agent.locator(".view-switch button[data-view=context]").click()
    knowledge = open_tab(agent, "knowledge")
    items = knowledge.locator(".knowledge-item")
    expect(items).to_have_count(2)
    agent.fill("#knowledge-search", "case")
    expect(items.filter(visible=True)).to_have_count(1)
    expect(items.filter(visible=True)).to_contain_text(f"Your case is {conversation.number}.")
    items.filter(visible=True).locator(".js-insert").click()
    expect(views["conversation"]).to_be_visible()
    expect(agent.locator("#composer-body")).to_have_value(f"Your case is {conversation.number}.")
    expect(agent.locator("#composer-body")).to_be_focused()

    # The agent's other pages: no console error, no failed request (the favicon included).
    agent.set_viewport_size({"width": 1280, "height": 720})
    for path in ["/", "/contacts/", f"/contacts/{conversation.contact_id}/"]:
        agent.goto(f"{server.url}{path}")
        agent.wait_for_load_state("load")
    agent.goto(f"{server.url}/conversations/{conversation.pk}/")
    wait_until_live(agent)
    assert problems == []
