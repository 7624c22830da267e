"""Chat conference: invite an agent, both in the conversation, the owner leaves to hand over."""

import pytest
from django.urls import reverse

from contactcenter import exceptions
from contacts.models import Identity
from conversations import selectors, services
from conversations.models import ConversationParticipant, Message, Offer
from tests.factories import AgentProfileFactory, ServiceFactory


@pytest.fixture
def chat(run_on_commit):
    service = ServiceFactory()
    owner = AgentProfileFactory(services=[service], display_name="Olga").user
    interaction = run_on_commit(
        lambda: (
            services.inbound_receive(
                record=services.InboundRecord(
                    channel="chat",
                    service=service,
                    identities=[(Identity.Kind.WEBCHAT, "v1")],
                    provider_id="c1",
                    body="help",
                    customer_address="v1",
                )
            ).message.interaction
        )
    )
    run_on_commit(lambda: services.offer_accept(offer_id=interaction.offers.get().pk, user=owner))
    expert = AgentProfileFactory(services=[], display_name="Ezra").user
    return interaction.conversation, owner, expert


def system_lines(conversation):
    return list(
        conversation.messages.filter(kind=Message.Kind.SYSTEM).values_list("body", flat=True)
    )


@pytest.mark.django_db
def test_invited_agent_joins_and_can_read_and_write(chat, run_on_commit):
    conversation, owner, expert = chat
    assert not selectors.conversations_visible_to(user=expert).filter(pk=conversation.pk).exists()

    offer = run_on_commit(
        lambda: services.conference_invite(conversation=conversation, user=owner, target=expert)
    )
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=expert))

    conversation.refresh_from_db()
    assert conversation.agent == owner  # the owner keeps it while both are in
    assert selectors.conversations_visible_to(user=expert).filter(pk=conversation.pk).exists()
    assert conversation.pk in {c.pk for c in selectors.active_conversations(user=expert)}
    reply = run_on_commit(
        lambda: services.message_send(conversation=conversation, user=expert, body="I can help")
    )
    assert reply.sender == expert
    assert "Olga invited Ezra to join." in system_lines(conversation)
    assert "Ezra joined the conversation." in system_lines(conversation)


@pytest.mark.django_db
def test_owner_leaving_completes_the_transfer(chat, run_on_commit):
    conversation, owner, expert = chat
    offer = run_on_commit(
        lambda: services.conference_invite(conversation=conversation, user=owner, target=expert)
    )
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=expert))

    run_on_commit(lambda: services.conversation_leave(conversation=conversation, user=owner))

    conversation.refresh_from_db()
    assert conversation.agent == expert
    assert conversation.interactions.get().agent == expert
    assert not ConversationParticipant.objects.filter(left_at__isnull=True).exists()
    assert not selectors.conversations_visible_to(user=owner).filter(pk=conversation.pk).exists()
    assert "Olga left the conversation; Ezra continues." in system_lines(conversation)
    assert conversation.interactions.count() == 1  # one conversation throughout


@pytest.mark.django_db
def test_declined_invitation_changes_nothing_but_the_timeline(chat, run_on_commit):
    conversation, owner, expert = chat
    offer = run_on_commit(
        lambda: services.conference_invite(conversation=conversation, user=owner, target=expert)
    )
    run_on_commit(lambda: services.offer_reject(offer_id=offer.pk, user=expert))

    conversation.refresh_from_db()
    assert conversation.agent == owner
    assert conversation.interactions.get().state == "active"
    assert Offer.objects.get(pk=offer.pk).state == Offer.State.REJECTED
    assert "Ezra did not join." in system_lines(conversation)


@pytest.mark.django_db
def test_leaving_alone_is_refused_and_outsiders_cannot_invite(chat, agent_b, run_on_commit):
    conversation, owner, expert = chat
    with pytest.raises(exceptions.InvalidState):
        services.conversation_leave(conversation=conversation, user=owner)
    with pytest.raises(exceptions.NotFound):
        services.conference_invite(conversation=conversation, user=agent_b, target=expert)


@pytest.mark.django_db
def test_conference_through_the_pages(client, chat, django_capture_on_commit_callbacks):
    conversation, owner, expert = chat
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("conversation-conference", args=[conversation.pk]), {"agent": expert.pk}
        )
    assert response.status_code == 201
    client.force_login(expert)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("offer-accept", args=[response.json()["offer_id"]]))
    assert client.get(reverse("conversation-detail", args=[conversation.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        left = client.post(reverse("conversation-leave", args=[conversation.pk]))
    assert left.status_code == 200
    # No longer theirs: the desktop, saying so (not a bare 404 page).
    moved = client.get(reverse("conversation-detail", args=[conversation.pk]), follow=True)
    assert moved.redirect_chain == [("/", 302)]
    assert f"Conversation {conversation.number} is no longer yours" in moved.content.decode()
