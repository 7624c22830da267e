"""The agent's state on every agent page, in real Chromium (issue 15, "State everywhere"): on the
Contacts page a busy agent asks for Not Ready: Lunch, sees it pending, and sees it take effect
live when their wrap-up is done in another tab; back to Ready, a new offer shows there as a
link to the desktop, whose offer card has its countdown ring."""

import pytest
from playwright.sync_api import expect

from conversations.models import NotReadyReason
from tests.support.browser import login, wait_until_live

from .desktop import accepted_sms_conversation, post_as, send_sms

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_on_the_contacts_page_the_state_is_live_with_a_pending_not_ready_and_offers_show(
    page, shared_asgi_server, shared_twilio_standin, agent_a, service_a, sms_entry_point_a
):
    NotReadyReason.objects.create(name="Lunch")
    conversation = accepted_sms_conversation(agent_a, "Where is my parcel?", phone="+14155550171")
    server = shared_asgi_server
    login(page, server.url, agent_a.username)
    page.goto(f"{server.url}/contacts/")
    wait_until_live(page)
    state = page.locator("#agent-state")
    expect(state).to_have_attribute("data-state", "busy")
    expect(page.locator("#agent-state-timer")).not_to_be_empty()
    pending = page.locator("#agent-state-pending")
    expect(pending).to_be_hidden()
    # The offer accepted seconds ago is replayed to this fresh page with its acceptance: no link.
    assert page.locator("#offer-waiting:visible").count() == 0

    state.select_option("not_ready|Lunch")
    expect(pending).to_have_text("then Not Ready: Lunch (pending)")
    expect(state).to_have_attribute("data-state", "busy")
    expect(state).to_have_value("busy|")  # what the agent is until the work ends

    # The work ends elsewhere (the desktop's end and wrap-up, posted with this session): this
    # page follows, and the request applies.
    assert post_as(page, f"/conversations/{conversation.pk}/end/").ok
    assert post_as(page, f"/conversations/{conversation.pk}/wrap-up/").ok
    expect(state).to_have_value("not_ready|Lunch")
    expect(state).to_have_attribute("data-state", "not_ready")
    expect(pending).to_be_hidden()

    # Ready from the contacts page; a customer texts: the offer is announced here too.
    state.select_option("ready|")
    expect(state).to_have_attribute("data-state", "ready")
    send_sms(shared_twilio_standin, server, "Hello again", phone="+14155550172")
    link = page.locator("#offer-waiting")
    expect(link).to_have_text("New conversation offered")
    link.click()
    page.wait_for_url(f"{server.url}/")
    offer = page.locator("#conversation-list .offer")
    expect(offer).to_have_count(1)
    # The offer's countdown ring: the share of the offer's time left, drawn from its timestamps.
    ring = offer.locator(".countdown-ring")
    expect(ring).to_be_visible()
    page.wait_for_function(
        """() => {
          const ring = document.querySelector('#conversation-list .offer .countdown-ring');
          const left = Number(ring && ring.style.getPropertyValue('--left'));
          return left > 0 && left <= 1;
        }"""
    )
