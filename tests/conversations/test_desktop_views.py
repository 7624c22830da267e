import pytest
from django.urls import reverse

from conversations.models import Message
from tests.factories import ConversationFactory, InteractionFactory, MessageFactory
from tests.utils import count_queries


def open_conversations(agent, count):
    return [InteractionFactory(conversation__agent=agent).conversation for _ in range(count)]


@pytest.mark.django_db
def test_desktop_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_desktop_lists_only_the_agents_open_conversations(client, agent_a, agent_b):
    mine = open_conversations(agent_a, 2)
    theirs = open_conversations(agent_b, 1)
    client.force_login(agent_a)

    response = client.get("/")

    listed = {c.pk for c in response.context["conversations"]}
    assert listed == {c.pk for c in mine}
    assert theirs[0].contact.display_name not in response.content.decode()


@pytest.mark.django_db
def test_supervisor_also_sees_unassigned_conversations_of_their_services(
    client, supervisor, agent_a, service_a, service_b
):
    waiting = InteractionFactory(conversation__agent=None, conversation__service=service_a)
    elsewhere = InteractionFactory(conversation__agent=None, conversation__service=service_b)
    client.force_login(supervisor)

    response = client.get("/")

    listed = {c.pk for c in response.context["conversations"]}
    assert waiting.conversation_id in listed
    assert elsewhere.conversation_id not in listed


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["desktop", "conversation-list-fragment"])
def test_conversation_list_query_count_does_not_grow_with_rows(
    client, agent_a, django_assert_num_queries, url_name
):
    client.force_login(agent_a)
    open_conversations(agent_a, 2)
    client.get(reverse(url_name))  # warm caches (session, content types)
    two = count_queries(lambda: client.get(reverse(url_name)))
    open_conversations(agent_a, 18)
    with django_assert_num_queries(two):
        response = client.get(reverse(url_name))
    assert len(response.context["conversations"]) == 20


@pytest.mark.django_db
def test_conversation_view_query_count_does_not_grow_with_messages(
    client, agent_a, django_assert_num_queries
):
    client.force_login(agent_a)
    conversation = open_conversations(agent_a, 1)[0]
    interaction = conversation.interactions.get()
    MessageFactory.create_batch(2, interaction=interaction)
    url = reverse("conversation-detail", args=[conversation.pk])
    client.get(url)
    few = count_queries(lambda: client.get(url))
    MessageFactory.create_batch(60, interaction=interaction)
    with django_assert_num_queries(few):
        response = client.get(url)
    assert len(response.context["timeline"]) == 50  # newest page only


@pytest.mark.django_db
def test_another_agent_cannot_open_reply_to_or_close_a_conversation(client, agent_a, agent_b):
    conversation = open_conversations(agent_a, 1)[0]
    client.force_login(agent_b)

    assert client.get(reverse("conversation-detail", args=[conversation.pk])).status_code == 404
    assert client.get(reverse("conversation-messages", args=[conversation.pk])).status_code == 404
    reply = client.post(reverse("conversation-reply", args=[conversation.pk]), {"body": "hi"})
    close = client.post(reverse("conversation-end", args=[conversation.pk]))

    assert reply.status_code == close.status_code == 404
    assert Message.objects.count() == 0
    conversation.refresh_from_db()
    assert conversation.status == "open"


@pytest.mark.django_db
def test_outsider_cannot_open_a_conversation(client, outsider, agent_a):
    conversation = open_conversations(agent_a, 1)[0]
    client.force_login(outsider)
    assert client.get(reverse("conversation-detail", args=[conversation.pk])).status_code == 404


@pytest.mark.django_db
def test_reply_via_the_page_queues_a_message(client, agent_a, django_capture_on_commit_callbacks):
    conversation = open_conversations(agent_a, 1)[0]
    client.force_login(agent_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("conversation-reply", args=[conversation.pk]),
            {"body": "On my way", "client_token": "abc"},
        )

    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["message_id"])
    assert (message.body, message.sender, message.direction) == ("On my way", agent_a, "outbound")


@pytest.mark.django_db
def test_empty_reply_gets_a_400_naming_the_field(client, agent_a):
    conversation = open_conversations(agent_a, 1)[0]
    client.force_login(agent_a)

    response = client.post(reverse("conversation-reply", args=[conversation.pk]), {"body": ""})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["body"]


@pytest.mark.django_db
def test_customer_text_is_escaped(client, agent_a):
    conversation = ConversationFactory(
        agent=agent_a, contact__first_name="<img src=x onerror=alert(1)>"
    )
    interaction = InteractionFactory(conversation=conversation)
    MessageFactory(interaction=interaction, body="<script>alert('x')</script>")
    client.force_login(agent_a)

    html = client.get(reverse("conversation-detail", args=[conversation.pk])).content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert" in html


@pytest.mark.django_db
def test_messages_fragment_returns_only_newer_messages(client, agent_a):
    conversation = open_conversations(agent_a, 1)[0]
    interaction = conversation.interactions.get()
    old, new = MessageFactory.create_batch(2, interaction=interaction)
    client.force_login(agent_a)

    response = client.get(
        reverse("conversation-messages", args=[conversation.pk]), {"after": old.pk}
    )

    assert [m.pk for m in response.context["messages"]] == [new.pk]


@pytest.mark.django_db
def test_agent_state_change_is_saved_and_published(client, agent_a):
    client.force_login(agent_a)

    response = client.post(reverse("agent-state"), {"state": "not_ready", "reason": "Break"})

    assert response.json() == {
        "state": "not_ready",
        "reason": "Break",
        "requested_state": "",
        "requested_reason": "",
    }
    agent_a.agent_profile.refresh_from_db()
    assert agent_a.agent_profile.state == "not_ready"


@pytest.mark.django_db
def test_invalid_agent_state_is_a_400(client, agent_a):
    client.force_login(agent_a)
    response = client.post(reverse("agent-state"), {"state": "partying"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["state"]


# The supervisor's queue figures are the floor view's now: tests/conversations/test_floor.py.


@pytest.mark.django_db
def test_timeline_messages_are_not_shown_as_flash_messages(client, agent_a):
    conversation = open_conversations(agent_a, 1)[0]
    MessageFactory(interaction=conversation.interactions.get(), body="only in the timeline")
    client.force_login(agent_a)

    html = client.get(reverse("conversation-detail", args=[conversation.pk])).content.decode()

    assert 'class="flash"' not in html
    # Once in the timeline, once as the list item's preview, nowhere else.
    assert html.count("only in the timeline") == 2
    assert html.count('<span class="preview">only in the timeline</span>') == 1


def list_item(response, conversation) -> str:
    """The rendered Active Conversations item of ``conversation``."""
    html = response.content.decode()
    start = html.index(f'data-conversation-id="{conversation.pk}"')
    return html[start : html.index("</li>", start)]


@pytest.mark.django_db
def test_an_unnamed_contact_is_listed_by_the_number_of_its_live_leg_formatted_to_read(
    client, agent_a
):
    unnamed = InteractionFactory(
        conversation__agent=agent_a,
        conversation__contact__first_name="",
        conversation__contact__last_name="",
        customer_address="+14155550100",
    ).conversation
    named = InteractionFactory(
        conversation__agent=agent_a,
        conversation__contact__first_name="Ana",
        conversation__contact__last_name="Ruiz",
    ).conversation
    emailer = InteractionFactory(
        conversation__agent=agent_a,
        conversation__contact__first_name="",
        conversation__contact__last_name="",
        channel="email",
        customer_address="ana@example.com",
    ).conversation
    client.force_login(agent_a)
    response = client.get("/")
    assert '<strong class="contact-name">+1 415-555-0100</strong>' in list_item(response, unnamed)
    assert '<strong class="contact-name">Ana Ruiz</strong>' in list_item(response, named)
    assert '<strong class="contact-name">ana@example.com</strong>' in list_item(response, emailer)


@pytest.mark.django_db
def test_each_item_previews_its_last_message_or_note_and_labels_its_timers(client, agent_a):
    interaction = InteractionFactory(conversation__agent=agent_a)
    conversation = interaction.conversation
    MessageFactory(interaction=interaction, body="My parcel never arrived")
    client.force_login(agent_a)

    item = list_item(client.get("/"), conversation)
    assert '<span class="preview">My parcel never arrived</span>' in item
    assert '<span class="timer-label">In conversation</span>' in item
    assert '<span class="timer-label">Waiting</span>' in item  # the customer wrote last

    MessageFactory(
        interaction=interaction, direction=Message.Direction.OUTBOUND, body="Let me check " * 40
    )
    item = list_item(client.get("/"), conversation)
    assert '<span class="preview">You: Let me check Let me check' in item
    assert len(item.split('class="preview">')[1].split("</span>")[0]) < 200  # only its start
    assert "Waiting" not in item  # the agent wrote last: nobody waits

    MessageFactory(interaction=interaction, kind=Message.Kind.NOTE, body="VIP customer")
    MessageFactory(interaction=interaction, kind=Message.Kind.SYSTEM, body="Alex joined")
    item = list_item(client.get("/"), conversation)
    assert '<span class="preview preview-note">Note: VIP customer</span>' in item


@pytest.mark.django_db
def test_the_workspace_names_an_unnamed_customer_as_the_list_does(client, agent_a):
    conversation = InteractionFactory(
        conversation__agent=agent_a,
        conversation__contact__first_name="",
        conversation__contact__last_name="",
        customer_address="+14155550100",
    ).conversation
    client.force_login(agent_a)
    html = client.get(reverse("conversation-detail", args=[conversation.pk])).content.decode()
    assert html.count('<span class="contact-name">+1 415-555-0100</span>') == 1  # the header
    assert html.count('<strong class="contact-name">+1 415-555-0100</strong>') == 1  # the list
