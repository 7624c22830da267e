"""Activities: a contact's conversations on the contact page, summaries only, timelines lazy."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation, Interaction, Message, MessageStatus
from tests.factories import (
    ContactFactory,
    ConversationFactory,
    DispositionFactory,
    InteractionFactory,
    MessageFactory,
)
from tests.utils import count_queries


def detail(contact):
    return reverse("contact-detail", args=[contact.pk])


def timeline(conversation, **params):
    url = reverse("contact-activity-timeline", args=[conversation.pk])
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}?{query}" if query else url


def activities(response):
    return list(response.context["activities"].object_list)


def make_conversations(contact, service, agent, count, start):
    """``count`` closed conversations, each with an SMS and a chat leg, one hour apart."""
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                contact=contact,
                service=service,
                agent=agent,
                status=Conversation.Status.CLOSED,
                opened_at=start + timedelta(hours=i),
                closed_at=start + timedelta(hours=i, minutes=7),
            )
            for i in range(count)
        ]
    )
    Interaction.objects.bulk_create(
        [
            Interaction(
                conversation=conversation,
                channel=channel,
                direction="inbound",
                state="ended",
                agent=agent,
                started_at=conversation.opened_at,
                ended_at=conversation.closed_at,
            )
            for conversation in conversations
            for channel in ("sms", "chat")
        ]
    )
    for conversation in conversations:
        conversation.duplicate_candidates.add(ContactFactory())
    return conversations


@pytest.mark.django_db
def test_activities_list_every_conversation_newest_first_with_its_summary(
    client, agent_a, service_a
):
    contact = ContactFactory()
    outcome = DispositionFactory(service=service_a, name="Resolved")
    now = timezone.now()
    old = InteractionFactory(
        conversation__contact=contact,
        conversation__agent=agent_a,
        conversation__service=service_a,
        conversation__status="closed",
        conversation__opened_at=now - timedelta(days=2),
        conversation__closed_at=now - timedelta(days=2) + timedelta(minutes=12, seconds=5),
        conversation__disposition=outcome,
        conversation__wrap_up_notes="Refund issued",
        channel="voice",
    ).conversation
    InteractionFactory(conversation=old, channel="email")
    new = InteractionFactory(
        conversation__contact=contact, conversation__agent=agent_a, conversation__opened_at=now
    ).conversation
    client.force_login(agent_a)

    response = client.get(detail(contact))

    summaries = activities(response)
    assert [a.conversation_id for a in summaries] == [new.pk, old.pk]
    closed = summaries[1]
    assert closed.channels == [("voice", "Voice"), ("email", "Email")]
    assert (closed.service_name, closed.disposition, closed.notes) == (
        "Service A",
        "Resolved",
        "Refund issued",
    )
    assert closed.agent_name == "Agent agent_a"
    assert closed.duration == timedelta(minutes=12, seconds=5)
    html = response.content.decode()
    for text in [old.number, new.number, "Refund issued", "Resolved", "12 min 05 s", "ongoing"]:
        assert text in html


@pytest.mark.django_db
def test_activities_page_runs_the_same_queries_for_2_and_200_conversations(
    client, agent_a, service_a, django_assert_num_queries
):
    contact = ContactFactory()
    start = timezone.now() - timedelta(days=30)
    make_conversations(contact, service_a, agent_a, 2, start)
    client.force_login(agent_a)
    client.get(detail(contact))
    two = count_queries(lambda: client.get(detail(contact)))

    make_conversations(contact, service_a, agent_a, 198, start + timedelta(days=1))
    with django_assert_num_queries(two):
        response = client.get(detail(contact))

    assert len(activities(response)) == 20
    assert response.context["activities"].paginator.count == 200
    page_10 = client.get(detail(contact), {"page": 10})
    assert len(activities(page_10)) == 20
    assert activities(page_10)[-1].opened_at == start  # the oldest is on the last page


@pytest.mark.django_db
def test_contact_page_with_10000_messages_renders_without_loading_them(client, agent_a):
    conversation = InteractionFactory(conversation__agent=agent_a).conversation
    interaction = conversation.interactions.get()
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                interaction=interaction,
                channel="sms",
                direction="inbound",
                body=f"message number {i}",
                status=MessageStatus.RECEIVED,
                created_at=now,
                status_changed_at=now,
            )
            for i in range(10_000)
        ],
        batch_size=2000,
    )
    client.force_login(agent_a)

    with CaptureQueriesContext(connection) as page_queries:
        page = client.get(detail(conversation.contact))

    assert page.status_code == 200
    assert "message number" not in page.content.decode()
    message_table = Message._meta.db_table
    assert not [q for q in page_queries.captured_queries if message_table in q["sql"]]

    fragment = client.get(timeline(conversation, partial=1))
    shown = fragment.context["timeline"]
    assert len(shown) == 50
    assert shown[-1].body == "message number 9999"
    assert fragment.context["has_earlier"] is True
    earlier = client.get(timeline(conversation, partial=1, before=shown[0].pk))
    assert earlier.context["timeline"][-1].body == "message number 9949"


@pytest.mark.django_db
def test_timeline_pages_cost_the_same_queries_at_60_and_10000_messages(
    client, agent_a, django_assert_num_queries
):
    conversation = InteractionFactory(conversation__agent=agent_a).conversation
    interaction = conversation.interactions.get()
    MessageFactory.create_batch(60, interaction=interaction)
    client.force_login(agent_a)
    url = timeline(conversation, partial=1)
    client.get(url)
    few = count_queries(lambda: client.get(url))
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                interaction=interaction,
                channel="sms",
                direction="inbound",
                body="x",
                status="received",
                created_at=now,
                status_changed_at=now,
            )
            for _ in range(9_940)
        ],
        batch_size=2000,
    )
    with django_assert_num_queries(few):
        client.get(url)


@pytest.mark.django_db
def test_timeline_shows_legs_with_duration_and_escapes_customer_text(client, agent_a):
    conversation = ConversationFactory(agent=agent_a)
    started = timezone.now() - timedelta(minutes=30)
    call = InteractionFactory(
        conversation=conversation,
        channel="voice",
        started_at=started,
        ended_at=started + timedelta(minutes=4, seconds=10),
    )
    MessageFactory(interaction=call, body="<script>alert('x')</script>")
    client.force_login(agent_a)

    html = client.get(timeline(conversation)).content.decode()

    assert "4 min 10 s" in html
    assert "Voice" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


@pytest.mark.django_db
def test_timeline_through_the_contacts_pages_follows_desktop_visibility(
    client, agent_a, agent_b, supervisor, outsider, service_a
):
    conversation = InteractionFactory(
        conversation__agent=agent_a, conversation__service=service_a
    ).conversation
    MessageFactory(interaction=conversation.interactions.get(), body="private detail")
    url = timeline(conversation, partial=1)

    client.force_login(agent_a)
    assert client.get(url).status_code == 200
    client.force_login(supervisor)
    assert client.get(url).status_code == 200
    client.force_login(agent_b)
    assert client.get(url).status_code == 404
    page = client.get(detail(conversation.contact))
    assert page.status_code == 200  # contacts are shared...
    assert activities(page)[0].timeline_url == ""  # ...but not this conversation's timeline
    assert "private detail" not in page.content.decode()
    client.force_login(outsider)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_possible_duplicate_candidates_are_shown_with_a_merge_link_for_supervisors(
    client, agent_a, supervisor
):
    conversation = ConversationFactory(agent=agent_a)
    candidate = ContactFactory(first_name="Twin")
    conversation.duplicate_candidates.add(candidate)
    merge_link = reverse("contact-merge-preview", args=[conversation.contact_id, candidate.pk])

    client.force_login(agent_a)
    html = client.get(detail(conversation.contact)).content.decode()
    assert "Possible duplicate" in html and "Twin" in html
    assert merge_link not in html

    client.force_login(supervisor)
    html = client.get(detail(conversation.contact)).content.decode()
    assert merge_link in html


@pytest.mark.django_db
def test_an_open_conversation_links_to_the_desktop(client, agent_a):
    conversation = InteractionFactory(conversation__agent=agent_a).conversation
    client.force_login(agent_a)
    html = client.get(detail(conversation.contact)).content.decode()
    assert reverse("conversation-detail", args=[conversation.pk]) in html
