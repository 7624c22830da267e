"""The customer calls from the widget ("Call us"): during a chat an agent handles, it rings on
that agent's desktop; as the first contact, it waits in the service's queue and is offered by the
voice capacity rules (only an agent with nothing else on; an agent on a call gets nothing more), a
missed offer moving to the next agent."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from channels_app.models import VoiceCall, WebChatSettings
from channels_app.voice import services
from channels_app.webchat import services as chat_services
from contactcenter.exceptions import InvalidState, NotFound
from conversations import services as conversation_services
from conversations.models import AgentState, Interaction, Offer

from .conftest import start_chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls_on(chat_entry_point_a):
    WebChatSettings.objects.filter(entry_point=chat_entry_point_a).update(web_calls=True)
    return chat_entry_point_a


def new_visitor(entry_point, visitor_id):
    """A visitor who filled the pre-chat form and pressed "Call us" (no chat line)."""
    return chat_services.chat_session_start(
        entry_point=entry_point,
        visitor_id=visitor_id,
        answers=chat_services.PreChatAnswers(
            first_name="Carla", last_name="Caller", email=f"{visitor_id[:6]}@example.com",
            question="Please call me",
        ),
    )  # fmt: skip


def route(entry_point):
    conversation_services.route_service(service_id=entry_point.service_id)


def live_offers(interaction):
    return list(
        Offer.objects.filter(interaction=interaction, state="offered").values_list(
            "agent_id", flat=True
        )
    )


def test_call_us_during_a_chat_rings_the_agent_of_the_chat_who_answers(chat, agent_a, calls_on):
    session, conversation = chat

    call = services.web_call_request(session_id=session.pk, visitor_id=session.visitor_id)

    interaction = call.interaction
    assert (interaction.channel, interaction.direction, interaction.state) == (
        "voice",
        "inbound",
        "active",
    )
    assert interaction.conversation_id == conversation.pk
    assert interaction.agent_id == agent_a.pk
    assert call.state == "ringing"
    # Asking again while the call is live is the same call.
    again = services.web_call_request(session_id=session.pk, visitor_id=session.visitor_id)
    assert again.pk == call.pk
    with pytest.raises(InvalidState):  # the customer answers nothing: they called
        services.web_call_answer(call_id=call.pk, session_id=session.pk,
                                 visitor_id=session.visitor_id)  # fmt: skip

    call = services.call_answer(call_id=call.pk, user=agent_a)

    assert call.state == "connected" and call.answered_at is not None
    codes = list(
        conversation.messages.filter(channel="voice", kind="system").values_list(
            "system_code", flat=True
        )
    )
    assert codes == ["voice_requested", "voice_taken"]


def test_calls_are_refused_where_the_chat_does_not_offer_them(chat):
    session, _conversation = chat
    with pytest.raises(InvalidState, match="not offered"):
        services.web_call_request(session_id=session.pk, visitor_id=session.visitor_id)
    with pytest.raises(NotFound):
        services.web_call_request(session_id=session.pk, visitor_id="x" * 32)


def test_call_first_waits_in_the_queue_and_goes_to_an_agent_with_spare_voice_capacity(
    calls_on, agent_a, agent_a2
):
    # Agent A has a chat (25 % of their capacity): a call needs all of it.
    start_chat(calls_on, visitor_id="c" * 32)
    assert Interaction.objects.filter(agent=agent_a, channel="chat", state="active").exists()
    session = new_visitor(calls_on, "d" * 32)

    call = services.web_call_request(session_id=session.pk, visitor_id=session.visitor_id)
    assert call.state == "queued"
    assert call.interaction.state == "queued"
    route(calls_on)

    assert live_offers(call.interaction) == [agent_a2.pk]  # never agent A
    offer = Offer.objects.get(interaction=call.interaction, state="offered")
    conversation_services.offer_accept(offer_id=offer.pk, user=agent_a2)
    call.refresh_from_db()
    assert call.state == "connected"
    assert call.interaction.conversation.agent_id == agent_a2.pk
    assert set(call.legs.values_list("party", "agent_id")) == {
        ("customer", None),
        ("agent", agent_a2.pk),
    }

    # On the call, agent A2 is offered nothing else: neither a chat nor a second call.
    agent_a.agent_profile.state = AgentState.NOT_READY
    agent_a.agent_profile.save(update_fields=["state"])
    _, message = start_chat(calls_on, visitor_id="e" * 32)
    second = services.web_call_request(
        session_id=new_visitor(calls_on, "f" * 32).pk, visitor_id="f" * 32
    )
    route(calls_on)
    assert live_offers(message.interaction) == []
    assert live_offers(second.interaction) == []
    assert Interaction.objects.get(pk=message.interaction_id).state == "queued"


def test_a_missed_call_offer_moves_to_the_next_agent(calls_on, agent_a, agent_a2):
    session = new_visitor(calls_on, "d" * 32)
    call = services.web_call_request(session_id=session.pk, visitor_id=session.visitor_id)
    route(calls_on)
    (first,) = live_offers(call.interaction)
    offer = Offer.objects.get(interaction=call.interaction, state="offered")

    with time_machine.travel(offer.expires_at + timedelta(seconds=1)):
        conversation_services.offer_expire(offer_id=offer.pk)
        route(calls_on)
        (second,) = live_offers(call.interaction)

    assert second != first and {first, second} == {agent_a.pk, agent_a2.pk}
    call.refresh_from_db()
    assert call.state == "queued"  # still waiting, the customer hears the ringback


def test_hanging_up_while_waiting_is_an_abandon(calls_on, agent_a):
    agent_a.agent_profile.state = AgentState.NOT_READY
    agent_a.agent_profile.save(update_fields=["state"])
    session = new_visitor(calls_on, "d" * 32)
    call = services.web_call_request(session_id=session.pk, visitor_id=session.visitor_id)

    call = services.customer_hang_up(
        call_id=call.pk, session_id=session.pk, visitor_id=session.visitor_id
    )

    assert (call.state, call.end_reason) == ("ended", "customer")
    interaction = Interaction.objects.get(pk=call.interaction_id)
    assert interaction.abandoned_at is not None
    assert interaction.conversation.messages.filter(system_code="voice_abandoned").exists()
    assert timezone.now() >= interaction.ended_at
    assert VoiceCall.objects.filter(state="ended").count() == 1


def test_a_customer_who_only_called_has_their_widget_session_end_with_the_conversation(
    calls_on, agent_a
):
    from channels_app.models import ChatSession

    session = new_visitor(calls_on, "d" * 32)
    call = services.web_call_request(session_id=session.pk, visitor_id=session.visitor_id)
    route(calls_on)
    offer = Offer.objects.get(interaction=call.interaction, state="offered")
    conversation_services.offer_accept(offer_id=offer.pk, user=agent_a)
    services.call_hang_up(call_id=call.pk, user=agent_a)
    conversation = call.interaction.conversation
    conversation.refresh_from_db()
    assert conversation.status == "wrap_up"
    assert ChatSession.objects.get(pk=session.pk).state == "open"  # may still write

    conversation_services.conversation_wrap_up(
        conversation=conversation, user=agent_a, disposition=None, notes=""
    )

    assert ChatSession.objects.get(pk=session.pk).state == "ended"
