"""Web calls: starting, answering, hold, keys, hang-ups, the ring timeout, signaling relayed to
the other party only, recordings in chunks and their retention."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from channels_app.models import CallLeg, CallRecording, VoiceCall
from channels_app.tasks import voice_recordings_expire, voice_ring_timeout
from channels_app.voice import events, services
from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound, ValidationError
from contactcenter.models import Event
from conversations import services as conversation_services
from conversations.models import Conversation, Interaction
from tests.factories import AgentProfileFactory

pytestmark = pytest.mark.django_db


def customer(session):
    return {"session_id": session.pk, "visitor_id": session.visitor_id}


def events_to(audience, type_):
    return list(Event.objects.filter(audience=audience, type=type_).order_by("id"))


def lines(conversation):
    return list(
        conversation.messages.filter(kind="system", channel="voice")
        .order_by("id")
        .values_list("system_code", flat=True)
    )


def answered_call(chat, agent):
    session, conversation = chat
    call = services.web_call_start(conversation_id=conversation.pk, user=agent)
    return services.web_call_answer(call_id=call.pk, **customer(session))


def test_calling_the_customer_rings_their_widget_and_tells_the_agents(chat, agent_a):
    session, conversation = chat

    call = services.web_call_start(conversation_id=conversation.pk, user=agent_a)

    interaction = call.interaction
    assert (interaction.channel, interaction.direction, interaction.state) == (
        "voice",
        "outbound",
        "active",
    )
    assert interaction.answered_at is None and interaction.agent_id == agent_a.pk
    assert (call.state, call.kind, call.chat_session_id) == ("ringing", "web", session.pk)
    assert list(call.legs.values_list("party", "agent_id")) == [("agent", agent_a.pk)]
    (to_customer,) = events_to(session.audience, events.VOICE_CALL)
    assert to_customer.payload["state"] == "ringing"
    assert to_customer.payload["call_id"] == call.pk
    (to_agent,) = events_to(realtime.agent_audience(agent_a.pk), events.VOICE_CALL)
    assert to_agent.payload["conversation_id"] == conversation.pk
    assert lines(conversation) == ["voice_calling"]


def test_a_call_cannot_start_twice_nor_without_an_open_chat_nor_by_a_stranger(
    chat, agent_a, service_b
):
    _session, conversation = chat
    services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    with pytest.raises(InvalidState):
        services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    stranger = AgentProfileFactory(services=[service_b]).user
    with pytest.raises(NotFound):
        services.web_call_start(conversation_id=conversation.pk, user=stranger)
    with pytest.raises(NotFound):
        services.web_call_start(conversation_id=0, user=agent_a)


def test_no_browser_to_call_once_the_chat_ended(chat, agent_a):
    session, conversation = chat
    from channels_app.webchat import services as chat_services

    # The chat ends but the conversation stays open (an SMS leg keeps it).
    Interaction.objects.create(
        conversation=conversation, channel="sms", direction="outbound", state="active",
        agent=agent_a, service=conversation.service,
    )  # fmt: skip
    chat_services.chat_end(session_id=session.pk, visitor_id=session.visitor_id)

    with pytest.raises(InvalidState, match="no open web chat"):
        services.web_call_start(conversation_id=conversation.pk, user=agent_a)


def test_the_customer_answers_once_and_only_from_their_own_chat(chat, agent_a):
    session, conversation = chat
    call = services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    with pytest.raises(NotFound):
        services.web_call_answer(call_id=call.pk, session_id=session.pk, visitor_id="b" * 32)

    call = services.web_call_answer(call_id=call.pk, **customer(session))
    again = services.web_call_answer(call_id=call.pk, **customer(session))

    assert again.state == call.state == "connected"
    assert call.answered_at is not None
    assert Interaction.objects.get(pk=call.interaction_id).answered_at == call.answered_at
    assert sorted(call.legs.values_list("party", flat=True)) == ["agent", "customer"]
    states = [e.payload["state"] for e in events_to(session.audience, events.VOICE_CALL)]
    assert states == ["ringing", "connected"]  # the repeated answer told nobody anything
    assert lines(conversation) == ["voice_calling", "voice_answered"]


def test_hold_and_resume_count_the_hold_time_and_repeats_change_nothing(chat, agent_a):
    session, conversation = chat
    call = answered_call(chat, agent_a)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.call_hold(call_id=call.pk, user=agent_a, hold=True)
        services.call_hold(call_id=call.pk, user=agent_a, hold=True)
    with time_machine.travel(start + timedelta(seconds=42), tick=False):
        call = services.call_hold(call_id=call.pk, user=agent_a, hold=False)

    assert (call.state, call.hold_seconds, call.hold_started_at) == ("connected", 42, None)
    states = [e.payload["state"] for e in events_to(session.audience, events.VOICE_CALL)]
    assert states == ["ringing", "connected", "on_hold", "connected"]
    assert lines(conversation)[-2:] == ["voice_held", "voice_resumed"]


def test_hold_before_the_answer_and_bad_keys_are_refused_with_a_reason(chat, agent_a):
    session, conversation = chat
    call = services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    with pytest.raises(InvalidState, match="not answered"):
        services.call_hold(call_id=call.pk, user=agent_a, hold=True)
    services.web_call_answer(call_id=call.pk, **customer(session))
    with pytest.raises(ValidationError) as error:
        services.call_dtmf(call_id=call.pk, user=agent_a, digits="5a")
    assert error.value.field == "digits"

    services.call_dtmf(call_id=call.pk, user=agent_a, digits="12#")

    line = conversation.messages.get(system_code="voice_dtmf")
    assert line.system_params["digits"] == "12#"


def test_the_agent_hangs_up_the_chat_goes_on_and_the_line_says_how_long(chat, agent_a):
    session, conversation = chat
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        call = answered_call(chat, agent_a)
        services.call_hold(call_id=call.pk, user=agent_a, hold=True)
    with time_machine.travel(start + timedelta(seconds=75), tick=False):
        call = services.call_hang_up(call_id=call.pk, user=agent_a)

    assert (call.state, call.end_reason, call.hold_seconds) == ("ended", "agent", 75)
    assert not call.legs.filter(left_at__isnull=True).exists()
    assert Interaction.objects.get(pk=call.interaction_id).state == "ended"
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN  # the chat is still open
    ended = conversation.messages.get(system_code="voice_ended_agent")
    assert ended.system_params["duration"] == "1:15"
    assert ended.system_params["hold"] == "1:15"
    last = events_to(session.audience, events.VOICE_CALL)[-1]
    assert (last.payload["state"], last.payload["end_reason"]) == ("ended", "agent")
    # Hanging up again changes nothing.
    assert services.call_hang_up(call_id=call.pk, user=agent_a).state == "ended"
    assert conversation.messages.filter(system_code="voice_ended_agent").count() == 1


def test_the_customer_hangs_up_or_declines(chat, agent_a):
    session, conversation = chat
    call = answered_call(chat, agent_a)
    call = services.customer_hang_up(call_id=call.pk, **customer(session))
    assert (call.state, call.end_reason) == ("ended", "customer")

    second = services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    services.web_call_decline(call_id=second.pk, **customer(session))
    second.refresh_from_db()
    assert (second.state, second.end_reason) == ("ended", "declined")
    assert Interaction.objects.get(pk=second.interaction_id).abandoned_at is None
    assert lines(conversation)[-1] == "voice_declined"


def test_a_call_nobody_answers_ends_when_its_ring_time_is_over(chat, agent_a, settings):
    settings.VOICE_RING_SECONDS = 30
    _session, conversation = chat
    call = services.web_call_start(conversation_id=conversation.pk, user=agent_a)

    assert voice_ring_timeout(call.pk) is False  # not yet
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert voice_ring_timeout(call.pk) is True

    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "no_answer")
    assert lines(conversation)[-1] == "voice_no_answer"
    assert voice_ring_timeout(call.pk) is False


def test_ending_the_conversation_ends_the_call(chat, agent_a):
    session, conversation = chat
    call = answered_call(chat, agent_a)

    conversation_services.conversation_end(conversation=conversation, user=agent_a)

    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "agent")  # the agent's End hangs up
    assert lines(conversation)[-1] == "voice_ended_agent"
    assert events_to(session.audience, events.VOICE_CALL)[-1].payload["state"] == "ended"


def test_signals_reach_only_the_other_party_and_never_integrations(chat, agent_a, agent_a2):
    session, conversation = chat
    call = answered_call(chat, agent_a)
    offer = {"type": "offer", "sdp": "v=0"}
    services.agent_signal(call_id=call.pk, user=agent_a, kind="offer", peer="peer1", data=offer)
    services.customer_signal(
        call_id=call.pk, kind="answer", peer="peer1", data={"type": "answer"}, **customer(session)
    )

    (to_customer,) = events_to(session.audience, events.VOICE_SIGNAL)
    payload = dict(to_customer.payload)
    assert payload.pop("at") > 0  # the server's clock (a reloaded widget skips older offers)
    assert payload == {"call_id": call.pk, "kind": "offer", "peer": "peer1", "data": offer}
    (to_agent,) = events_to(realtime.softphone_audience(agent_a.pk), events.VOICE_SIGNAL)
    assert to_agent.payload["kind"] == "answer"
    assert to_agent.payload["conversation_id"] == conversation.pk
    assert realtime.softphone_audience(agent_a.pk) not in realtime.feed_audiences(agent_a)
    assert not Event.objects.filter(
        type=events.VOICE_SIGNAL, audience=realtime.agent_audience(agent_a.pk)
    ).exists()
    assert events.VOICE_SIGNAL not in realtime.event_types()
    assert events.VOICE_CALL in realtime.event_types()

    with pytest.raises(NotFound):  # not their call
        services.agent_signal(call_id=call.pk, user=agent_a2, kind="ice", peer="peer1", data=[])
    with pytest.raises(ValidationError):
        services.agent_signal(call_id=call.pk, user=agent_a, kind="bye", peer="peer1", data=None)
    with pytest.raises(ValidationError):
        services.agent_signal(call_id=call.pk, user=agent_a, kind="ice", peer="!", data=None)
    with pytest.raises(ValidationError):
        services.agent_signal(
            call_id=call.pk, user=agent_a, kind="ice", peer="peer1", data="x" * 20_000
        )
    services.call_hang_up(call_id=call.pk, user=agent_a)
    with pytest.raises(InvalidState):
        services.agent_signal(call_id=call.pk, user=agent_a, kind="ice", peer="peer1", data=[])


def test_recording_chunks_append_in_order_once_each(chat, agent_a, agent_a2, tmp_media):
    _session, conversation = chat
    conversation.service.call_recording = "on"
    conversation.service.save()
    call = answered_call(chat, agent_a)

    def append(seq, data=b"", segment="seg1", user=agent_a):
        return services.recording_chunk_append(
            call_id=call.pk, user=user, segment=segment, seq=seq, data=data or f"[{seq}]".encode()
        )

    append(0)
    append(0)  # a retry
    with pytest.raises(InvalidState, match="before chunk 1"):
        append(2)
    recording = append(1)
    with pytest.raises(NotFound):
        append(2, user=agent_a2)
    with pytest.raises(ValidationError):
        append(2, segment="../x")
    with pytest.raises(ValidationError):
        append(2, data=b"x" * (services.MAX_RECORDING_CHUNK_BYTES + 1))

    assert (recording.chunks, recording.size) == (2, 6)
    with recording.file.open("rb") as file:
        assert file.read() == b"[0][1]"
    assert CallRecording.objects.filter(call=call).count() == 1


def test_no_recording_where_the_service_does_not_record(chat, agent_a, tmp_media):
    call = answered_call(chat, agent_a)
    assert call.recording_mode == "off"
    with pytest.raises(InvalidState, match="does not record"):
        services.recording_chunk_append(
            call_id=call.pk, user=agent_a, segment="seg1", seq=0, data=b"x"
        )


def test_the_retention_job_deletes_expired_recordings_and_their_files(
    chat, agent_a, tmp_media, django_capture_on_commit_callbacks
):
    _session, conversation = chat
    service = conversation.service
    service.call_recording, service.recording_retention_days = "on", 30
    service.save()
    call = answered_call(chat, agent_a)
    old = services.recording_chunk_append(
        call_id=call.pk, user=agent_a, segment="seg1", seq=0, data=b"old"
    )
    services.call_hang_up(call_id=call.pk, user=agent_a)
    path = tmp_media / old.file.name
    assert path.exists()

    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert voice_recordings_expire() == 0
    later = timezone.now() + timedelta(days=31)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert services.recordings_expire() == 1

    assert not CallRecording.objects.filter(pk=old.pk).exists()
    assert not path.exists()
    call.refresh_from_db()
    assert call.recording_deleted_at is not None
    assert VoiceCall.objects.filter(pk=call.pk).exists()  # the call itself stays in history
    assert CallLeg.objects.filter(call=call).count() == 2


def test_a_call_whose_customer_or_agent_went_away_ends_by_itself(chat, agent_a, settings):
    from channels_app.models import ChatSession
    from channels_app.tasks import voice_calls_gone
    from conversations.models import AgentProfile

    settings.VOICE_PARTY_GONE_SECONDS = 60
    session, conversation = chat
    call = answered_call(chat, agent_a)
    now = timezone.now()
    ChatSession.objects.filter(pk=session.pk).update(customer_seen_at=now)
    AgentProfile.objects.filter(user=agent_a).update(last_seen_at=now)
    assert voice_calls_gone() == {"customer": 0, "agent": 0}

    ChatSession.objects.filter(pk=session.pk).update(customer_seen_at=now - timedelta(seconds=61))
    assert voice_calls_gone() == {"customer": 1, "agent": 0}
    call.refresh_from_db()
    assert (call.state, call.end_reason) == ("ended", "customer_gone")
    assert lines(conversation)[-1] == "voice_customer_gone"

    ChatSession.objects.filter(pk=session.pk).update(customer_seen_at=now)
    second = answered_call(chat, agent_a)
    AgentProfile.objects.filter(user=agent_a).update(last_seen_at=now - timedelta(seconds=61))
    assert voice_calls_gone() == {"customer": 0, "agent": 1}
    second.refresh_from_db()
    assert second.end_reason == "agent_gone"
    assert lines(conversation)[-1] == "voice_agent_gone"


def test_a_call_keeps_the_chat_from_ending_for_inactivity(chat, agent_a):
    from channels_app.models import ChatSession
    from channels_app.tasks import webchat_inactivity

    session, _conversation = chat
    call = answered_call(chat, agent_a)
    later = timezone.now() + timedelta(seconds=session.inactivity_seconds + 5)
    with time_machine.travel(later):
        webchat_inactivity()
    assert ChatSession.objects.get(pk=session.pk).state == "open"  # on the call: not idle

    services.call_hang_up(call_id=call.pk, user=agent_a)
    with time_machine.travel(later + timedelta(seconds=session.inactivity_seconds + 5)):
        webchat_inactivity()
    assert ChatSession.objects.get(pk=session.pk).state == "ended"
