"""The call controls over HTTP (JSON, errors with a reason) and recordings served only to those
who may see the conversation; the call bar in the channel panel."""

import pytest
from django.urls import reverse

from channels_app.models import VoiceCall
from channels_app.voice import services
from tests.utils import count_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def post(client, name, pk, data=None, **extra):
    return client.post(
        reverse(name, args=[pk]), data=data or {}, content_type="application/json", **extra
    )


def test_the_agent_calls_holds_presses_keys_and_hangs_up_over_http(client, chat, agent_a):
    session, conversation = chat
    client.force_login(agent_a)

    response = post(client, "voice-call-start", conversation.pk)
    assert response.status_code == 201, response.content
    call_id = response.json()["call"]["call_id"]
    assert response.json()["call"]["state"] == "ringing"

    refused = post(client, "voice-call-hold", call_id)
    assert refused.status_code == 409
    assert "not answered" in refused.json()["error"]["message"]

    services.web_call_answer(call_id=call_id, session_id=session.pk, visitor_id=session.visitor_id)
    assert post(client, "voice-call-hold", call_id).json()["call"]["state"] == "on_hold"
    assert post(client, "voice-call-resume", call_id).json()["call"]["state"] == "connected"
    bad = post(client, "voice-call-dtmf", call_id, {"digits": "x"})
    assert (bad.status_code, bad.json()["error"]["fields"]) == (400, {"digits": [
        "Keys are 0-9, * and #, up to 20 at once."
    ]})  # fmt: skip
    assert post(client, "voice-call-dtmf", call_id, {"digits": "7"}).status_code == 200
    signal = post(client, "voice-call-signal", call_id, {"kind": "ice", "peer": "p1234",
                                                           "data": []})  # fmt: skip
    assert signal.status_code == 200
    not_json = client.post(reverse("voice-call-signal", args=[call_id]), data="{",
                           content_type="application/json")  # fmt: skip
    assert not_json.status_code == 400
    assert post(client, "voice-call-hang-up", call_id).json()["call"]["state"] == "ended"


def test_only_the_calls_agent_or_supervisor_controls_it(client, chat, agent_a, agent_b):
    _session, conversation = chat
    call = services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    client.force_login(agent_b)
    assert post(client, "voice-call-hang-up", call.pk).status_code == 404
    assert post(client, "voice-call-start", conversation.pk).status_code == 404
    client.logout()
    assert post(client, "voice-call-hang-up", call.pk).status_code == 302  # to the login page


def test_a_recording_is_served_to_those_who_see_the_conversation_and_404_to_others(
    client, chat, agent_a, agent_b, supervisor, tmp_media
):
    session, conversation = chat
    conversation.service.call_recording = "on"
    conversation.service.save()
    call = services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    services.web_call_answer(call_id=call.pk, session_id=session.pk, visitor_id=session.visitor_id)
    client.force_login(agent_a)
    for seq, chunk in enumerate([b"\x1aE\xdf\xa3webm", b"more"]):
        url = reverse("voice-recording-chunk", args=[call.pk]) + f"?segment=seg01&seq={seq}"
        response = client.post(url, data=chunk, content_type="application/octet-stream")
        assert response.status_code == 200, response.content
    assert response.json()["chunks"] == 2
    gap = client.post(
        reverse("voice-recording-chunk", args=[call.pk]) + "?segment=seg01&seq=5",
        data=b"x", content_type="application/octet-stream",
    )  # fmt: skip
    assert gap.status_code == 409
    no_seq = client.post(reverse("voice-recording-chunk", args=[call.pk]) + "?segment=seg01",
                         data=b"x", content_type="application/octet-stream")  # fmt: skip
    assert no_seq.status_code == 400
    recording = call.recordings.get()
    play = reverse("voice-recording", args=[recording.pk])

    response = client.get(play)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/webm"
    assert response["Accept-Ranges"] == "bytes"
    whole = b"\x1aE\xdf\xa3webmmore"
    assert b"".join(response.streaming_content) == whole
    # Parts, as a player seeking asks for them.
    for header, part, content_range in (
        ("bytes=0-3", whole[:4], "bytes 0-3/12"),
        ("bytes=4-", whole[4:], "bytes 4-11/12"),
        ("bytes=-4", whole[-4:], "bytes 8-11/12"),
        ("bytes=8-100", whole[8:], "bytes 8-11/12"),
    ):
        ranged = client.get(play, HTTP_RANGE=header)
        assert ranged.status_code == 206, header
        assert ranged["Content-Range"] == content_range
        assert b"".join(ranged.streaming_content) == part
    beyond = client.get(play, HTTP_RANGE="bytes=12-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == "bytes */12"
    several = client.get(play, HTTP_RANGE="bytes=0-1,4-5")  # not served in parts: the whole
    assert several.status_code == 200
    client.force_login(supervisor)
    assert client.get(play).status_code == 200
    client.force_login(agent_b)
    assert client.get(play).status_code == 404
    assert client.get(reverse("voice-recording", args=[recording.pk + 100])).status_code == 404


def test_the_timeline_plays_the_recording_under_the_calls_last_line(client, chat, agent_a,
                                                                    tmp_media):  # fmt: skip
    session, conversation = chat
    conversation.service.call_recording = "on"
    conversation.service.save()
    call = services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    services.web_call_answer(call_id=call.pk, session_id=session.pk, visitor_id=session.visitor_id)
    recording = services.recording_chunk_append(
        call_id=call.pk, user=agent_a, segment="seg01", seq=0, data=b"webm"
    )
    services.call_hang_up(call_id=call.pk, user=agent_a)
    client.force_login(agent_a)

    page = client.get(reverse("contact-activity-timeline", args=[conversation.pk]))

    html = page.content.decode()
    assert f'src="{reverse("voice-recording", args=[recording.pk])}"' in html
    assert "channel-voice" in html


def test_the_call_bar_follows_the_call_in_constant_queries(client, chat, agent_a):
    session, conversation = chat
    client.force_login(agent_a)
    url = reverse("channels-conversation-panel", args=[conversation.pk])

    idle = client.get(url).content.decode()
    assert 'data-action="call"' in idle
    call = services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    ringing = client.get(url).content.decode()
    assert 'data-state="ringing"' in ringing and 'data-action="hang-up"' in ringing
    services.web_call_answer(call_id=call.pk, session_id=session.pk, visitor_id=session.visitor_id)
    queries = count_queries(lambda: client.get(url))
    services.call_hold(call_id=call.pk, user=agent_a, hold=True)
    held = client.get(url).content.decode()
    assert 'data-action="resume"' in held and 'data-state="on_hold"' in held
    assert count_queries(lambda: client.get(url)) == queries
    services.call_hang_up(call_id=call.pk, user=agent_a)
    assert 'data-action="call"' in client.get(url).content.decode()
    assert VoiceCall.objects.get().state == "ended"


def test_active_conversations_show_the_calls_talk_and_hold_timers(client, chat, agent_a):
    session, conversation = chat
    client.force_login(agent_a)
    url = reverse("conversation-list-fragment")
    call = services.web_call_start(conversation_id=conversation.pk, user=agent_a)
    assert 'class="timer timer-ringing"' in client.get(url).content.decode()
    call = services.web_call_answer(
        call_id=call.pk, session_id=session.pk, visitor_id=session.visitor_id
    )
    queries = count_queries(lambda: client.get(url))
    call = services.call_hold(call_id=call.pk, user=agent_a, hold=True)

    html = client.get(url).content.decode()

    assert f'class="call-time" data-since="{call.answered_at.isoformat()}"' in html
    assert f'class="call-time" data-since="{call.hold_started_at.isoformat()}"' in html
    assert count_queries(lambda: client.get(url)) == queries
    services.call_hang_up(call_id=call.pk, user=agent_a)
    assert "call-time" not in client.get(url).content.decode()
