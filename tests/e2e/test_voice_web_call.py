"""Web calls inside a conversation, in real Chromium with a fake microphone (issue 13): the agent
calls the customer of a chat in their browser, audio flows both ways (WebRTC, host candidates on
loopback), hold stops the customer's incoming audio and resume restores it, the customer hangs
up and goes on chatting, the agent texts a summary, and Activities show one conversation with
chat, voice (duration, playable recording) and SMS. A refused microphone starts nothing; a reload
of the desktop mid-call keeps the call (a new offer, audio again) and never shows a stale one."""

import time

import pytest
from playwright.sync_api import expect

from channels_app.models import CallRecording, VoiceCall, WebChatSettings
from conversations.models import AgentProfile, Conversation
from tests.factories import AgentProfileFactory
from tests.support.browser import close_context, login, wait_until_live

from .desktop import open_chat, start_chat

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PEERS = {"agent": "window.ccSoftphone", "customer": "window.ccWebCall"}


def allow_microphone(page, server) -> None:
    page.context.grant_permissions(["microphone"], origin=server.url)


def connection_state(page, who: str) -> str:
    return page.evaluate(f"() => {PEERS[who]} ? {PEERS[who]}.pc.connectionState : 'none'")


def wait_connected(page, who: str) -> None:
    page.wait_for_function(f"() => {PEERS[who]} && {PEERS[who]}.pc.connectionState === 'connected'")


def audio_packets_received(page, who: str) -> int:
    return page.evaluate(
        f"""async () => {{
            const stats = await {PEERS[who]}.pc.getStats();
            let packets = 0;
            stats.forEach((report) => {{
                if (report.type === "inbound-rtp" && report.kind === "audio") {{
                    packets += report.packetsReceived;
                }}
            }});
            return packets;
        }}"""
    )


def packets_over(page, who: str, seconds: float = 1.5) -> int:
    before = audio_packets_received(page, who)
    time.sleep(seconds)
    return audio_packets_received(page, who) - before


def accept_chat(agent, server) -> Conversation:
    agent.locator("#conversation-list .offer button.accept").click()
    agent.wait_for_url(f"{server.url}/conversations/*/")
    wait_until_live(agent)
    return Conversation.objects.get(pk=agent.locator("body").get_attribute("data-conversation-id"))


def call_customer(agent, chat) -> None:
    agent.locator("#softphone [data-action=call]").click()
    expect(agent.locator("#softphone .call-state")).to_contain_text("Calling the customer")
    expect(chat.locator("#chat-call")).to_have_attribute("data-state", "ringing")
    chat.locator("#chat-call-answer").click()
    expect(agent.locator("#softphone")).to_have_attribute("data-state", "connected")
    wait_connected(agent, "agent")
    wait_connected(chat, "customer")


def test_chat_then_call_hold_resume_hang_up_chat_again_sms_and_activities(
    page, chat_customer, shared_asgi_server, shared_twilio_standin, agent_a, service_a,
    sms_entry_point_a, website_chat_a,
):  # fmt: skip
    service_a.call_recording = "on"
    service_a.save(update_fields=["call_recording"])
    server, agent = shared_asgi_server, page
    allow_microphone(agent, server)
    allow_microphone(chat_customer, server)
    login(agent, server.url, agent_a.username)
    chat = open_chat(chat_customer, server)
    start_chat(chat, "Can you call me?", name="Vera Voice", email="vera@example.com",
               phone="(415) 555-0188")  # fmt: skip
    conversation = accept_chat(agent, server)

    call_customer(agent, chat)
    # Audio both ways.
    assert packets_over(agent, "agent") > 10
    assert packets_over(chat, "customer") > 10
    expect(agent.locator("#softphone-audio")).to_have_text("Audio connected")
    expect(agent.locator("#timeline")).to_contain_text("The customer answered the call.")

    # Hold: the customer's incoming audio stops (the hold tone is the widget's own).
    agent.locator("#softphone [data-action=hold]").click()
    expect(chat.locator("#chat-call")).to_have_attribute("data-state", "on_hold")
    expect(chat.locator("#chat-call-status")).to_have_text(
        "You are on hold. Please stay on the line."
    )
    expect(agent.locator("#softphone .call-state")).to_contain_text("On hold")
    time.sleep(1)  # packets already in flight
    assert packets_over(chat, "customer") == 0
    # Resume: it flows again.
    agent.locator("#softphone [data-action=resume]").click()
    expect(chat.locator("#chat-call")).to_have_attribute("data-state", "connected")
    deadline = time.monotonic() + 10
    while packets_over(chat, "customer", 1.0) == 0 and time.monotonic() < deadline:
        pass
    assert packets_over(chat, "customer") > 10

    # A key on the keypad is in the timeline.
    agent.locator("#softphone .keypad-menu summary").click()
    agent.locator("#softphone [data-action=dtmf][data-key='5']").click()
    expect(agent.locator("#timeline")).to_contain_text("pressed the keys 5")
    time.sleep(4.5)  # at least one recording chunk while the call runs

    # The customer hangs up and goes on chatting.
    chat.locator("#chat-call-hangup").click()
    expect(chat.locator("#chat-call-status")).to_have_text(
        "The call has ended. You can keep chatting."
    )
    expect(agent.locator("#softphone [data-action=call]")).to_be_visible()
    expect(agent.locator("#timeline")).to_contain_text("The customer hung up. Talk time")
    chat.locator("#chat-input").fill("Thanks, one more question by chat")
    chat.locator("#chat-input").press("Enter")
    expect(agent.locator("#timeline .message.inbound .body").last).to_have_text(
        "Thanks, one more question by chat"
    )
    call = VoiceCall.objects.get(interaction__conversation=conversation)
    assert (call.state, call.end_reason) == ("ended", "customer")
    assert call.hold_seconds >= 1
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN  # the chat goes on

    # The agent texts a summary: a third channel in the same conversation.
    phone = "+14155550188"
    agent.locator("#composer-target").select_option(label=f"Send an SMS to {phone}")
    agent.fill("#composer-body", "Summary: we reset your card.")
    agent.click("#composer button[type=submit]")
    expect(agent.locator(".workspace-header .channel-sms")).to_contain_text(phone)
    shared_twilio_standin.wait_for_message_requests(1)
    channels = set(conversation.interactions.values_list("channel", flat=True))
    assert channels == {"chat", "voice", "sms"}

    # The recording: uploaded while the call ran, one playable file.
    deadline = time.monotonic() + 15
    while not CallRecording.objects.filter(call=call, chunks__gte=2).exists():
        assert time.monotonic() < deadline, "no recording uploaded"
        time.sleep(0.3)

    # Activities: one conversation with chat, voice (duration) and SMS, the recording plays.
    agent.goto(f"{server.url}/contacts/{conversation.contact_id}/")
    activity = agent.locator(f'[data-conversation-id="{conversation.pk}"]').first
    expect(activity).to_contain_text("Voice")
    expect(activity).to_contain_text("Chat")
    expect(activity).to_contain_text("SMS")
    agent.goto(f"{server.url}/contacts/activities/{conversation.pk}/timeline/")
    voice_leg = agent.locator(".legs .leg", has=agent.locator(".channel-voice"))
    expect(voice_leg.locator(".duration")).to_be_visible()
    audio = agent.locator(".call-recording audio").first
    expect(audio).to_be_attached()
    duration = agent.evaluate(
        """async (src) => {
            const response = await fetch(src, { credentials: "same-origin" });
            const bytes = await response.arrayBuffer();
            const decoded = await new AudioContext().decodeAudioData(bytes);
            return decoded.duration;
        }""",
        audio.get_attribute("src"),
    )
    assert duration > 3


def test_a_refused_microphone_starts_nothing_and_a_reload_keeps_the_call(
    page, chat_customer, shared_asgi_server, agent_a, service_a, website_chat_a
):
    server, agent = shared_asgi_server, page
    login(agent, server.url, agent_a.username)
    chat = open_chat(chat_customer, server)
    start_chat(chat, "Call me maybe", name="Mia Mic", email="mia@example.com")
    conversation = accept_chat(agent, server)

    # The agent's browser refuses the microphone: a clear message, no call.
    agent.locator("#softphone [data-action=call]").click()
    expect(agent.locator("#softphone-error")).to_contain_text("refused the microphone")
    assert not VoiceCall.objects.filter(interaction__conversation=conversation).exists()

    # The customer's browser refuses it: the call is not answered, it still rings.
    allow_microphone(agent, server)
    agent.locator("#softphone [data-action=call]").click()
    expect(chat.locator("#chat-call")).to_have_attribute("data-state", "ringing")
    chat.locator("#chat-call-answer").click()
    expect(chat.locator("#chat-call-error")).to_contain_text("did not let us use the microphone")
    assert VoiceCall.objects.get(interaction__conversation=conversation).state == "ringing"
    agent.locator("#softphone [data-action=hang-up]").click()
    expect(chat.locator("#chat-call-status")).to_have_text(
        "The call has ended. You can keep chatting."
    )
    expect(agent.locator("#softphone [data-action=call]")).to_be_visible()

    # Allowed: connected; then the agent's page reloads mid-call and the call carries on.
    allow_microphone(chat, server)
    call_customer(agent, chat)
    first_peer = agent.evaluate("() => window.ccSoftphone.peer")
    agent.reload()
    wait_until_live(agent)
    expect(agent.locator("#softphone")).to_have_attribute("data-state", "connected")
    expect(agent.locator("#softphone .call-state")).to_contain_text("On the call")
    wait_connected(agent, "agent")
    assert agent.evaluate("() => window.ccSoftphone.peer") != first_peer
    wait_connected(chat, "customer")
    assert packets_over(chat, "customer") > 10
    assert packets_over(agent, "agent") > 10
    # The list shows the call's timer.
    item = agent.locator(
        f'#conversation-list .conversation-item[data-conversation-id="{conversation.pk}"]'
    )
    expect(item.locator(".timer-call .call-time")).to_have_count(1)

    # The customer's widget reloads too: it asks for a new offer, audio again.
    chat.reload()
    expect(chat.locator("#chat-call")).to_have_attribute("data-state", "connected")
    wait_connected(chat, "customer")
    assert packets_over(chat, "customer") > 10

    # Hung up while the agent's page is away: the page that comes back shows no stale call.
    agent.goto(f"{server.url}/")
    wait_until_live(agent)
    chat.locator("#chat-call-hangup").click()
    expect(chat.locator("#chat-call-status")).to_have_text(
        "The call has ended. You can keep chatting."
    )
    agent.goto(f"{server.url}/conversations/{conversation.pk}/")
    wait_until_live(agent)
    expect(agent.locator("#softphone [data-action=call]")).to_be_visible()
    expect(agent.locator("#softphone .call-state")).to_have_count(0)
    expect(item.locator(".call-time")).to_have_count(0)


def test_the_customer_calls_from_the_widget_and_the_offered_agent_takes_the_call(
    page, chat_customer, shared_asgi_server, agent_a, service_a, website_chat_a
):
    WebChatSettings.objects.filter(entry_point=website_chat_a).update(web_calls=True)
    server, agent = shared_asgi_server, page
    allow_microphone(agent, server)
    allow_microphone(chat_customer, server)
    login(agent, server.url, agent_a.username)
    chat = open_chat(chat_customer, server)
    chat.locator("#id_prechat-name").fill("Carl Caller")
    chat.locator("#id_prechat-email").fill("carl@example.com")
    chat.locator("#id_prechat-question").fill("My parcel never arrived")

    chat.locator("#prechat-call").click()

    # The call waits in the service's queue: the agent is offered it like any call.
    expect(chat.locator("#chat-call")).to_have_attribute("data-state", "queued")
    expect(chat.locator("#chat-call-status")).to_have_text(
        "Waiting for an agent to take your call…"
    )
    offer = agent.locator("#conversation-list .offer")
    expect(offer.locator(".channel-voice")).to_be_visible()
    offer.locator("button.accept").click()
    agent.wait_for_url(f"{server.url}/conversations/*/")
    wait_until_live(agent)
    expect(agent.locator("#softphone")).to_have_attribute("data-state", "connected")
    wait_connected(agent, "agent")
    wait_connected(chat, "customer")
    assert packets_over(chat, "customer") > 10
    assert packets_over(agent, "agent") > 10
    expect(agent.locator("#timeline")).to_contain_text("answered the call.")
    # While the call goes on, the customer can still write in the chat.
    expect(chat.locator("#chat-call-us")).to_be_hidden()
    chat.locator("#chat-input").fill("The order number is 42")
    chat.locator("#chat-input").press("Enter")
    expect(agent.locator("#timeline .message.inbound .body").last).to_have_text(
        "The order number is 42"
    )
    agent.locator("#softphone [data-action=hang-up]").click()
    expect(chat.locator("#chat-call-status")).to_have_text(
        "The call has ended. You can keep chatting."
    )
    conversation = Conversation.objects.get(
        pk=agent.locator("body").get_attribute("data-conversation-id")
    )
    assert set(conversation.interactions.values_list("channel", flat=True)) == {"voice", "chat"}


def test_a_blind_transfer_hands_the_call_to_the_agent_who_accepts_and_drops_the_first(
    browser, page, chat_customer, shared_asgi_server, agent_a, service_a, website_chat_a
):
    server = shared_asgi_server
    blair = AgentProfileFactory(
        user__username="blair", display_name="Blair", services=[service_a], state="not_ready"
    ).user
    AgentProfile.objects.filter(user=agent_a).update(display_name="Alex")
    alex = page
    allow_microphone(alex, server)
    allow_microphone(chat_customer, server)
    login(alex, server.url, agent_a.username)
    blair_context = browser.new_context(permissions=["microphone"])
    blair_page = blair_context.new_page()
    try:
        login(blair_page, server.url, blair.username)
        chat = open_chat(chat_customer, server)
        start_chat(chat, "Transfer me", name="Tina Transfer", email="tina@example.com")
        conversation = accept_chat(alex, server)
        call_customer(alex, chat)
        customer_peer = chat.evaluate("() => window.ccWebCall.peer")

        alex.locator("details.menu:has(#transfer-target) > summary").click()
        alex.select_option("#transfer-target", label="Blair")
        alex.locator("form.js-transfer button[type=submit]").click()
        offer = blair_page.locator("#conversation-list .offer")
        expect(offer.locator(".channel-voice")).to_be_visible()
        offer.locator("button.accept").click()
        blair_page.wait_for_url(f"{server.url}/conversations/{conversation.pk}/")
        wait_until_live(blair_page)

        # Blair's desktop connects the audio; the customer's widget takes the new offer.
        expect(blair_page.locator("#softphone")).to_have_attribute("data-state", "connected")
        wait_connected(blair_page, "agent")
        chat.wait_for_function(
            "(old) => window.ccWebCall && window.ccWebCall.peer !== old"
            " && window.ccWebCall.pc.connectionState === 'connected'",
            arg=customer_peer,
        )
        assert packets_over(chat, "customer") > 10
        assert packets_over(blair_page, "agent") > 10
        # Alex is out of the call.
        alex.wait_for_function("() => !window.ccSoftphone")
        expect(blair_page.locator("#timeline")).to_contain_text(
            "Alex handed the call to Blair after talking"
        )
        call = VoiceCall.objects.get(interaction__conversation=conversation)
        assert list(
            call.legs.filter(party="agent").order_by("joined_at").values_list("agent_id", flat=True)
        ) == [agent_a.pk, blair.pk]
        assert call.legs.get(agent=agent_a).left_at is not None
    finally:
        close_context(blair_context)


def bridge_connected(page) -> None:
    page.wait_for_function(
        "() => window.ccConsult && window.ccConsult.pc.connectionState === 'connected'"
    )


def bridge_packets(page, seconds: float = 1.5) -> int:
    read = """async () => {
        let packets = 0;
        (await window.ccConsult.pc.getStats()).forEach((report) => {
            if (report.type === "inbound-rtp" && report.kind === "audio") {
                packets += report.packetsReceived;
            }
        });
        return packets;
    }"""
    before = page.evaluate(read)
    time.sleep(seconds)
    return page.evaluate(read) - before


def test_consult_then_conference_then_consult_then_hand_over(
    browser, page, chat_customer, shared_asgi_server, agent_a, service_a, website_chat_a
):
    server = shared_asgi_server
    blair = AgentProfileFactory(
        user__username="blair", display_name="Blair", services=[service_a], state="not_ready"
    ).user
    AgentProfile.objects.filter(user=agent_a).update(display_name="Alex")
    alex = page
    allow_microphone(alex, server)
    allow_microphone(chat_customer, server)
    login(alex, server.url, agent_a.username)
    blair_context = browser.new_context(permissions=["microphone"])
    blair_page = blair_context.new_page()

    def consult_blair():
        alex.locator("#softphone .consult-menu summary").click()
        alex.select_option("#consult-target", label="Blair")
        alex.locator("#softphone [data-action=consult]").click()
        expect(chat.locator("#chat-call")).to_have_attribute("data-state", "on_hold")
        blair_page.locator("#conversation-list .offer button.accept").click()
        blair_page.wait_for_url(f"{server.url}/conversations/{conversation.pk}/")
        wait_until_live(blair_page)
        expect(blair_page.locator("#softphone .consult-state")).to_contain_text(
            "Alex is consulting you"
        )
        bridge_connected(alex)
        bridge_connected(blair_page)
        assert bridge_packets(blair_page) > 10 and bridge_packets(alex) > 10

    try:
        login(blair_page, server.url, blair.username)
        chat = open_chat(chat_customer, server)
        start_chat(chat, "Need two of you", name="Cora Conf", email="cora@example.com")
        conversation = accept_chat(alex, server)
        call_customer(alex, chat)

        # Consult: the customer holds (no audio reaches them) while Alex and Blair talk.
        consult_blair()
        time.sleep(1)
        assert packets_over(chat, "customer") == 0

        # Conference: the customer hears again (Alex's mix of both), Blair too.
        alex.locator("#softphone [data-action=merge]").click()
        expect(chat.locator("#chat-call")).to_have_attribute("data-state", "connected")
        expect(blair_page.locator("#softphone .consult-state")).to_contain_text(
            "Conference with the customer and Alex"
        )
        deadline = time.monotonic() + 10
        while packets_over(chat, "customer", 1.0) == 0 and time.monotonic() < deadline:
            pass
        assert packets_over(chat, "customer") > 10
        assert bridge_packets(blair_page) > 10

        # Alex drops Blair: Blair is out, the customer holds until Alex resumes.
        alex.locator("#softphone [data-action=consult-cancel]").click()
        blair_page.wait_for_function("() => !window.ccConsult")
        expect(alex.locator("#timeline")).to_contain_text("Blair left the call after talking")
        alex.locator("#softphone [data-action=resume]").click()
        expect(chat.locator("#chat-call")).to_have_attribute("data-state", "connected")

        # Consult again, then hand the call over: Blair talks to the customer, Alex is out.
        blair_page.goto(f"{server.url}/")
        wait_until_live(blair_page)
        consult_blair()
        customer_peer = chat.evaluate("() => window.ccWebCall.peer")
        alex.locator("#softphone [data-action=consult-transfer]").click()
        wait_connected(blair_page, "agent")
        chat.wait_for_function(
            "(old) => window.ccWebCall && window.ccWebCall.peer !== old"
            " && window.ccWebCall.pc.connectionState === 'connected'",
            arg=customer_peer,
        )
        assert packets_over(chat, "customer") > 10
        alex.wait_for_function("() => !window.ccSoftphone && !window.ccConsult")
        expect(blair_page.locator("#timeline")).to_contain_text(
            "Alex handed the call to Blair after talking"
        )
        expect(blair_page.locator("#timeline")).to_contain_text("Alex merged Blair into the call")
        call = VoiceCall.objects.get(interaction__conversation=conversation)
        assert call.interaction.agent_id == blair.pk
        parties = list(
            call.legs.order_by("joined_at", "id").values_list("party", "agent__username")
        )
        assert parties == [
            ("agent", "agent_a"),
            ("customer", None),
            ("consulted", "blair"),
            ("consulted", "blair"),
            ("agent", "blair"),
        ]
    finally:
        close_context(blair_context)
