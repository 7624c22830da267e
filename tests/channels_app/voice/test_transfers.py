"""A call handed to another agent (blind transfer: the conversation's Transfer) or sent to a
service's queue: the first agent's leg ends, the timeline says who talked to whom and for how
long, the new agent's leg starts when they accept."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from channels_app.voice import events, services
from contactcenter import realtime
from contactcenter.models import Event
from conversations import services as conversation_services
from conversations.models import Offer
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def answered(chat, agent):
    session, conversation = chat
    call = services.web_call_start(conversation_id=conversation.pk, user=agent)
    return services.web_call_answer(
        call_id=call.pk, session_id=session.pk, visitor_id=session.visitor_id
    )


def test_a_call_handed_to_another_agent_leaves_the_first_agent_out(chat, agent_a, agent_a2):
    _session, conversation = chat
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        call = answered(chat, agent_a)
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        offer = conversation_services.transfer_to_agent(
            conversation=conversation, user=agent_a, target=agent_a2
        )
        assert offer.interaction_id == call.interaction_id  # the call is what is handed over
        conversation_services.offer_accept(offer_id=offer.pk, user=agent_a2)

    call.refresh_from_db()
    assert call.state == "connected"
    assert call.interaction.agent_id == agent_a2.pk
    legs = list(call.legs.filter(party="agent").order_by("joined_at", "id"))
    assert [(leg.agent_id, leg.left_at is not None) for leg in legs] == [
        (agent_a.pk, True),
        (agent_a2.pk, False),
    ]
    # The first agent's desktop hears of it (it drops the audio), though not theirs any more.
    told = Event.objects.filter(
        audience=realtime.agent_audience(agent_a.pk), type=events.VOICE_CALL
    ).last()
    assert told.payload["agent_id"] == agent_a2.pk
    line = conversation.messages.get(system_code="voice_handed_over")
    assert line.system_params["duration"] == "1:30"
    assert line.system_params["name"] == agent_a2.agent_profile.name
    # The first agent may not control it any more; the second hangs up.
    with pytest.raises(Exception):
        services.call_hold(call_id=call.pk, user=agent_a, hold=True)
    assert services.call_hang_up(call_id=call.pk, user=agent_a2).state == "ended"


def test_a_call_sent_to_a_service_waits_again_then_the_accepting_agent_takes_it_and_the_chat(
    chat, agent_a, agent_a2
):
    _session, conversation = chat
    billing = ServiceFactory(name="Billing")
    agent_a2.agent_profile.services.add(billing)
    call = answered(chat, agent_a)
    first_answer = call.answered_at
    services.call_hold(call_id=call.pk, user=agent_a, hold=True)

    conversation_services.transfer_to_service(
        conversation=conversation, user=agent_a, service=billing
    )

    call.refresh_from_db()
    assert call.state == "queued" and call.hold_started_at is None
    assert conversation.messages.filter(system_code="voice_sent_to_queue").exists()
    conversation_services.route_service(service_id=billing.pk)
    # The chat and the call wait together: whichever is offered first, its agent gets both.
    offer = Offer.objects.get(interaction__conversation=conversation, state="offered")
    assert offer.agent_id == agent_a2.pk
    conversation_services.offer_accept(offer_id=offer.pk, user=agent_a2)
    call.refresh_from_db()
    assert call.state == "connected"
    assert call.answered_at == first_answer  # talk time runs from the first answer
    assert call.legs.filter(party="agent", agent=agent_a, left_at__isnull=False).exists()
    assert call.legs.filter(party="agent", agent=agent_a2, left_at__isnull=True).exists()
    assert set(
        conversation.interactions.exclude(state="ended").values_list("agent_id", "state")
    ) == {(agent_a2.pk, "active")}
