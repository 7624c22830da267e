"""Consulting a colleague during a call: the customer holds while the two agents talk; then the
agent hands the call over (and is out of it) or merges the three into a conference; the timeline
says who talked to whom and for how long."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from channels_app.voice import events, services
from contactcenter import realtime
from contactcenter.exceptions import InvalidState, NotFound, ValidationError
from contactcenter.models import Event
from conversations import services as conversation_services
from conversations.models import ConversationParticipant, Offer

pytestmark = pytest.mark.django_db


def answered(chat, agent):
    session, conversation = chat
    call = services.web_call_start(conversation_id=conversation.pk, user=agent)
    return services.web_call_answer(
        call_id=call.pk, session_id=session.pk, visitor_id=session.visitor_id
    )


def consult(call, agent, colleague):
    call = services.call_consult(call_id=call.pk, user=agent, target_id=colleague.pk)
    offer = Offer.objects.get(interaction=call.interaction, state="offered", is_conference=True)
    conversation_services.offer_accept(offer_id=offer.pk, user=colleague)
    call.refresh_from_db()
    return call


def codes(conversation):
    return list(
        conversation.messages.filter(channel="voice", kind="system")
        .order_by("id")
        .values_list("system_code", flat=True)
    )


def test_consult_puts_the_customer_on_hold_and_rings_the_colleague(chat, agent_a, agent_a2):
    _session, conversation = chat
    call = answered(chat, agent_a)

    call = services.call_consult(call_id=call.pk, user=agent_a, target_id=agent_a2.pk)

    assert (call.state, call.consult_state, call.consult_agent_id) == (
        "on_hold",
        "ringing",
        agent_a2.pk,
    )
    offer = Offer.objects.get(interaction=call.interaction, state="offered")
    assert (offer.agent_id, offer.is_conference) == (agent_a2.pk, True)
    with pytest.raises(InvalidState, match="already"):
        services.call_consult(call_id=call.pk, user=agent_a, target_id=agent_a2.pk)
    with pytest.raises(InvalidState, match="answer"):
        services.call_merge(call_id=call.pk, user=agent_a)

    conversation_services.offer_accept(offer_id=offer.pk, user=agent_a2)

    call.refresh_from_db()
    assert call.consult_state == "talking"
    assert call.legs.filter(party="consulted", agent=agent_a2, left_at__isnull=True).exists()
    assert ConversationParticipant.objects.filter(
        conversation=conversation, agent=agent_a2, left_at__isnull=True
    ).exists()
    # The two desktops signal each other on their own audiences.
    services.agent_signal(call_id=call.pk, user=agent_a, kind="offer", peer="bridge1",
                          data={"type": "offer"}, to="consult")  # fmt: skip
    services.agent_signal(call_id=call.pk, user=agent_a2, kind="answer", peer="bridge1",
                          data={"type": "answer"}, to="owner")  # fmt: skip
    to_colleague = Event.objects.filter(
        audience=realtime.softphone_audience(agent_a2.pk), type=events.VOICE_SIGNAL
    ).get()
    assert (to_colleague.payload["from"], to_colleague.payload["kind"]) == ("owner", "offer")
    to_agent = Event.objects.filter(
        audience=realtime.softphone_audience(agent_a.pk), type=events.VOICE_SIGNAL
    ).get()
    assert (to_agent.payload["from"], to_agent.payload["kind"]) == ("consult", "answer")


def test_consult_refuses_oneself_a_stranger_and_a_busy_colleague(chat, agent_a, agent_a2):
    call = answered(chat, agent_a)
    with pytest.raises(ValidationError):
        services.call_consult(call_id=call.pk, user=agent_a, target_id=agent_a.pk)
    with pytest.raises(ValidationError):
        services.call_consult(call_id=call.pk, user=agent_a, target_id=0)
    with pytest.raises(NotFound):  # the colleague is not in this conversation
        services.call_consult(call_id=call.pk, user=agent_a2, target_id=agent_a.pk)


def test_consult_then_transfer_leaves_the_first_agent_out(chat, agent_a, agent_a2):
    _session, conversation = chat
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        call = answered(chat, agent_a)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        call = consult(call, agent_a, agent_a2)
    with time_machine.travel(start + timedelta(seconds=50), tick=False):
        call = services.call_consult_transfer(call_id=call.pk, user=agent_a)

    assert (call.state, call.consult_state, call.consult_agent_id) == ("connected", "", None)
    assert call.interaction.agent_id == agent_a2.pk
    conversation.refresh_from_db()
    assert conversation.agent_id == agent_a2.pk
    legs = list(call.legs.order_by("joined_at", "id").values_list("party", "agent_id", "left_at"))
    assert [(party, agent) for party, agent, _ in legs] == [
        ("agent", agent_a.pk),
        ("customer", None),
        ("consulted", agent_a2.pk),
        ("agent", agent_a2.pk),
    ]
    assert legs[0][2] is not None and legs[2][2] is not None and legs[3][2] is None
    assert call.hold_seconds == 20  # held while the two agents talked
    assert "voice_consulting" in codes(conversation)
    assert codes(conversation)[-1] == "voice_handed_over"
    line = conversation.messages.filter(system_code="voice_handed_over").get()
    assert line.system_params["duration"] == "0:50"


def test_consult_then_conference_then_the_colleague_leaves(chat, agent_a, agent_a2):
    _session, conversation = chat
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        call = consult(answered(chat, agent_a), agent_a, agent_a2)
        call = services.call_merge(call_id=call.pk, user=agent_a)
    assert (call.state, call.consult_state) == ("connected", "conference")
    with time_machine.travel(start + timedelta(seconds=65), tick=False):
        call = services.call_consult_cancel(call_id=call.pk, user=agent_a)

    assert (call.consult_state, call.consult_agent_id) == ("", None)
    assert call.state == "on_hold"  # the agent resumes when ready
    assert call.interaction.agent_id == agent_a.pk
    assert not ConversationParticipant.objects.filter(
        conversation=conversation, agent=agent_a2, left_at__isnull=True
    ).exists()
    line = conversation.messages.filter(system_code="voice_consult_left").get()
    assert line.system_params["duration"] == "1:05"
    assert "voice_conference" in codes(conversation)
    assert codes(conversation)[-1] == "voice_consult_left"


def test_a_consult_still_ringing_can_be_cancelled(chat, agent_a, agent_a2):
    _session, conversation = chat
    call = answered(chat, agent_a)
    services.call_consult(call_id=call.pk, user=agent_a, target_id=agent_a2.pk)

    call = services.call_consult_cancel(call_id=call.pk, user=agent_a)

    assert (call.consult_state, call.consult_agent_id) == ("", None)
    assert not Offer.objects.filter(interaction=call.interaction, state="offered").exists()
    assert codes(conversation)[-1] == "voice_consult_cancelled"
