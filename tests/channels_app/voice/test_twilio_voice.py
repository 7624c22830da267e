"""Phone calls through Twilio Voice (issue 14): the signed inbound webhook (Twilio's full payload)
queues the caller (TwiML checked), the router offers the call, the agent who accepts is rung into
the call's conference through the REST API (the local Twilio stand-in, called by the real
``twilio`` client), hold/resume/mute/hang up go through it, and the call's state follows the
callbacks only: forward, idempotent, in any order. Recordings are fetched once and play."""

import re
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree as ET

import pytest

from channels_app import tasks
from channels_app.models import CallCommand, CallRecording, VoiceCall
from contacts.models import Identity
from conversations import services
from conversations.models import Channel, Conversation, Interaction, Message, Offer
from tests.conftest import TWILIO_TEST_SID, TWILIO_TEST_TOKEN
from tests.factories import (
    BusinessHoursFactory,
    ContactFactory,
    EntryPointFactory,
    IdentityFactory,
)
from tests.support.fixtures import twilio_standin  # noqa: F401
from tests.support.twilio_voice import wav_tone

CALLER = "+14155550123"
DID = "+14155550100"
AGENT_PHONE = "+14155550142"


@pytest.fixture
def voice(settings, twilio_standin, service_a, agent_a):  # noqa: F811
    """Twilio configured against the stand-in; a voice number for service A; agent A's phone."""
    settings.TWILIO_ACCOUNT_SID = TWILIO_TEST_SID
    settings.TWILIO_AUTH_TOKEN = TWILIO_TEST_TOKEN
    settings.TWILIO_API_BASE_URL = twilio_standin.base_url
    STANDIN[:] = [twilio_standin]
    settings.PUBLIC_BASE_URL = PUBLIC  # callbacks the stand-in posts go nowhere
    EntryPointFactory(name="Support line", channel=Channel.VOICE, address=DID, service=service_a)
    agent_a.agent_profile.voice_endpoint = AGENT_PHONE
    agent_a.agent_profile.save(update_fields=["voice_endpoint"])
    return twilio_standin


def inbound_params(call_sid: str, **extra) -> dict:
    """Twilio's "a call comes in" webhook, as it posts it."""
    return {
        "AccountSid": TWILIO_TEST_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "ringing",
        "Called": DID,
        "CalledCountry": "US",
        "Caller": CALLER,
        "CallerCountry": "US",
        "CallerName": "Vera Voice",
        "Direction": "inbound",
        "From": CALLER,
        "FromCity": "OAKLAND",
        "FromCountry": "US",
        "FromState": "CA",
        "StirVerstat": "TN-Validation-Passed-A",
        "To": DID,
        "ToCountry": "US",
        **extra,
    }


SID = "CA" + "1" * 32
PUBLIC = "http://127.0.0.1:9"
STANDIN: list = []  # the running stand-in, for the helpers


def call_in(twilio_post, run_on_commit, sid: str = SID):
    """Twilio's webhook for a call it has (the stand-in knows the call)."""
    STANDIN[0].voice.add_call(sid, from_=CALLER, to=DID)
    return run_on_commit(lambda: twilio_post("/webhooks/twilio/voice/", inbound_params(sid)))


def status(twilio_post, run_on_commit, value: str, sid: str = SID, **extra):
    params = {"AccountSid": TWILIO_TEST_SID, "CallSid": sid, "CallStatus": value, **extra}
    return run_on_commit(lambda: twilio_post("/webhooks/twilio/voice/status/", params))


def agent_leg(twilio_post, run_on_commit, call: VoiceCall, agent, value: str):
    params = {"AccountSid": TWILIO_TEST_SID, "CallSid": "CA" + "9" * 32, "CallStatus": value}
    query = {"call": call.pk, "agent": agent.pk}
    return run_on_commit(lambda: twilio_post("/webhooks/twilio/voice/agent/", params, query=query))


def conference(twilio_post, run_on_commit, call: VoiceCall, event: str, label: str, seq: int):
    params = {
        "AccountSid": TWILIO_TEST_SID,
        "ConferenceSid": "CF" + "2" * 32,
        "FriendlyName": f"cc-call-{call.pk}",
        "StatusCallbackEvent": event,
        "ParticipantLabel": label,
        "SequenceNumber": str(seq),
    }
    return run_on_commit(
        lambda: twilio_post("/webhooks/twilio/voice/conference/", params, query={"call": call.pk})
    )


def lines(conversation) -> list[str]:
    return list(
        conversation.messages.filter(kind=Message.Kind.SYSTEM)
        .order_by("id")
        .values_list("body", flat=True)
    )


def rest(standin) -> list[tuple[str, str, dict]]:
    return [(method, kind, request.form) for method, kind, request in standin.voice.rest_requests()]


@pytest.mark.django_db
def test_a_call_is_queued_offered_accepted_connected_held_resumed_and_ended(
    voice, twilio_post, run_on_commit, agent_a, service_a
):
    contact = ContactFactory(first_name="Vera", last_name="Voice")
    IdentityFactory(contact=contact, kind=Identity.Kind.PHONE, value=CALLER)

    response = call_in(twilio_post, run_on_commit)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/xml"
    root = ET.fromstring(response.content)
    assert [child.tag for child in root] == ["Say", "Enqueue"]
    assert root.find("Say").get("language") == "en-US"
    assert f"Thank you for calling {service_a.name}" in root.find("Say").text
    enqueue = root.find("Enqueue")
    call = VoiceCall.objects.get()
    assert enqueue.text == f"cc-service-{service_a.pk}"
    assert enqueue.get("waitUrl") == f"{PUBLIC}/webhooks/twilio/voice/wait/?call={call.pk}"
    assert (call.kind, call.provider, call.provider_call_id, call.state) == (
        "phone",
        "twilio",
        SID,
        "queued",
    )
    conversation = call.interaction.conversation
    assert conversation.contact == contact
    # The router offered the call to agent A (voice capacity), like any call.
    offer = Offer.objects.get(interaction=call.interaction, agent=agent_a)

    # While waiting, the wait URL says the caller's place and plays the hold music.
    params = {"AccountSid": TWILIO_TEST_SID, "CallSid": SID, "QueuePosition": "1"}
    wait = twilio_post("/webhooks/twilio/voice/wait/", params, query={"call": call.pk})
    wait_root = ET.fromstring(wait.content)
    assert [child.tag for child in wait_root] == ["Say", "Play"]
    assert wait_root.find("Say").text == "You are next in line."

    # The agent accepts: the caller goes into the call's conference, agent A's phone is rung.
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    call.refresh_from_db()
    assert call.state == "queued"  # nothing changes until Twilio says so
    requests = rest(voice)
    assert [(method, kind) for method, kind, _form in requests] == [
        ("POST", "call"),
        ("POST", "participants"),
    ]
    into = ET.fromstring(requests[0][2]["Twiml"]).find("./Dial/Conference")
    assert into.text == f"cc-call-{call.pk}"
    assert into.get("participantLabel") == "customer"
    assert into.get("endConferenceOnExit") == "true"
    participant = requests[1][2]
    assert (participant["To"], participant["From"], participant["Label"]) == (
        AGENT_PHONE,
        DID,
        f"agent-{agent_a.pk}",
    )
    assert CallCommand.objects.get(action="connect").state == "done"

    agent_leg(twilio_post, run_on_commit, call, agent_a, "ringing")
    call.refresh_from_db()
    assert call.state == "ringing"
    agent_leg(twilio_post, run_on_commit, call, agent_a, "answered")
    call.refresh_from_db()
    assert call.state == "connected" and call.answered_at is not None

    # Hold: the REST request goes out; the state changes with the conference's callback.
    run_on_commit(lambda: services_hold(call, agent_a, True))
    call.refresh_from_db()
    assert call.state == "connected"
    method, kind, form = rest(voice)[-1]
    assert (method, kind, form["Hold"]) == ("POST", "participant", "true")
    conference(twilio_post, run_on_commit, call, "participant-hold", "customer", 1)
    call.refresh_from_db()
    assert call.state == "on_hold"
    run_on_commit(lambda: services_hold(call, agent_a, False))
    conference(twilio_post, run_on_commit, call, "participant-unhold", "customer", 2)
    call.refresh_from_db()
    assert call.state == "connected"
    # A late hold event (older sequence) changes nothing.
    conference(twilio_post, run_on_commit, call, "participant-hold", "customer", 1)
    call.refresh_from_db()
    assert call.state == "connected"

    # Mute goes to Twilio too, and shows when the conference says so.
    from channels_app.voice import services as voice_services

    run_on_commit(lambda: voice_services.call_mute(call_id=call.pk, user=agent_a, mute=True))
    assert rest(voice)[-1][2]["Muted"] == "true"
    conference(twilio_post, run_on_commit, call, "participant-mute", f"agent-{agent_a.pk}", 3)
    call.refresh_from_db()
    assert call.agent_muted is True

    # Hang up: Twilio hangs up the customer's leg; the call ends with its status callback.
    run_on_commit(lambda: voice_services.call_hang_up(call_id=call.pk, user=agent_a))
    assert rest(voice)[-1][2] == {"Status": "completed"}
    call.refresh_from_db()
    assert call.state == "connected"
    status(twilio_post, run_on_commit, "completed", CallDuration="42")
    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "agent")
    text = lines(conversation)
    assert text[0] == f"The customer is calling from {CALLER}."
    assert "The call is ringing on Agent agent_a's phone." in text
    assert "Agent agent_a answered the call." in text
    assert "Agent agent_a put the customer on hold." in text
    assert "Agent agent_a resumed the call." in text
    assert text[-1].startswith("Agent agent_a hung up. Talk time")
    # Each REST request went out once.
    assert [(method, kind) for method, kind, _form in rest(voice)] == [
        ("POST", "call"),
        ("POST", "participants"),
        ("POST", "participant"),
        ("POST", "participant"),
        ("POST", "participant"),
        ("POST", "call"),
    ]


def services_hold(call, user, hold: bool):
    from channels_app.voice import services as voice_services

    return voice_services.call_hold(call_id=call.pk, user=user, hold=hold)


@pytest.mark.django_db
def test_status_callbacks_in_any_order_end_in_the_right_state_and_repeats_change_nothing(
    voice, twilio_post, run_on_commit, agent_a
):
    call_in(twilio_post, run_on_commit)
    call = VoiceCall.objects.get()
    assert status(twilio_post, run_on_commit, "completed").status_code == 204
    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "customer")
    interaction = Interaction.objects.get(pk=call.interaction_id)
    assert interaction.abandoned_at is not None  # hung up before any agent answered
    ended_at = call.ended_at
    count = Message.objects.count()
    # Late and repeated callbacks: ringing and in-progress after completed, completed again.
    for value in ("ringing", "in-progress", "completed", "no-answer"):
        assert status(twilio_post, run_on_commit, value).status_code == 204
    call.refresh_from_db()
    assert (call.state, call.end_reason, call.ended_at) == ("ended", "customer", ended_at)
    assert call.provider_status == "completed"
    assert Message.objects.count() == count
    assert lines(call.interaction.conversation)[-1] == (
        "The customer hung up before an agent answered."
    )
    # Calling in again (Twilio retrying its webhook) gives the same call and queue TwiML.
    again = call_in(twilio_post, run_on_commit)
    assert again.status_code == 200 and VoiceCall.objects.count() == 1


@pytest.mark.django_db
def test_a_recording_callback_attaches_one_playable_recording(
    voice, twilio_post, run_on_commit, agent_a, client, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    call_in(twilio_post, run_on_commit)
    call = VoiceCall.objects.get()
    voice.voice.recordings["RE" + "3" * 32] = wav = wav_tone(1.0)
    params = {
        "AccountSid": TWILIO_TEST_SID,
        "CallSid": SID,
        "RecordingSid": "RE" + "3" * 32,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_TEST_SID}/"
        f"Recordings/RE{'3' * 32}",
        "RecordingStatus": "completed",
        "RecordingDuration": "1",
    }
    for _ in range(2):  # Twilio may post it twice
        response = run_on_commit(
            lambda: twilio_post(
                "/webhooks/twilio/voice/recording/", params, query={"call": call.pk}
            )
        )
        assert response.status_code == 204
    recording = CallRecording.objects.get()
    assert recording.size == len(wav) and recording.content_type == "audio/wav"
    fetches = [kind for method, kind, _r in voice.voice.rest_requests() if kind == "recording"]
    assert fetches == ["recording"]
    # The agent of the conversation plays it (once it is theirs).
    Conversation.objects.filter(pk=call.interaction.conversation_id).update(agent=agent_a)
    client.force_login(agent_a)
    played = client.get(f"/voice/recordings/{recording.pk}/")
    assert played.status_code == 200
    assert b"".join(played.streaming_content) == wav


@pytest.mark.django_db
def test_unsigned_or_malformed_voice_webhooks_are_refused_and_store_nothing(
    voice, twilio_post, run_on_commit
):
    params = inbound_params(SID)
    assert twilio_post("/webhooks/twilio/voice/", params, signature="bad").status_code == 403
    bad = twilio_post("/webhooks/twilio/voice/", {**params, "CallSid": "CA-1"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"].keys() == {"CallSid"}
    unknown = twilio_post("/webhooks/twilio/voice/", {**params, "To": "+14155550999"})
    assert unknown.status_code == 404
    weird = twilio_post(
        "/webhooks/twilio/voice/status/",
        {"AccountSid": TWILIO_TEST_SID, "CallSid": SID, "CallStatus": "exploded"},
    )
    assert weird.status_code == 400
    assert not VoiceCall.objects.exists() and not Conversation.objects.exists()


@pytest.mark.django_db
def test_a_call_from_a_customer_with_an_open_conversation_rings_on_its_agent(
    voice, twilio_post, run_on_commit, agent_a, service_a
):
    conversation = run_on_commit(
        lambda: services.inbound_receive(
            record=services.InboundRecord(
                channel=Channel.SMS,
                service=service_a,
                identities=[(Identity.Kind.PHONE, CALLER)],
                provider_id="SM1",
                body="Call me?",
                customer_address=CALLER,
            )
        )
    ).message.conversation
    offer = Offer.objects.get(agent=agent_a)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))

    call_in(twilio_post, run_on_commit)

    call = VoiceCall.objects.get()
    assert call.interaction.conversation_id == conversation.pk
    assert (call.state, call.interaction.agent_id) == ("ringing", agent_a.pk)
    from channels_app.voice import services as voice_services

    run_on_commit(lambda: voice_services.call_answer(call_id=call.pk, user=agent_a))
    assert [kind for _m, kind, _f in rest(voice)] == ["call", "participants"]
    # Answering twice rings the phone once.
    run_on_commit(lambda: voice_services.call_answer(call_id=call.pk, user=agent_a))
    assert [kind for _m, kind, _f in rest(voice)] == ["call", "participants"]


@pytest.mark.django_db
def test_a_transient_twilio_failure_is_retried_in_order_and_a_permanent_one_is_told(
    voice, twilio_post, run_on_commit, agent_a
):
    call_in(twilio_post, run_on_commit)
    call = VoiceCall.objects.get()
    offer = Offer.objects.get(agent=agent_a)
    voice.fail_next(1, status=503)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    command = CallCommand.objects.get(action="connect")
    assert (command.state, command.attempts, command.error) == (
        "pending",
        1,
        "Internal Server Error",
    )
    # The retry (a delayed task; here run by hand) sends it again: done, in order.
    assert tasks.voice_commands_run(call.pk) == "done"
    command.refresh_from_db()
    assert (command.state, command.attempts) == ("done", 2)
    assert [kind for _m, kind, _f in rest(voice)] == ["call", "call", "participants"]

    voice.fail_next(1, status=400, code=21220, message="Call is not in-progress.")
    agent_leg(twilio_post, run_on_commit, call, agent_a, "answered")
    run_on_commit(lambda: services_hold(call, agent_a, True))
    failed = CallCommand.objects.get(action="hold")
    assert (failed.state, failed.error) == ("failed", "Call is not in-progress.")
    assert lines(call.interaction.conversation)[-1] == (
        "The phone system did not carry out the request: Call is not in-progress."
    )


@pytest.mark.django_db
def test_after_hours_the_caller_leaves_a_voicemail_routed_like_an_email(
    voice, twilio_post, run_on_commit, agent_a, service_a, client, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    # Open only one minute a week: now is outside it.
    BusinessHoursFactory(service=service_a, weekday=0, opens="03:00", closes="03:01")
    response = call_in(twilio_post, run_on_commit)
    root = ET.fromstring(response.content)
    assert [child.tag for child in root] == ["Say", "Record", "Say"]
    assert "We are closed now" in root.find("Say").text
    record = root.find("Record")
    callback = urlsplit(record.get("recordingStatusCallback"))
    assert callback.path == "/webhooks/twilio/voice/voicemail/"
    assert not VoiceCall.objects.exists()

    voice.voice.recordings["RE" + "4" * 32] = b"RIFF" + b"\0" * 60
    params = {
        "AccountSid": TWILIO_TEST_SID,
        "CallSid": SID,
        "RecordingSid": "RE" + "4" * 32,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO_TEST_SID}/"
        f"Recordings/RE{'4' * 32}",
        "RecordingStatus": "completed",
        "RecordingDuration": "42",
    }
    path, query = callback.path, dict(parse_qsl(callback.query))
    assert query == {"from": CALLER, "to": DID}
    for _ in range(2):
        answer = run_on_commit(lambda: twilio_post(path, params, query=query))
        assert answer.status_code == 204
    message = Message.objects.get(channel=Channel.VOICEMAIL)
    assert message.body == "Voicemail, 0:42"
    interaction = message.interaction
    assert interaction.state == "offered"  # routed like an email: offered to agent A
    offer = Offer.objects.get(interaction=interaction, agent=agent_a)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    recording = CallRecording.objects.get()
    assert recording.size == 64
    client.force_login(agent_a)
    page = client.get(f"/conversations/{interaction.conversation_id}/")
    player = rf'<audio[^>]+src="/voice/recordings/{recording.pk}/"'
    assert re.search(player, page.content.decode())
    # Activities (the contact's past conversations) play it too.
    activity = client.get(f"/contacts/activities/{interaction.conversation_id}/timeline/")
    assert activity.status_code == 200 and re.search(player, activity.content.decode())
    assert client.get(f"/voice/recordings/{recording.pk}/").status_code == 200


@pytest.mark.django_db
def test_a_service_without_twilio_credentials_tells_the_agent(
    voice, twilio_post, run_on_commit, agent_a, settings
):
    call_in(twilio_post, run_on_commit)
    settings.TWILIO_ACCOUNT_SID = ""
    offer = Offer.objects.get(agent=agent_a)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    assert CallCommand.objects.get().state == "failed"
    call = VoiceCall.objects.get()
    assert "No Twilio account is configured" in lines(call.interaction.conversation)[-1]


@pytest.mark.django_db
def test_click_to_call_from_a_chat_rings_the_agent_then_the_customer_in_one_conversation(
    voice, chat, agent_a, client, twilio_post, run_on_commit
):
    """Acceptance 5: from a chat conversation, *Call* dials the contact's number; the call is a
    voice leg of the same conversation, and Activities show one conversation with both."""
    _session, conversation = chat
    IdentityFactory(contact=conversation.contact, kind=Identity.Kind.PHONE, value=CALLER)
    client.force_login(agent_a)
    panel = client.get(f"/channels/conversations/{conversation.pk}/panel/").content.decode()
    assert f'data-action="dial" data-number="{CALLER}"' in panel

    response = run_on_commit(
        lambda: client.post(
            f"/voice/conversations/{conversation.pk}/dial/",
            data={"number": CALLER},
            content_type="application/json",
        )
    )

    assert response.status_code == 201, response.content
    call = VoiceCall.objects.get()
    assert call.interaction.conversation_id == conversation.pk
    assert (call.interaction.direction, call.state) == ("outbound", "ringing")
    requests = voice.voice.rest_requests()
    assert [(method, kind) for method, kind, _r in requests] == [
        ("POST", "participants"),  # the agent's phone first
        ("POST", "calls"),  # then the customer's, from the service's number
    ]
    dialled = requests[1][2].form
    assert (dialled["To"], dialled["From"]) == (CALLER, DID)
    assert dialled["StatusCallback"].endswith(f"/webhooks/twilio/voice/status/?call={call.pk}")
    call.refresh_from_db()
    sid = call.provider_call_id
    assert sid.startswith("CA")

    def callback(value: str):
        params = {"AccountSid": TWILIO_TEST_SID, "CallSid": sid, "CallStatus": value}
        return run_on_commit(
            lambda: twilio_post("/webhooks/twilio/voice/status/", params, query={"call": call.pk})
        )

    assert callback("ringing").status_code == 204
    assert callback("in-progress").status_code == 204
    call.refresh_from_db()
    assert call.state == "connected"
    assert callback("completed").status_code == 204
    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "customer")
    text = lines(conversation)
    assert f"Agent agent_a is calling the customer at {CALLER}." in text
    assert "The customer answered the call." in text

    contact_page = client.get(f"/contacts/{conversation.contact_id}/").content.decode()
    activities = re.findall(r'<li class="activity[^"]*" data-conversation-id="(\d+)"', contact_page)
    assert activities == [str(conversation.pk)]
    header = r'<header class="activity-header">\s*<span class="channels">(.*?)</span>\s*<strong'
    chips = re.search(header, contact_page, re.S)
    assert "channel-chat" in chips.group(1) and "channel-voice" in chips.group(1)


@pytest.mark.django_db
def test_click_to_call_nobody_answers_and_refusals_say_why(
    voice, chat, agent_a, client, twilio_post, run_on_commit
):
    _session, conversation = chat
    client.force_login(agent_a)
    url = f"/voice/conversations/{conversation.pk}/dial/"
    no_phone = client.post(url, data={}, content_type="application/json")
    assert no_phone.status_code == 400
    assert "no phone number" in no_phone.json()["error"]["message"]
    IdentityFactory(contact=conversation.contact, kind=Identity.Kind.PHONE, value=CALLER)
    run_on_commit(lambda: client.post(url, data={}, content_type="application/json"))
    again = client.post(url, data={}, content_type="application/json")
    assert again.status_code == 409
    call = VoiceCall.objects.get()
    params = {"AccountSid": TWILIO_TEST_SID, "CallSid": call.provider_call_id,
              "CallStatus": "no-answer"}  # fmt: skip
    run_on_commit(
        lambda: twilio_post("/webhooks/twilio/voice/status/", params, query={"call": call.pk})
    )
    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "no_answer")
    assert lines(conversation)[-1] == "The customer did not answer the call."
    # The agent's phone left the conference.
    assert voice.voice.rest_requests()[-1][0:2] == ("DELETE", "participant")


@pytest.mark.django_db
def test_consult_conference_and_hand_over_through_the_calls_conference(
    voice, twilio_post, run_on_commit, agent_a, agent_a2
):
    """The colleague's phone joins the call's conference while the customer is held there;
    *Conference* takes the customer off hold; *Hand over* takes the first agent out."""
    from channels_app.voice import services as voice_services

    agent_a2.agent_profile.voice_endpoint = "sip:202@pbx.example.com"
    agent_a2.agent_profile.save(update_fields=["voice_endpoint"])
    call_in(twilio_post, run_on_commit)
    call = VoiceCall.objects.get()
    offer = Offer.objects.get(agent=agent_a)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    agent_leg(twilio_post, run_on_commit, call, agent_a, "answered")

    run_on_commit(
        lambda: voice_services.call_consult(call_id=call.pk, user=agent_a, target_id=agent_a2.pk)
    )
    assert rest(voice)[-1][2]["Hold"] == "true"
    conference(twilio_post, run_on_commit, call, "participant-hold", "customer", 1)
    invite = Offer.objects.get(agent=agent_a2, is_conference=True)
    run_on_commit(lambda: services.offer_accept(offer_id=invite.pk, user=agent_a2))
    call.refresh_from_db()
    assert (call.state, call.consult_state) == ("on_hold", "talking")
    added = rest(voice)[-1]
    assert (added[1], added[2]["To"], added[2]["Label"]) == (
        "participants",
        "sip:202@pbx.example.com",
        f"agent-{agent_a2.pk}",
    )

    run_on_commit(lambda: voice_services.call_merge(call_id=call.pk, user=agent_a))
    assert rest(voice)[-1][2]["Hold"] == "false"
    conference(twilio_post, run_on_commit, call, "participant-unhold", "customer", 2)
    call.refresh_from_db()
    assert (call.state, call.consult_state) == ("connected", "conference")

    run_on_commit(lambda: voice_services.call_consult_transfer(call_id=call.pk, user=agent_a))
    call.refresh_from_db()
    assert call.interaction.agent_id == agent_a2.pk and call.consult_state == ""
    method, kind, _form = rest(voice)[-1]
    assert (method, kind) == ("DELETE", "participant")
    deleted = voice.voice.rest_requests()[-1][2].path
    assert deleted.endswith(f"/Participants/agent-{agent_a.pk}.json")
    assert all(command.state == "done" for command in CallCommand.objects.all())


@pytest.mark.django_db
def test_call_from_the_contacts_page_opens_a_conversation_of_the_agent_with_the_call(
    voice, agent_a, client, run_on_commit
):
    contact = ContactFactory(first_name="Nina")
    IdentityFactory(contact=contact, kind=Identity.Kind.PHONE, value=CALLER)
    client.force_login(agent_a)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert f'action="/voice/contacts/{contact.pk}/dial/"' in page

    response = run_on_commit(
        lambda: client.post(f"/voice/contacts/{contact.pk}/dial/", {"number": CALLER})
    )

    call = VoiceCall.objects.get()
    conversation = call.interaction.conversation
    assert response.status_code == 302
    assert response["Location"] == f"/conversations/{conversation.pk}/"
    assert (conversation.contact, conversation.agent, conversation.status) == (
        contact,
        agent_a,
        "open",
    )
    assert (call.interaction.direction, call.interaction.customer_address) == ("outbound", CALLER)
    assert [kind for _m, kind, _r in voice.voice.rest_requests()] == ["participants", "calls"]
    # Calling again while that call is live says why, on the contact's page.
    again = client.post(f"/voice/contacts/{contact.pk}/dial/", {"number": CALLER}, follow=True)
    assert "A call is already in progress in this conversation." in again.content.decode()
    assert VoiceCall.objects.count() == 1


@pytest.mark.django_db
def test_a_call_ringing_on_the_conversations_agent_unanswered_goes_to_voicemail(
    voice, twilio_post, run_on_commit, agent_a, service_a, settings
):
    """Nobody answers on the desktop within VOICE_RING_SECONDS: the call is missed and the
    caller is sent to voicemail (not dropped); their message lands in the same conversation."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from channels_app import tasks as channel_tasks

    run_on_commit(
        lambda: services.inbound_receive(
            record=services.InboundRecord(
                channel=Channel.SMS,
                service=service_a,
                identities=[(Identity.Kind.PHONE, CALLER)],
                provider_id="SM1",
                body="Call me?",
                customer_address=CALLER,
            )
        )
    )
    offer = Offer.objects.get(agent=agent_a)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    call_in(twilio_post, run_on_commit)
    call = VoiceCall.objects.get()
    assert call.state == "ringing"

    assert channel_tasks.voice_ring_timeout(call.pk) is False  # not due yet
    later = timezone.now() + timedelta(seconds=settings.VOICE_RING_SECONDS + 1)
    with time_machine.travel(later):
        assert run_on_commit(lambda: channel_tasks.voice_ring_timeout(call.pk)) is True
    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "no_answer")
    assert lines(call.interaction.conversation)[-1] == "Nobody answered the customer's call."
    method, kind, form = rest(voice)[-1]
    assert (method, kind) == ("POST", "call")  # redirected to voicemail, not hung up
    redirect = ET.fromstring(form["Twiml"])
    assert [child.tag for child in redirect] == ["Say", "Record", "Say"]
    assert "Nobody can take your call right now" in redirect.find("Say").text
    callback = urlsplit(redirect.find("Record").get("recordingStatusCallback"))
    assert callback.geturl().startswith(f"{PUBLIC}/webhooks/twilio/voice/voicemail/?")
    assert not CallCommand.objects.filter(action="hang_up").exists()


@pytest.mark.django_db
def test_an_agents_phone_that_does_not_answer_puts_the_call_back_in_the_queue(
    voice, twilio_post, run_on_commit, agent_a
):
    call_in(twilio_post, run_on_commit)
    call = VoiceCall.objects.get()
    offer = Offer.objects.get(agent=agent_a)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    agent_leg(twilio_post, run_on_commit, call, agent_a, "ringing")
    agent_leg(twilio_post, run_on_commit, call, agent_a, "no-answer")

    call.refresh_from_db()
    assert call.state == "queued"  # waiting again, offered again by the router
    assert call.interaction.conversation.agent_id is None
    assert call.interaction.state in ("queued", "offered")
    assert "Agent agent_a's phone did not answer: the call waits in the queue again." in lines(
        call.interaction.conversation
    )
    method, kind, form = rest(voice)[-1]
    assert (method, kind) == ("POST", "call")
    assert ET.fromstring(form["Twiml"]).find("Enqueue") is not None  # waiting again, with music


@pytest.mark.django_db
def test_a_caller_who_waited_too_long_is_offered_a_voicemail(
    voice, twilio_post, run_on_commit, agent_a, service_a
):
    service_a.voice_queue_voicemail_seconds = 120
    service_a.save(update_fields=["voice_queue_voicemail_seconds"])
    agent_a.agent_profile.state = "not_ready"
    agent_a.agent_profile.save(update_fields=["state"])
    call_in(twilio_post, run_on_commit)
    call = VoiceCall.objects.get()
    wait = "/webhooks/twilio/voice/wait/"
    params = {"AccountSid": TWILIO_TEST_SID, "CallSid": SID, "QueuePosition": "1"}
    early = twilio_post(wait, {**params, "QueueTime": "30"}, query={"call": call.pk})
    assert [child.tag for child in ET.fromstring(early.content)] == ["Say", "Play"]
    late = twilio_post(wait, {**params, "QueueTime": "121"}, query={"call": call.pk})
    assert [child.tag for child in ET.fromstring(late.content)] == ["Leave"]

    left = run_on_commit(
        lambda: twilio_post(
            "/webhooks/twilio/voice/queue-left/",
            {
                "AccountSid": TWILIO_TEST_SID,
                "CallSid": SID,
                "QueueResult": "leave",
                "QueueTime": "121",
            },
            query={"call": call.pk},
        )
    )
    root = ET.fromstring(left.content)
    assert [child.tag for child in root] == ["Say", "Record", "Say"]
    assert "Nobody can take your call right now" in root.find("Say").text
    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "voicemail")
    assert lines(call.interaction.conversation)[-1] == "Nobody answered the customer's call."
    assert not CallCommand.objects.exists()  # the caller is not hung up: they leave a message
