"""The phone simulator (issue 14, offline demo): without Twilio, in demo mode, the page plays the
caller and the phones, and the simulated provider answers each command with the callbacks
Twilio would post, so an inbound phone call, queueing, hold, transfer and voicemail work in
``make run``."""

import re

import pytest

from channels_app.models import CallRecording, VoiceCall
from channels_app.voice import services as voice_services
from conversations import services
from conversations.models import Channel, Message, Offer
from tests.factories import BusinessHoursFactory, EntryPointFactory

DID = "+15005550008"


@pytest.fixture
def demo(settings, service_a, agent_a, tmp_path):
    settings.DEMO_MODE = True
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    settings.MEDIA_ROOT = tmp_path
    EntryPointFactory(name="Support line", channel=Channel.VOICE, address=DID, service=service_a)
    agent_a.agent_profile.voice_endpoint = "client:agent_a"
    agent_a.agent_profile.save(update_fields=["voice_endpoint"])


def simulate(client, run_on_commit, **data):
    return run_on_commit(lambda: client.post("/channels/phone/", data))


@pytest.mark.django_db
def test_a_simulated_call_is_queued_taken_answered_held_and_hung_up(
    demo, client, administrator, agent_a, run_on_commit, service_a
):
    from channels_app.models import EntryPoint

    service_a.call_recording = "on"
    service_a.save(update_fields=["call_recording"])
    client.force_login(administrator)
    entry_point = EntryPoint.objects.get(channel=Channel.VOICE)
    placed = simulate(client, run_on_commit, simulate="call", from_number="(415) 555-0177",
                      entry_point=entry_point.pk)  # fmt: skip
    assert placed.status_code == 302
    call = VoiceCall.objects.get()
    assert (call.provider, call.state) == ("twilio", "queued")
    offer = Offer.objects.get(agent=agent_a)

    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    call.refresh_from_db()
    assert call.state == "ringing"  # the simulated provider rang the agent's phone
    page = client.get("/channels/phone/").content.decode()
    assert 'value="agent-answers"' in page
    simulate(client, run_on_commit, call=call.pk, action="agent-answers")
    call.refresh_from_db()
    assert call.state == "connected"

    run_on_commit(lambda: voice_services.call_hold(call_id=call.pk, user=agent_a, hold=True))
    call.refresh_from_db()
    assert call.state == "on_hold"
    run_on_commit(lambda: voice_services.call_hold(call_id=call.pk, user=agent_a, hold=False))
    call.refresh_from_db()
    assert call.state == "connected"

    run_on_commit(lambda: voice_services.call_hang_up(call_id=call.pk, user=agent_a))
    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "agent")
    page = client.get("/channels/phone/").content.decode()
    assert re.findall(r"<code>(\w+)</code>", page) == ["hang_up", "hold", "hold", "connect"]
    # A recorded call's recording arrives as from Twilio, fetched and kept here.
    assert CallRecording.objects.get(call=call).size > 1000


@pytest.mark.django_db
def test_a_simulated_caller_after_hours_leaves_a_voicemail_that_plays(
    demo, client, administrator, agent_a, run_on_commit, service_a
):
    from channels_app.models import EntryPoint

    BusinessHoursFactory(service=service_a, weekday=0, opens="03:00", closes="03:01")
    client.force_login(administrator)
    entry_point = EntryPoint.objects.get(channel=Channel.VOICE)
    closed = simulate(client, run_on_commit, simulate="call", from_number="+14155550177",
                      entry_point=entry_point.pk)  # fmt: skip
    assert closed.status_code == 200
    assert "We are closed now" in closed.content.decode()
    simulate(client, run_on_commit, simulate="voicemail", from_number="+14155550177",
             to_number=DID)  # fmt: skip
    message = Message.objects.get(channel=Channel.VOICEMAIL)
    assert message.body == "Voicemail, 0:12"
    recording = CallRecording.objects.get()
    assert recording.size > 1000  # the simulated audio, stored here
    client.force_login(agent_a)
    offer = Offer.objects.get(agent=agent_a, interaction=message.interaction)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    played = client.get(f"/voice/recordings/{recording.pk}/")
    assert played.status_code == 200 and played["Content-Type"] == "audio/wav"


@pytest.mark.django_db
def test_the_simulator_is_a_404_outside_demo_mode_and_for_agents(
    demo, client, agent_a, administrator, settings
):
    client.force_login(agent_a)
    assert client.get("/channels/phone/").status_code == 404
    settings.DEMO_MODE = False
    client.force_login(administrator)
    assert client.get("/channels/phone/").status_code == 404


@pytest.mark.django_db
def test_the_simulator_page_reads_the_same_queries_for_1_and_5_calls(
    demo, client, administrator, agent_a, agent_a2, run_on_commit
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from channels_app.models import EntryPoint
    from conversations.models import Interaction

    client.force_login(administrator)
    entry_point = EntryPoint.objects.get(channel=Channel.VOICE)

    def place(number: str) -> None:
        simulate(client, run_on_commit, simulate="call", from_number=number,
                 entry_point=entry_point.pk)  # fmt: skip
        # Each row names its agent (two different agents: no shared cached profile).
        Interaction.objects.filter(channel=Channel.VOICE, agent__isnull=True).update(
            agent=agent_a2 if VoiceCall.objects.count() % 2 else agent_a
        )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/channels/phone/")
        assert page.status_code == 200 and "Agent agent_a" in page.content.decode()
        return len(captured)

    place("+14155550171")
    one = queries()
    for n in range(2, 6):
        place(f"+1415555017{n}")
    assert queries() == one
