"""Acceptance: one person, SMS then chat, is one contact with one Activities list."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from contacts.models import Contact
from conversations.models import Conversation
from conversations.services import InboundRecord, inbound_receive


@pytest.mark.django_db
def test_sms_through_the_webhook_then_chat_with_the_phone_is_one_contact_with_both_activities(
    twilio_post, sms_entry_point_a, service_a, client, agent_a
):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        response = twilio_post(
            "/webhooks/twilio/sms/",
            {
                "MessageSid": "SM" + "1" * 32,
                "AccountSid": "AC" + "0" * 32,
                "From": "+1 (415) 555-0100",
                "To": "+15005550006",
                "Body": "My order did not arrive",
                "NumMedia": "0",
            },
        )
        assert response.status_code == 200
        by_sms = Conversation.objects.get()
        Conversation.objects.filter(pk=by_sms.pk).update(
            status=Conversation.Status.CLOSED, closed_at=datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
        )
        clock.shift(timedelta(days=1))
        inbound_receive(
            record=InboundRecord(
                channel="chat",
                service=service_a,
                identities=[("phone", "4155550100"), ("email", "Maria.Lopez@Example.COM")],
                provider_id="chat-visitor-1-msg-1",
                body="Hi, following up on my order",
            )
        )

    assert Contact.objects.count() == 1
    contact = Contact.objects.get()
    assert sorted(contact.identities.values_list("kind", "value")) == [
        ("email", "maria.lopez@example.com"),
        ("phone", "+14155550100"),
    ]
    by_chat = Conversation.objects.exclude(pk=by_sms.pk).get()
    assert by_chat.contact == by_sms.contact == contact

    client.force_login(agent_a)
    page = client.get(reverse("contact-detail", args=[contact.pk]))
    summaries = list(page.context["activities"].object_list)
    assert [a.conversation_id for a in summaries] == [by_chat.pk, by_sms.pk]
    assert [a.channels for a in summaries] == [[("chat", "Chat")], [("sms", "SMS")]]
