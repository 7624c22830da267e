"""Phone calls in real Chromium against a live server (issue 14): a phone system's CTI events pop
the caller's conversation on the desktop of the agent whose extension rings, and the call bar
follows each step live (a repeated and a late event change nothing)."""

import re
import time
from xml.etree import ElementTree as ET

import pytest
import requests
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from channels_app.models import CallRecording, VoiceCall
from contactcenter.tokens import api_token_create
from contacts.models import Identity
from conversations.models import Channel
from tests.factories import (
    BusinessHoursFactory,
    ContactFactory,
    EntryPointFactory,
    IdentityFactory,
    UserFactory,
)
from tests.support.browser import login, wait_until_live
from tests.support.twilio_voice import Conference, wav_tone

from .desktop import open_chat, start_chat

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


AGENT_PHONE = "+14155550142"


def wait_for(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_twilio_call_from_the_chat_customer_is_answered_held_transferred_and_ended(
    page, chat_customer, shared_asgi_server, shared_twilio_standin, agent_a, service_a,
    service_b, website_chat_a,
):  # fmt: skip
    """Acceptance 1: the customer of an open chat dials the number; the call joins the chat's
    conversation and rings on its agent (the caller queued with music: TwiML checked), who
    answers (their phone is rung into the call's conference), holds, resumes and transfers it
    to a service; the caller hangs up. Each step shows live in the call bar, from Twilio's
    callbacks; the stand-in receives each REST request once."""
    server, twilio = shared_asgi_server, shared_twilio_standin
    agent_a.agent_profile.voice_endpoint = AGENT_PHONE
    agent_a.agent_profile.save(update_fields=["voice_endpoint"])
    EntryPointFactory(name="Support line", channel=Channel.VOICE, address=DID, service=service_a)
    twilio.voice.status_url = f"{server.url}/webhooks/twilio/voice/status/"
    login(page, server.url, agent_a.username)
    chat = open_chat(chat_customer, server)
    start_chat(chat, "I will call you", name="Vera Voice", email="vera@example.com",
               phone="(415) 555-0123")  # fmt: skip
    page.locator("#conversation-list .offer button.accept").click()
    page.wait_for_url(re.compile(re.escape(server.url) + r"/conversations/\d+/$"))
    wait_until_live(page)
    conversation_id = int(page.locator("body").get_attribute("data-conversation-id"))

    sid, answer = twilio.voice.place_call(
        f"{server.url}/webhooks/twilio/voice/", from_=CALLER, to=DID, caller_name="VERA VOICE"
    )
    assert answer.status == 200, answer.body
    twiml = ET.fromstring(answer.body)
    assert [child.tag for child in twiml] == ["Say", "Enqueue"]
    call = VoiceCall.objects.get(provider_call_id=sid)
    assert call.interaction.conversation_id == conversation_id  # joins the chat's conversation
    bar = page.locator("#softphone")
    expect(bar).to_have_attribute("data-state", "ringing")
    expect(bar.locator(".call-state")).to_contain_text(f"Phone call from {CALLER}: ringing")

    bar.locator("[data-action=answer]").click()
    conference = f"cc-call-{call.pk}"
    label = f"agent-{agent_a.pk}"
    wait_for(lambda: label in twilio.voice.conferences.get(conference, Conference("")).participants,
             "the agent rung into the conference")  # fmt: skip
    expect(bar).to_contain_text("Ringing your phone…")
    twilio.voice.answer(conference, label)
    expect(bar).to_have_attribute("data-state", "connected")
    expect(bar.locator(".call-state")).to_contain_text(f"On the phone with {CALLER}")

    bar.locator("[data-action=hold]").click()
    expect(bar).to_have_attribute("data-state", "on_hold")
    bar.locator("[data-action=resume]").click()
    expect(bar).to_have_attribute("data-state", "connected")
    expect(page.locator("#timeline")).to_contain_text("resumed the call.")

    page.locator("details.menu:has(#transfer-target) > summary").click()
    page.select_option("#transfer-target", value=f"service:{service_b.pk}")
    page.locator("form.js-transfer button[type=submit]").click()
    wait_for(lambda: VoiceCall.objects.get(pk=call.pk).state == "queued", "the call queued")
    wait_for(lambda: len(twilio.voice.rest_requests()) >= 6, "the call sent back to a queue")

    twilio.voice.call_status(sid, "completed")
    wait_for(lambda: VoiceCall.objects.get(pk=call.pk).state == "ended", "the call ended")
    requests = [(method, kind) for method, kind, _r in twilio.voice.rest_requests()]
    assert requests == [
        ("POST", "call"),  # into the conference
        ("POST", "participants"),  # the agent's phone rung
        ("POST", "participant"),  # hold
        ("POST", "participant"),  # resume
        ("DELETE", "participant"),  # the agent out
        ("POST", "call"),  # back to a queue
    ]
    last = twilio.voice.rest_requests()[-1][2].form["Twiml"]
    assert ET.fromstring(last).find("Enqueue").text == f"cc-service-{service_b.pk}"


def test_after_hours_a_voicemail_is_offered_like_an_email_and_plays_from_activities(
    page, shared_asgi_server, shared_twilio_standin, agent_a, service_a
):
    """Acceptance 4: closed, the caller hears the closed message and leaves a voicemail; it is
    offered to the agent like an email, and its recording (fetched from Twilio by the worker)
    plays in the conversation and in the contact's Activities."""
    server, twilio = shared_asgi_server, shared_twilio_standin
    BusinessHoursFactory(service=service_a, weekday=0, opens="03:00", closes="03:01")
    EntryPointFactory(name="Support line", channel=Channel.VOICE, address=DID, service=service_a)
    login(page, server.url, agent_a.username)

    sid, answer = twilio.voice.place_call(
        f"{server.url}/webhooks/twilio/voice/", from_=CALLER, to=DID
    )
    record = ET.fromstring(answer.body).find("Record")
    assert record is not None, answer.body
    recording_sid = "RE" + "5" * 32
    twilio.voice.recordings[recording_sid] = wav_tone(2.0)
    account = twilio.account_sid
    twilio.voice.post(
        record.get("recordingStatusCallback"),
        {
            "CallSid": sid,
            "RecordingSid": recording_sid,
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/"
            f"{recording_sid}",
            "RecordingStatus": "completed",
            "RecordingDuration": "2",
        },
    )

    offer = page.locator("#conversation-list .offer")
    expect(offer.locator(".channel-voicemail")).to_be_visible()
    offer.locator("button.accept").click()
    page.wait_for_url(re.compile(re.escape(server.url) + r"/conversations/\d+/$"))
    wait_until_live(page)
    expect(page.locator("#timeline")).to_contain_text("Voicemail, 0:02")
    conversation_id = int(page.locator("body").get_attribute("data-conversation-id"))
    wait_for(lambda: CallRecording.objects.filter(size__gt=0).exists(), "the recording fetched")

    page.goto(f"{server.url}/contacts/activities/{conversation_id}/timeline/")
    audio = page.locator(".call-recording audio").first
    expect(audio).to_be_attached()
    duration = page.evaluate(
        """async (src) => {
            const response = await fetch(src, { credentials: "same-origin" });
            const decoded = await new AudioContext().decodeAudioData(await response.arrayBuffer());
            return decoded.duration;
        }""",
        audio.get_attribute("src"),
    )
    assert duration > 1.5
