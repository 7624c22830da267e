"""The desktop and the conversation view cost the same number of queries with 2 and with 20 open
conversations (and offers), and with 20 and 2,000 messages: the timeline renders the newest page
only, oldest of that page first, and the list never queries per row."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations import services
from conversations.models import Channel, Interaction, Message, MessageStatus
from conversations.selectors import TIMELINE_PAGE
from tests.factories import (
    ConversationFactory,
    IdentityFactory,
    InteractionFactory,
    MessageFactory,
)
from tests.utils import count_queries


def open_conversations(agent, service, count):
    """``count`` open conversations of ``agent``: SMS and chat legs, customer and agent lines,
    a phone identity each (the composer offers an SMS leg), some waiting for a reply."""
    conversations = []
    for n in range(count):
        conversation = ConversationFactory(agent=agent, service=service)
        IdentityFactory(contact=conversation.contact)
        sms = InteractionFactory(conversation=conversation, channel=Channel.SMS)
        chat = InteractionFactory(conversation=conversation, channel=Channel.CHAT)
        MessageFactory(interaction=sms)
        MessageFactory(
            interaction=chat, direction=Message.Direction.OUTBOUND, sender=agent, status="sent"
        )
        if n % 2:
            MessageFactory(interaction=chat)  # the customer is waiting for a reply
        conversations.append(conversation)
    return conversations


def offers(agent, service, count, run_on_commit):
    for _ in range(count):
        interaction = InteractionFactory(
            conversation__service=service, conversation__agent=None, agent=None, state="queued"
        )
        run_on_commit(lambda interaction=interaction: services.interaction_enqueue(
            interaction=interaction
        ))  # fmt: skip


def rendered_items(response) -> int:
    return response.content.decode().count('class="conversation-item')


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["desktop", "conversation-list-fragment", "conversation-detail"])
def test_desktop_and_conversation_view_cost_the_same_with_2_and_20_open_conversations(
    client, agent_a, service_a, run_on_commit, django_assert_num_queries, view
):
    client.force_login(agent_a)
    agent_a.agent_profile.capacity_overrides = {"share": {"sms": 1, "chat": 1}}
    agent_a.agent_profile.save()
    first, *_ = open_conversations(agent_a, service_a, 2)
    offers(agent_a, service_a, 2, run_on_commit)
    url = reverse(view, args=[first.pk]) if view == "conversation-detail" else reverse(view)
    client.get(url)  # warm up (session, content types)
    two = count_queries(lambda: client.get(url))

    open_conversations(agent_a, service_a, 18)
    offers(agent_a, service_a, 18, run_on_commit)

    with django_assert_num_queries(two):
        response = client.get(url)
    assert response.status_code == 200
    assert rendered_items(response) == 20
    assert response.content.decode().count('class="offer"') == 20


def add_messages(conversation, agent, count, *, start):
    """``count`` messages in bulk, alternating customer / agent / note / system, on two legs."""
    sms, chat = (
        conversation.interactions.get(channel=Channel.SMS),
        conversation.interactions.get(channel=Channel.CHAT),
    )
    kinds = [
        {"direction": Message.Direction.INBOUND, "status": MessageStatus.RECEIVED},
        {
            "direction": Message.Direction.OUTBOUND,
            "status": MessageStatus.DELIVERED,
            "sender": agent,
            "attachments": [{"url": "https://example.com/a.png", "content_type": "image/png"}],
        },
        {
            "direction": Message.Direction.INTERNAL,
            "kind": Message.Kind.NOTE,
            "status": MessageStatus.RECEIVED,
            "sender": agent,
        },
        {
            "direction": Message.Direction.INTERNAL,
            "kind": Message.Kind.SYSTEM,
            "status": MessageStatus.RECEIVED,
        },
    ]
    return Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                interaction=sms if i % 3 else chat,
                channel=(sms if i % 3 else chat).channel,
                body=f"message number {i}",
                created_at=start + timedelta(seconds=i),
                **kinds[i % len(kinds)],
            )
            for i in range(count)
        ]
    )


def rendered_message_ids(response) -> list[int]:
    import re

    return [int(pk) for pk in re.findall(r'data-message-id="(\d+)"', response.content.decode())]


@pytest.mark.django_db
def test_conversation_view_costs_the_same_with_20_and_2000_messages_newest_page_first(
    client, agent_a, service_a, django_assert_num_queries
):
    client.force_login(agent_a)
    conversation = ConversationFactory(agent=agent_a, service=service_a)
    for channel in (Channel.SMS, Channel.CHAT):
        InteractionFactory(conversation=conversation, channel=channel)
    start = timezone.now() - timedelta(days=1)
    add_messages(conversation, agent_a, 20, start=start)
    url = reverse("conversation-detail", args=[conversation.pk])
    client.get(url)
    twenty = count_queries(lambda: client.get(url))
    assert len(rendered_message_ids(client.get(url))) == 20

    add_messages(conversation, agent_a, 1980, start=start + timedelta(hours=1))
    assert conversation.messages.count() == 2000

    with django_assert_num_queries(twenty):
        response = client.get(url)
    shown = rendered_message_ids(response)
    newest = list(
        conversation.messages.order_by("-id").values_list("id", flat=True)[:TIMELINE_PAGE]
    )
    assert shown == sorted(newest)  # the newest page, oldest of it first
    assert shown[-1] == conversation.messages.latest("id").pk


@pytest.mark.django_db
def test_messages_fragment_costs_the_same_with_20_and_2000_messages(
    client, agent_a, service_a, django_assert_num_queries
):
    client.force_login(agent_a)
    conversation = ConversationFactory(agent=agent_a, service=service_a)
    for channel in (Channel.SMS, Channel.CHAT):
        InteractionFactory(conversation=conversation, channel=channel)
    start = timezone.now() - timedelta(days=1)
    first = add_messages(conversation, agent_a, 20, start=start)
    url = reverse("conversation-messages", args=[conversation.pk])
    client.get(url, {"after": first[9].pk})
    few = count_queries(lambda: client.get(url, {"after": first[9].pk}))

    add_messages(conversation, agent_a, 1980, start=start + timedelta(hours=1))

    with django_assert_num_queries(few):
        response = client.get(url, {"after": first[9].pk})
    shown = rendered_message_ids(response)
    assert len(shown) == TIMELINE_PAGE  # a page at a time, the next ones after it
    assert shown == sorted(shown) and shown[0] == first[10].pk
    assert Interaction.objects.filter(conversation=conversation).count() == 2


@pytest.mark.django_db
def test_one_entry_of_the_list_costs_the_same_with_2_and_20_conversations_and_matches_the_list(
    client, agent_a, service_a, django_assert_num_queries
):
    """The desktop fetches one entry when only it changed (a new message): the entry is the
    same HTML as in the whole list, and costs the same however long the list is."""
    client.force_login(agent_a)
    agent_a.agent_profile.capacity_overrides = {"share": {"sms": 1, "chat": 1}}
    agent_a.agent_profile.save()
    first, *_ = open_conversations(agent_a, service_a, 2)
    url = f"{reverse('conversation-list-fragment')}?conversation={first.pk}"
    client.get(url)
    two = count_queries(lambda: client.get(url))
    open_conversations(agent_a, service_a, 18)
    with django_assert_num_queries(two):
        response = client.get(url)
    entry = response.content.decode()
    assert rendered_items(response) == 1
    assert f'data-conversation-id="{first.pk}"' in entry
    assert 'data-order="' in entry
    whole = client.get(reverse("conversation-list-fragment")).content.decode()
    body = entry[entry.index("<li") :].strip()
    assert body in whole


@pytest.mark.django_db
def test_an_entry_not_in_the_agents_list_is_empty_and_a_bad_id_is_a_400(
    client, agent_a, agent_b, service_a
):
    theirs = ConversationFactory(agent=agent_b, service=service_a)
    client.force_login(agent_a)
    url = reverse("conversation-list-fragment")
    response = client.get(f"{url}?conversation={theirs.pk}")
    assert (response.status_code, response.content) == (200, b"")
    response = client.get(f"{url}?conversation=abc")
    assert response.status_code == 400
    assert response.content.decode() == "Give a conversation id."
