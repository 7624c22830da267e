from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from channels_app.models import ChatNotice, ChatSession, ChatTranscriptRequest
from channels_app.tasks import webchat_inactivity
from channels_app.webchat import selectors, services
from channels_app.webchat.queue import queue_standing
from contactcenter.exceptions import InvalidState, ValidationError
from contactcenter.models import Event
from contacts.models import Contact, Identity
from conversations import services as conversation_services
from conversations.models import (
    AgentState,
    BusinessHours,
    Conversation,
    Interaction,
    Message,
    MessageStatus,
)
from conversations.services import message_send
from tests.factories import AgentProfileFactory, ContactFactory, IdentityFactory
from tests.utils import count_queries

from .conftest import start_chat

pytestmark = pytest.mark.django_db


def chat_events(session, type_=None):
    events = Event.objects.filter(audience=session.audience).order_by("id")
    if type_:
        events = events.filter(type=type_)
    return list(events)


def test_first_message_opens_a_chat_conversation_recognizing_the_prechat_answers(
    chat_entry_point_a, agent_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session, message = start_chat(chat_entry_point_a, phone="+14155550100")

    interaction = message.interaction
    assert (interaction.channel, message.direction, message.body) == (
        "chat",
        "inbound",
        "Where is my order?",
    )
    assert (session.conversation_id, session.interaction_id) == (
        message.conversation_id,
        interaction.pk,
    )
    contact = message.conversation.contact
    assert (contact.first_name, contact.last_name) == ("Maria", "García")
    assert set(contact.identities.values_list("kind", "value")) == {
        ("webchat", "a" * 32),
        ("email", "maria@example.com"),
        ("phone", "+14155550100"),
    }
    # The agent sees where the customer is and what they answered.
    system_lines = list(
        message.conversation.messages.filter(kind="system").values_list("body", flat=True)
    )
    assert any("maria@example.com" in line for line in system_lines)
    assert any("https://shop.example.com/orders/42" in line for line in system_lines)


def test_a_returning_visitor_is_recognized_by_the_prechat_email(chat_entry_point_a, agent_a):
    known = ContactFactory(first_name="Maria")
    IdentityFactory(contact=known, kind="email", value="maria@example.com")

    _session, message = start_chat(chat_entry_point_a)

    assert message.conversation.contact == known
    assert Identity.objects.get(kind="webchat", value="a" * 32).contact == known


def test_prechat_answers_of_someone_chatting_right_now_do_not_join_their_chat(
    chat_entry_point_a, agent_a
):
    """The pre-chat email is not verified: typing a chatting customer's email must not put a
    stranger into that chat (it would show them the agent's replies)."""
    _victim_session, victim_message = start_chat(chat_entry_point_a, visitor_id="v" * 32)

    session, message = start_chat(chat_entry_point_a, visitor_id="s" * 32, body="hello")

    assert message.interaction_id != victim_message.interaction_id
    assert message.conversation.contact != victim_message.conversation.contact
    assert session.email == "maria@example.com"  # still shown to the agent


def test_agent_joining_is_told_to_the_customer_once(chat_entry_point_a, agent_a):
    session, _ = start_chat(chat_entry_point_a)
    # The customer writes again: nothing more to tell.
    services.chat_message_receive(
        session_id=session.pk, visitor_id=session.visitor_id, body="hello?", client_id="client-02"
    )

    session.refresh_from_db()
    assert session.agent_id == agent_a.pk
    assert session.agent_name == agent_a.agent_profile.name
    notices = list(session.notices.values_list("code", "params"))
    assert notices == [("agent_joined", {"name": agent_a.agent_profile.name})]
    agent_events = chat_events(session, "chat.agent")
    assert [event.payload for event in agent_events] == [{"name": agent_a.agent_profile.name}]


def test_without_a_ready_agent_the_customer_waits_with_position_and_estimated_wait(
    chat_entry_point_a, agent_a_not_ready, settings
):
    settings.QUEUE_AVERAGE_HANDLE_SECONDS = 120
    first, _ = start_chat(chat_entry_point_a, visitor_id="1" * 32, email="one@example.com")
    second, _ = start_chat(chat_entry_point_a, visitor_id="2" * 32, email="two@example.com")

    assert (first.queue_position, first.queue_wait_seconds) == (1, 120)
    assert (second.queue_position, second.queue_wait_seconds) == (2, 240)
    assert chat_events(second, "chat.queue")[-1].payload == {"position": 2, "wait_seconds": 240}

    # The first one leaves: the queue moved (its ring makes the second's widget ask again).
    cache.clear()
    conversation_services.interaction_end(interaction=first.interaction)
    assert services.chat_queue_standing(session_id=second.pk) == {
        "position": 1,
        "wait_seconds": 120,
    }


def test_queue_standing_is_one_function_over_the_routing_selectors(
    chat_entry_point_a, agent_a_not_ready
):
    _session, message = start_chat(chat_entry_point_a)
    standing = queue_standing(interaction=message.interaction)
    assert standing.position == 1
    assert standing.estimated_wait_seconds is not None


def test_availability_is_closed_outside_business_hours_and_unavailable_without_agents(
    chat_entry_point_a, agent_a, service_a
):
    assert services.chat_availability(entry_point=chat_entry_point_a) == "open"

    agent_a.agent_profile.state = AgentState.NOT_READY
    agent_a.agent_profile.save()
    assert services.chat_availability(entry_point=chat_entry_point_a) == "open"  # queue

    agent_a.agent_profile.state = AgentState.LOGGED_OUT
    agent_a.agent_profile.save()
    assert services.chat_availability(entry_point=chat_entry_point_a) == "unavailable"

    agent_a.agent_profile.state = AgentState.READY
    agent_a.agent_profile.save()
    monday_night = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    BusinessHours.objects.create(service=service_a, weekday=0, opens="09:00", closes="17:00")
    assert services.chat_availability(entry_point=chat_entry_point_a, now=monday_night) == "closed"
    monday_noon = monday_night.replace(hour=12)
    assert services.chat_availability(entry_point=chat_entry_point_a, now=monday_noon) == "open"


def test_offline_message_becomes_an_email_conversation_of_the_service(
    chat_entry_point_a, service_a
):
    message = services.chat_offline_message(
        entry_point=chat_entry_point_a,
        visitor_id="o" * 32,
        offline=services.OfflineMessage(
            first_name="Aiko", last_name="Tanaka", email="aiko@example.com", message="Call me"
        ),
        client_id="offline-0001",
    )
    again = services.chat_offline_message(
        entry_point=chat_entry_point_a,
        visitor_id="o" * 32,
        offline=services.OfflineMessage(
            first_name="Aiko", last_name="Tanaka", email="aiko@example.com", message="Call me"
        ),
        client_id="offline-0001",
    )

    assert again.pk == message.pk  # a double submit stores one message
    assert (message.channel, message.interaction.channel, message.body) == (
        "email",
        "email",
        "Call me",
    )
    assert message.conversation.service == service_a
    assert message.interaction.customer_address == "aiko@example.com"
    assert message.conversation.contact.identities.filter(kind="email").exists()


def test_message_limits_refuse_with_a_reason_naming_the_field(chat_entry_point_a, agent_a):
    session, _ = start_chat(chat_entry_point_a)
    chat_entry_point_a.webchat_settings.max_message_length = 10
    chat_entry_point_a.webchat_settings.save()

    with pytest.raises(ValidationError) as too_long:
        services.chat_message_receive(
            session_id=session.pk, visitor_id=session.visitor_id, body="x" * 11, client_id="c" * 8
        )
    with pytest.raises(ValidationError) as empty:
        services.chat_message_receive(
            session_id=session.pk, visitor_id=session.visitor_id, body="  ", client_id="d" * 8
        )

    assert too_long.value.field == empty.value.field == "body"
    assert "11" in too_long.value.message and "10" in too_long.value.message


def test_rate_limit_per_visitor_refuses_the_message_past_the_limit(
    chat_entry_point_a, agent_a, settings
):
    settings.WEBCHAT_RATE_LIMIT = 3
    session, _ = start_chat(chat_entry_point_a)  # 1
    for n in range(2):  # 2, 3
        services.chat_message_receive(
            session_id=session.pk, visitor_id=session.visitor_id, body="hi", client_id=f"ok-{n:06d}"
        )

    with pytest.raises(services.RateLimited) as refused:
        services.chat_message_receive(
            session_id=session.pk, visitor_id=session.visitor_id, body="hi", client_id="over-0001"
        )

    assert refused.value.status_code == 429
    assert Message.objects.filter(direction="inbound").count() == 3


def test_another_visitor_id_cannot_write_into_a_session(chat_entry_point_a, agent_a):
    session, _ = start_chat(chat_entry_point_a)

    with pytest.raises(services.NotFound):
        services.chat_message_receive(
            session_id=session.pk, visitor_id="e" * 32, body="hijack", client_id="evil-0001"
        )
    assert Message.objects.filter(body="hijack").count() == 0


def test_agent_reply_goes_to_the_customers_audience_and_is_sent(
    chat_entry_point_a, agent_a, django_capture_on_commit_callbacks
):
    session, _ = start_chat(chat_entry_point_a)
    conversation = Conversation.objects.get(pk=session.conversation_id)

    with django_capture_on_commit_callbacks(execute=True):
        reply = message_send(conversation=conversation, user=agent_a, body="Let me check.")

    reply.refresh_from_db()
    assert (reply.status, reply.provider_id) == (MessageStatus.SENT, f"chat-{reply.pk}")
    assert chat_events(session, "chat.message")[-1].payload == {"message_id": reply.pk}

    services.chat_agent_messages_progress(
        session_id=session.pk, visitor_id=session.visitor_id, up_to=reply.pk, status="delivered"
    )
    reply.refresh_from_db()
    assert reply.status == MessageStatus.DELIVERED
    services.chat_agent_messages_progress(
        session_id=session.pk, visitor_id=session.visitor_id, up_to=reply.pk, status="read"
    )
    reply.refresh_from_db()
    assert reply.status == MessageStatus.READ


def test_agent_reading_marks_the_customers_lines_read_and_tells_the_customer(
    chat_entry_point_a, agent_a, agent_b
):
    session, message = start_chat(chat_entry_point_a)
    conversation = Conversation.objects.get(pk=session.conversation_id)

    assert services.chat_agent_read(conversation=conversation, user=agent_b, up_to=message.pk) == 0
    assert services.chat_agent_read(conversation=conversation, user=agent_a, up_to=message.pk) == 1
    assert services.chat_agent_read(conversation=conversation, user=agent_a, up_to=message.pk) == 0

    message.refresh_from_db()
    assert message.status == MessageStatus.READ
    assert [e.payload for e in chat_events(session, "chat.read")] == [{"up_to": message.pk}]


def test_customer_ending_the_chat_ends_the_interaction_and_tells_the_agent(
    chat_entry_point_a, agent_a
):
    session, message = start_chat(chat_entry_point_a)

    services.chat_end(session_id=session.pk, visitor_id=session.visitor_id)
    services.chat_end(session_id=session.pk, visitor_id=session.visitor_id)

    session.refresh_from_db()
    assert (session.state, session.end_reason) == ("ended", "customer")
    message.interaction.refresh_from_db()
    assert message.interaction.state == Interaction.State.ENDED
    assert message.conversation.messages.filter(
        kind="system", body="The customer ended the chat."
    ).exists()
    assert [e.payload for e in chat_events(session, "chat.ended")] == [{"reason": "customer"}]
    with pytest.raises(InvalidState):
        services.chat_message_receive(
            session_id=session.pk, visitor_id=session.visitor_id, body="hi", client_id="late-0001"
        )


def test_agent_ending_the_conversation_ends_the_customers_chat(chat_entry_point_a, agent_a):
    session, message = start_chat(chat_entry_point_a)

    conversation_services.conversation_end(conversation=message.conversation, user=agent_a)

    session.refresh_from_db()
    assert (session.state, session.end_reason) == ("ended", "agent")
    assert list(session.notices.values_list("code", flat=True)) == ["agent_joined", "ended"]


def test_a_waiting_customer_whose_widget_went_away_leaves_the_queue_after_the_grace_period(
    chat_entry_point_a, agent_a_not_ready, settings
):
    settings.WEBCHAT_QUEUE_ABANDON_SECONDS = 60
    session, message = start_chat(chat_entry_point_a)
    services.chat_customer_seen(session_id=session.pk, visitor_id=session.visitor_id)
    seen = ChatSession.objects.get(pk=session.pk).customer_seen_at

    with time_machine.travel(seen + timedelta(seconds=59), tick=False):
        assert webchat_inactivity()["left"] == 0
    with time_machine.travel(seen + timedelta(seconds=61), tick=False):
        assert webchat_inactivity()["left"] == 1
        assert webchat_inactivity()["left"] == 0

    session.refresh_from_db()
    assert (session.state, session.end_reason) == ("ended", "left")
    interaction = message.interaction
    interaction.refresh_from_db()
    assert interaction.state == "ended" and interaction.abandoned_at is not None
    assert chat_events(session, "chat.ended")[-1].payload == {"reason": "left"}


def test_inactivity_warns_at_half_time_then_ends_the_chat(chat_entry_point_a, agent_a):
    chat_entry_point_a.webchat_settings.inactivity_timeout_seconds = 600
    chat_entry_point_a.webchat_settings.save()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        session, message = start_chat(chat_entry_point_a)
    assert session.expires_at == start + timedelta(seconds=600)

    with time_machine.travel(start + timedelta(seconds=299), tick=False):
        assert webchat_inactivity() == {"warned": 0, "ended": 0, "left": 0}
    with time_machine.travel(start + timedelta(seconds=300), tick=False):
        assert webchat_inactivity() == {"warned": 1, "ended": 0, "left": 0}
        assert webchat_inactivity() == {
            "warned": 0,
            "ended": 0,
            "left": 0,
        }  # overlapping run: nothing
    session.refresh_from_db()
    assert session.warned_at is not None
    assert chat_events(session, "chat.warning")[-1].payload == {
        "expires_at": session.expires_at.isoformat()
    }
    with time_machine.travel(start + timedelta(seconds=600), tick=False):
        assert webchat_inactivity() == {"warned": 0, "ended": 1, "left": 0}
        assert webchat_inactivity() == {"warned": 0, "ended": 0, "left": 0}

    session.refresh_from_db()
    assert (session.state, session.end_reason) == ("ended", "inactivity")
    assert list(session.notices.values_list("code", flat=True)) == [
        "agent_joined",
        "inactivity_warning",
        "ended",
    ]
    message.interaction.refresh_from_db()
    assert message.interaction.state == Interaction.State.ENDED
    assert message.conversation.messages.filter(kind="system", body__contains="inactive").exists()


def test_customer_activity_after_the_warning_restarts_the_timer(chat_entry_point_a, agent_a):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        session, _ = start_chat(chat_entry_point_a)
    with time_machine.travel(start + timedelta(seconds=320), tick=False):
        webchat_inactivity()
        services.chat_message_receive(
            session_id=session.pk, visitor_id=session.visitor_id, body="here!", client_id="b" * 8
        )
    with time_machine.travel(start + timedelta(seconds=619), tick=False):
        assert webchat_inactivity() == {
            "warned": 0,
            "ended": 0,
            "left": 0,
        }  # the old deadline passed

    session.refresh_from_db()
    assert session.state == "open" and session.warned_at is None
    assert session.expires_at == start + timedelta(seconds=920)
    assert chat_events(session, "chat.warning")[-1].payload == {"expires_at": None}


def test_no_timeout_while_the_customer_waits_for_an_agent(chat_entry_point_a, agent_a_not_ready):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        session, _ = start_chat(chat_entry_point_a)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        # The widget is still there (its heartbeats mark the customer as seen).
        services.chat_customer_seen(session_id=session.pk, visitor_id=session.visitor_id)
        assert webchat_inactivity() == {"warned": 0, "ended": 0, "left": 0}
    session.refresh_from_db()
    assert session.state == "open"


def test_page_changes_are_kept_and_shown_to_the_agent_once_each(chat_entry_point_a, agent_a):
    session, message = start_chat(chat_entry_point_a)
    page = services.Page(url="https://shop.example.com/returns", title="Returns")

    assert services.chat_page_update(
        session_id=session.pk, visitor_id=session.visitor_id, page=page
    )
    assert not services.chat_page_update(
        session_id=session.pk, visitor_id=session.visitor_id, page=page
    )

    session.refresh_from_db()
    assert (session.page_url, session.page_title) == (page.url, "Returns")
    lines = message.conversation.messages.filter(kind="system", body__contains="/returns")
    assert lines.count() == 1


def test_only_http_pages_are_accepted():
    assert services.Page.from_client({"url": "javascript:alert(1)", "title": "x"}) is None
    assert services.Page.from_client({"url": "https://a.example/p", "title": " A \n B "}) == (
        services.Page(url="https://a.example/p", title="A B")
    )


def test_transcript_request_is_recorded_once_and_shown_to_the_agent(chat_entry_point_a, agent_a):
    session, message = start_chat(chat_entry_point_a)
    services.chat_end(session_id=session.pk, visitor_id=session.visitor_id)

    for _ in range(2):
        services.chat_transcript_request(
            session_id=session.pk, visitor_id=session.visitor_id, email="maria@example.com"
        )

    request = ChatTranscriptRequest.objects.get()
    # The chat had ended: the transcript email is written to the outbox at once, once.
    assert (request.session, request.status) == (session, "queued")
    lines = message.conversation.messages.filter(kind="system", body__contains="transcript")
    assert lines.count() == 1
    emails = message.conversation.messages.filter(channel="email", direction="outbound")
    assert list(emails) == [request.message]


def test_one_open_session_per_visitor(chat_entry_point_a):
    first = services.chat_session_start(entry_point=chat_entry_point_a, visitor_id="z" * 32)
    second = services.chat_session_start(entry_point=chat_entry_point_a, visitor_id="z" * 32)
    assert first.pk == second.pk
    assert ChatSession.objects.count() == 1
    assert ChatNotice.objects.count() == 0
    assert Contact.objects.count() == 0  # nothing about the customer until they write


def test_transfer_to_another_agent_and_back_to_the_queue_are_told_to_the_customer(
    chat_entry_point_a, agent_a, service_a
):
    colleague = AgentProfileFactory(user__username="colleague", services=[service_a]).user
    session, _message = start_chat(chat_entry_point_a)
    conversation = Conversation.objects.get(pk=session.conversation_id)

    offer = conversation_services.transfer_to_agent(
        conversation=conversation, user=agent_a, target=colleague
    )
    conversation_services.offer_accept(offer_id=offer.pk, user=colleague)
    conversation_services.transfer_to_service(
        conversation=Conversation.objects.get(pk=conversation.pk), user=colleague, service=service_a
    )

    notices = list(session.notices.values_list("code", "params"))
    assert notices == [
        ("agent_joined", {"name": "Agent agent_a"}),
        ("agent_transferred", {"previous": "Agent agent_a", "name": "Agent colleague"}),
        ("transferred_to_service", {"previous": "Agent colleague", "service": "Service A"}),
    ]
    session.refresh_from_db()
    assert session.agent_id is None and session.expires_at is None  # no timeout while waiting
    assert session.queue_position == 1


def test_transcript_snapshot_query_count_does_not_grow_with_messages(
    chat_entry_point_a, agent_a, django_assert_num_queries
):
    session, _message = start_chat(chat_entry_point_a)
    conversation = Conversation.objects.get(pk=session.conversation_id)

    def add_lines(count):
        for n in range(count):
            services.chat_message_receive(
                session_id=session.pk,
                visitor_id=session.visitor_id,
                body=f"line {n}",
                client_id=f"line-{count}-{n:04d}",
            )
            Message.objects.create(
                conversation=conversation,
                interaction_id=session.interaction_id,
                channel="chat",
                direction="outbound",
                body=f"reply {n}",
                sender=agent_a,
                status=MessageStatus.SENT,
            )

    add_lines(1)
    session.refresh_from_db()
    few = count_queries(lambda: selectors.session_snapshot(session=session))
    add_lines(10)
    with django_assert_num_queries(few):
        snapshot = selectors.session_snapshot(session=session)
    assert len(snapshot["messages"]) == 23
    assert {line["name"] for line in snapshot["messages"] if line["from"] == "agent"} == {
        "Agent agent_a"
    }
