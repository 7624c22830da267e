"""Phone calls in real Chromium against a live server (issue 14): a phone system's CTI events pop
the caller's conversation on the desktop of the agent whose extension rings, and the call bar
follows each step live (a repeated and a late event change nothing)."""

import re

import pytest
import requests
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from channels_app.models import VoiceCall
from contactcenter.tokens import api_token_create
from contacts.models import Identity
from conversations.models import Channel
from tests.factories import ContactFactory, EntryPointFactory, IdentityFactory, UserFactory
from tests.support.browser import login, wait_until_live

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CALLER = "+14155550123"
DID = "+14155550100"


@pytest.fixture
def pbx_key(db):
    user = UserFactory(username="asterisk")
    user.user_permissions.add(Permission.objects.get(codename="report_cti_calls"))
    _token, key = api_token_create(user=user, name="Asterisk", scopes=["cti"])
    return key


def test_cti_events_pop_the_conversation_and_the_call_bar_follows_them(
    page, shared_asgi_server, agent_a, service_a, pbx_key
):
    server = shared_asgi_server
    agent_a.agent_profile.extension = "201"
    agent_a.agent_profile.save(update_fields=["extension"])
    EntryPointFactory(name="Support line", channel=Channel.VOICE, address=DID, service=service_a)
    contact = ContactFactory(first_name="Vera", last_name="Voice")
    IdentityFactory(contact=contact, kind=Identity.Kind.PHONE, value=CALLER)
    login(page, server.url, agent_a.username)

    def event(name: str, sequence: int, **fields) -> dict:
        response = requests.post(
            f"{server.url}/api/v1/cti/events/",
            json={
                "call_id": "1733412345.42",
                "event": name,
                "sequence": sequence,
                "from": CALLER,
                "to": DID,
                **fields,
            },
            headers={"Authorization": f"Token {pbx_key}"},
            timeout=30,
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    event("new", 1)
    expect(page).to_have_url(f"{server.url}/")  # waiting in the PBX's queue: nothing pops yet
    event("ringing", 2, agent="201")

    # The screen-pop: the desktop opens the caller's conversation by itself.
    page.wait_for_url(re.compile(re.escape(server.url) + r"/conversations/\d+/$"))
    wait_until_live(page)
    call = VoiceCall.objects.get()
    assert page.locator("body").get_attribute("data-conversation-id") == str(
        call.interaction.conversation_id
    )
    bar = page.locator("#softphone")
    expect(bar).to_have_attribute("data-state", "ringing")
    expect(bar.locator(".call-state")).to_contain_text(f"Phone call from {CALLER}: ringing")
    expect(page.locator(".workspace-header")).to_contain_text("Vera Voice")
    expect(bar.locator("button")).to_have_count(0)  # controlled on the phone

    event("answered", 3, agent="201")
    expect(bar).to_have_attribute("data-state", "connected")
    expect(bar.locator(".call-state")).to_contain_text(f"On the phone with {CALLER}")
    assert event("answered", 3, agent="201")["duplicate"] is True
    event("hold", 4)
    expect(bar).to_have_attribute("data-state", "on_hold")
    event("resume", 6)
    expect(bar).to_have_attribute("data-state", "connected")
    assert event("hold", 5)["applied"] is False  # late: the page stays connected
    page.wait_for_timeout(500)
    expect(bar).to_have_attribute("data-state", "connected")

    event("hungup", 7, hangup_by="customer")
    expect(bar).to_have_attribute("data-state", "none")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"The customer is calling from {CALLER}.")
    expect(timeline).to_contain_text("answered the call.")
    expect(timeline).to_contain_text("put the customer on hold.")
    expect(timeline).to_contain_text("The customer hung up. Talk time")
