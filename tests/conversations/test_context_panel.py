"""The desktop's context panel beside a conversation: the contact (inline edit), their other
conversations, the conversation's documents (pre-chat answers, page, attachments) and the
service's fields; a fixed number of queries however long the contact's history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contactcenter.models import Event
from contactcenter.realtime import agent_audience
from conversations.models import Conversation, Disposition, Interaction
from tests.factories import (
    AgentProfileFactory,
    CannedResponseFactory,
    ChatSessionFactory,
    ConversationFactory,
    CustomFieldDefinitionFactory,
    DispositionFactory,
    EmailAttachmentFactory,
    IdentityFactory,
    InteractionFactory,
    MessageFactory,
)
from tests.support.api import api_for
from tests.utils import count_queries


@pytest.fixture
def chat(agent_a, service_a):
    """An open chat conversation of agent_a whose customer filled in the pre-chat form on a
    product page, with a phone identity and the service's fields."""
    conversation = ConversationFactory(
        agent=agent_a,
        service=service_a,
        contact__first_name="Maria",
        contact__last_name="García",
        contact__company="Acme",
        custom_fields={"order": "A-42", "crm_case": "CASE-1"},
    )
    IdentityFactory(contact=conversation.contact, kind="phone", value="+14155550142")
    interaction = InteractionFactory(
        conversation=conversation, channel="chat", customer_address="visitor-1"
    )
    ChatSessionFactory(
        conversation=conversation,
        interaction=interaction,
        first_name="Maria",
        last_name="García",
        email="maria@example.com",
        question="Where is my order?",
        page_url="https://shop.example.com/orders/42",
        page_title="Order 42",
    )
    MessageFactory(interaction=interaction, body="Where is my order?")
    CustomFieldDefinitionFactory(service=service_a, key="order", label="Order number")
    CustomFieldDefinitionFactory(
        service=service_a,
        key="reason",
        label="Reason",
        kind="choice",
        choices="Delivery\nBilling",
        required=True,
    )
    return conversation


def earlier_conversations(conversation, count, *, start=None):
    """``count`` closed conversations of the same contact, with a leg, a disposition and a
    filled field each."""
    start = start or timezone.now() - timedelta(days=count + 1)
    disposition = Disposition.objects.filter(service=conversation.service, name="Solved").first()
    disposition = disposition or DispositionFactory(service=conversation.service, name="Solved")
    for n in range(count):
        earlier = ConversationFactory(
            contact=conversation.contact,
            service=conversation.service,
            agent=conversation.agent,
            status=Conversation.Status.CLOSED,
            opened_at=start + timedelta(days=n),
            closed_at=start + timedelta(days=n, minutes=5),
            disposition=disposition,
            wrap_up_notes=f"Note {n}",
            custom_fields={"reason": "Billing"},
        )
        InteractionFactory(conversation=earlier, state=Interaction.State.ENDED)


def panel_html(response) -> str:
    html = response.content.decode()
    return html[html.index('class="context-tabs"') :]


@pytest.mark.django_db
def test_the_panel_shows_contact_history_prechat_answers_and_fields(client, agent_a, chat):
    earlier_conversations(chat, 2)
    client.force_login(agent_a)
    # The conversation page comes first; it then fetches its panel.
    whole = client.get(reverse("conversation-detail", args=[chat.pk])).content.decode()
    assert f'data-fragment-url="{reverse("conversation-context", args=[chat.pk])}"' in whole
    response = client.get(reverse("conversation-context", args=[chat.pk]))
    assert response.status_code == 200
    panel = response.context["panel"]
    assert panel.contact.pk == chat.contact_id
    assert [(row.kind, row.display) for row in panel.identities] == [("phone", "+1 415-555-0142")]
    assert panel.activities_total == 2
    assert [activity.notes for activity in panel.activities] == ["Note 1", "Note 0"]
    assert panel.activities[0].fields == [("Reason", "Billing")]
    details = dict(panel.details)
    prechat = {item.label: item.value for item in details["Pre-chat form"]}
    assert prechat == {
        "Name": "Maria García",
        "Email": "maria@example.com",
        "Question": "Where is my order?",
    }
    (page, _entry_point) = details["Web page"]
    assert (page.label, page.value, page.url) == (
        "Customer is on",
        "Order 42",
        "https://shop.example.com/orders/42",
    )
    assert [(row.definition.key, row.value, row.missing) for row in panel.fields] == [
        ("order", "A-42", False),
        ("reason", "", True),
    ]
    assert panel.missing_labels == ["Reason"]
    html = panel_html(response)
    for text in ("Maria García", "Acme", "Where is my order?", "Order 42", "Note 1", "Solved"):
        assert text in html
    assert 'name="field-order" value="A-42"' in html
    assert 'id="wrap-up-missing"' not in whole  # not in wrap-up yet


@pytest.mark.django_db
def test_attachments_of_the_conversations_emails_are_listed_as_downloads(client, agent_a, chat):
    email = InteractionFactory(conversation=chat, channel="email", customer_address="m@x.com")
    message = MessageFactory(interaction=email, channel="email", body="see attached")
    attachment = EmailAttachmentFactory(message=message, filename="invoice.pdf", size=2048)
    EmailAttachmentFactory(message=message, filename="logo.png", inline=True)
    client.force_login(agent_a)
    response = client.get(reverse("conversation-context", args=[chat.pk]))
    assert response.status_code == 200
    details = dict(response.context["panel"].details)
    (item,) = details["Attachments"]
    assert (item.value, item.label) == ("invoice.pdf", "2.0\xa0KB")
    assert item.url == reverse("email-attachment", args=[attachment.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["conversation-detail", "conversation-context"])
def test_queries_are_the_same_with_2_and_50_earlier_conversations(
    client, agent_a, chat, django_assert_num_queries, view
):
    earlier_conversations(chat, 2)
    client.force_login(agent_a)
    url = reverse(view, args=[chat.pk])
    client.get(url)  # warm up (session, content types)
    two = count_queries(lambda: client.get(url))

    earlier_conversations(chat, 48, start=timezone.now() - timedelta(days=400))
    with django_assert_num_queries(two):
        response = client.get(url)
    assert response.status_code == 200
    if view == "conversation-context":
        panel = response.context["panel"]
        assert panel.activities_total == 50
        assert len(panel.activities) == 10
        assert "All 50 on the contact page" in response.content.decode()


@pytest.mark.django_db
def test_inline_edit_renames_the_contact_and_tells_the_agents_desktops(client, agent_a, chat):
    client.force_login(agent_a)
    url = reverse("conversation-contact-edit", args=[chat.pk])
    response = client.post(url, {"first_name": " Mariana ", "last_name": "García", "notes": "x"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Mariana García"
    chat.contact.refresh_from_db()
    assert (chat.contact.first_name, chat.contact.notes) == ("Mariana", "")  # notes not editable
    audiences = set(
        Event.objects.filter(
            type="contact.updated", payload__contact_id=chat.contact_id
        ).values_list("audience", flat=True)
    )
    assert agent_audience(agent_a.pk) in audiences

    # Too long: a 400 naming the field, nothing changed.
    response = client.post(url, {"first_name": "x" * 500})
    assert response.status_code == 400
    assert "first_name" in response.json()["error"]["fields"]
    chat.contact.refresh_from_db()
    assert chat.contact.first_name == "Mariana"


@pytest.mark.django_db
def test_only_agents_who_may_open_the_conversation_use_its_panel(client, chat, service_a):
    other = AgentProfileFactory(services=[service_a]).user
    client.force_login(other)
    assert client.get(reverse("conversation-context", args=[chat.pk])).status_code == 404
    response = client.post(
        reverse("conversation-contact-edit", args=[chat.pk]), {"first_name": "Hacked"}
    )
    assert response.status_code == 404
    response = client.post(reverse("conversation-fields", args=[chat.pk]), {"field-order": "X"})
    assert response.status_code == 404
    chat.refresh_from_db()
    chat.contact.refresh_from_db()
    assert chat.contact.first_name == "Maria"
    assert chat.custom_fields["order"] == "A-42"


@pytest.mark.django_db
def test_fields_form_saves_or_answers_400_with_each_field(client, agent_a, chat):
    client.force_login(agent_a)
    url = reverse("conversation-fields", args=[chat.pk])
    response = client.post(url, {"field-order": "B-7", "field-reason": "Refund"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "reason": ["Reason: Choose one of: Delivery, Billing."]
    }
    response = client.post(url, {"field-order": "B-7", "field-reason": "Billing"})
    assert response.status_code == 200
    chat.refresh_from_db()
    assert chat.custom_fields == {"order": "B-7", "reason": "Billing", "crm_case": "CASE-1"}


@pytest.mark.django_db
def test_filled_fields_show_in_activities_and_the_api(client, agent_a, chat):
    chat.custom_fields = {"order": "A-42", "reason": "Delivery"}
    chat.save(update_fields=["custom_fields"])
    client.force_login(agent_a)
    response = client.get(reverse("contact-detail", args=[chat.contact_id]))
    (activity,) = response.context["activities"].object_list
    assert activity.fields == [("Order number", "A-42"), ("Reason", "Delivery")]
    assert '<dd class="activity-field">Delivery</dd>' in response.content.decode()

    api = api_for(agent_a)
    response = api.get(f"/api/v1/conversations/{chat.pk}/")
    assert response.status_code == 200
    assert response.json()["custom_fields"] == {"order": "A-42", "reason": "Delivery"}


@pytest.mark.django_db
def test_knowledge_lists_responses_and_articles_the_composer_menu_only_responses(
    client, agent_a, chat, service_a
):
    CannedResponseFactory(service=service_a, title="Case", body="Your case is {{ case }}.")
    CannedResponseFactory(
        service=None,
        kind="article",
        title="Returns policy",
        body="Returns within 30 days for case {{ case }}.",
        url="https://kb.example.com/returns",
    )
    client.force_login(agent_a)
    panel = client.get(reverse("conversation-context", args=[chat.pk])).content.decode()
    knowledge = panel[panel.index('id="context-knowledge"') :]
    assert f"Your case is {chat.number}." in knowledge
    assert f"Returns within 30 days for case {chat.number}." in knowledge
    assert 'href="https://kb.example.com/returns"' in knowledge
    assert knowledge.count('class="js-insert"') == 2
    html = client.get(reverse("conversation-detail", args=[chat.pk])).content.decode()
    menu = html[html.index('id="composer-canned"') :]
    menu = menu[: menu.index("</select>")]
    assert ">Case</option>" in menu
    assert "Returns policy" not in menu
