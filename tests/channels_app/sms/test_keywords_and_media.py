"""SMS extras: STOP/START/HELP keywords, MMS images in the timeline, late status callbacks."""

import itertools

import pytest
from django.urls import reverse

from channels_app.sms.keywords import sms_keyword
from contacts.models import Contact
from conversations import services
from conversations.models import Conversation, Message, MessageStatus
from tests.factories import InteractionFactory, MessageFactory

from .test_webhooks import INBOUND, STATUS, inbound_params, status_params

pytestmark = pytest.mark.django_db


def sid(n: int) -> str:
    return f"SM{n:032x}"


def system_lines(conversation):
    return list(conversation.messages.filter(kind="system").values_list("body", flat=True))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", ("opt_out", "STOP")),
        ("  stop  ", ("opt_out", "STOP")),
        ("Stop.", ("opt_out", "STOP")),
        ("unsubscribe", ("opt_out", "UNSUBSCRIBE")),
        ("Start", ("opt_in", "START")),
        ("unstop!", ("opt_in", "UNSTOP")),
        ("help", ("help", "HELP")),
        ("please stop calling me", None),
        ("", None),
    ],
)
def test_keywords_are_whole_messages_case_insensitive_and_trimmed(body, expected):
    assert sms_keyword(body) == expected


def test_stop_marks_the_contact_keeps_the_message_and_tells_the_agent(
    twilio_post, sms_entry_point_a
):
    response = twilio_post(INBOUND, inbound_params(MessageSid=sid(1), Body=" Stop "))

    assert response.status_code == 200
    contact = Contact.objects.get()
    assert contact.do_not_text is True
    conversation = Conversation.objects.get()
    assert conversation.messages.filter(direction="inbound", body=" Stop ").exists()
    assert any("opted out of SMS" in line for line in system_lines(conversation))


def test_a_repeated_stop_webhook_adds_nothing(twilio_post, sms_entry_point_a):
    twilio_post(INBOUND, inbound_params(MessageSid=sid(1), Body="STOP"))
    twilio_post(INBOUND, inbound_params(MessageSid=sid(1), Body="STOP"))

    conversation = Conversation.objects.get()
    assert len(system_lines(conversation)) == 1
    assert conversation.messages.filter(direction="inbound").count() == 1


def test_a_later_reply_to_an_opted_out_contact_is_refused_with_a_clear_message(
    client, twilio_post, sms_entry_point_a, agent_a, service_a
):
    service_a.auto_accept_channels = ["sms"]
    service_a.save()
    twilio_post(INBOUND, inbound_params(MessageSid=sid(1), Body="Where is my parcel?"))
    services.route_service(service_id=service_a.pk)  # what the inbound's commit triggers
    twilio_post(INBOUND, inbound_params(MessageSid=sid(2), Body="STOP"))
    conversation = Conversation.objects.get(agent=agent_a)
    client.force_login(agent_a)

    page = client.get(reverse("conversation-detail", args=[conversation.pk])).content.decode()
    response = client.post(
        reverse("conversation-reply", args=[conversation.pk]),
        {"body": "Are you still there?", "channel": "sms"},
    )

    assert 'data-flag="do-not-text"' in page
    assert "opted out of SMS" in page  # the system line in the timeline
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "This contact has opted out of SMS (STOP); nothing was sent."
    )
    assert not Message.objects.filter(direction="outbound").exists()


def test_start_opts_back_in_and_yes_from_someone_never_opted_out_is_just_a_reply(
    twilio_post, sms_entry_point_a
):
    twilio_post(INBOUND, inbound_params(MessageSid=sid(1), Body="yes"))
    conversation = Conversation.objects.get()
    assert system_lines(conversation) == []

    twilio_post(INBOUND, inbound_params(MessageSid=sid(2), Body="STOP"))
    twilio_post(INBOUND, inbound_params(MessageSid=sid(3), Body="start"))

    assert Contact.objects.get().do_not_text is False
    lines = system_lines(conversation)
    assert len(lines) == 2 and "opted back in" in lines[1]


def test_help_is_stored_and_shown_to_the_agent(twilio_post, sms_entry_point_a):
    twilio_post(INBOUND, inbound_params(MessageSid=sid(1), Body="HELP"))

    conversation = Conversation.objects.get()
    assert Contact.objects.get().do_not_text is False
    assert system_lines(conversation) == ["The customer texted HELP (asking for help)."]


def test_mms_with_two_images_shows_both_in_the_timeline(
    client, twilio_post, sms_entry_point_a, supervisor
):
    media = {
        "NumMedia": "3",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
        "MediaContentType1": "image/png",
        "MediaUrl2": "javascript:alert(1)",
        "MediaContentType2": "image/png",
    }
    twilio_post(INBOUND, inbound_params(MessageSid=sid(1), Body="Photos of the damage", **media))
    conversation = Conversation.objects.get()
    client.force_login(supervisor)

    html = client.get(reverse("conversation-detail", args=[conversation.pk])).content.decode()
    fragment = client.get(reverse("conversation-messages", args=[conversation.pk])).content.decode()

    for page in (html, fragment):
        assert page.count('class="attachment attachment-image"') == 2
        assert f'<img src="{media["MediaUrl0"]}"' in page
        assert f'<img src="{media["MediaUrl1"]}"' in page
        assert "javascript:" not in page
    assert len(Message.objects.get(direction="inbound").attachments) == 2


def test_a_non_image_attachment_is_a_link(client, twilio_post, sms_entry_point_a, supervisor):
    twilio_post(
        INBOUND,
        inbound_params(
            MessageSid=sid(1),
            NumMedia="1",
            MediaUrl0="https://api.twilio.com/media/card.vcf",
            MediaContentType0="text/vcard",
        ),
    )
    client.force_login(supervisor)
    conversation = Conversation.objects.get()

    html = client.get(reverse("conversation-messages", args=[conversation.pk])).content.decode()

    assert 'href="https://api.twilio.com/media/card.vcf"' in html
    assert ">text/vcard</a>" in html
    assert "<img" not in html


@pytest.fixture
def sent_sms(agent_a):
    interaction = InteractionFactory(conversation__agent=agent_a)
    return MessageFactory(
        interaction=interaction,
        direction=Message.Direction.OUTBOUND,
        status=MessageStatus.SENDING,
        provider_id="SM" + "b" * 32,
        sender=agent_a,
    )


@pytest.mark.parametrize(
    "order", list(itertools.permutations(["queued", "sending", "sent", "delivered"]))
)
def test_status_callbacks_in_any_order_end_delivered(twilio_post, sent_sms, order):
    for status in order:
        assert twilio_post(STATUS, status_params(status)).status_code == 204

    sent_sms.refresh_from_db()
    assert sent_sms.status == MessageStatus.DELIVERED


@pytest.mark.parametrize(
    ("order", "final"),
    [
        (["undelivered", "sent"], MessageStatus.UNDELIVERED),
        (["sent", "failed", "delivered"], MessageStatus.FAILED),
        (["read", "delivered", "sent"], MessageStatus.READ),
        (["delivered", "read"], MessageStatus.READ),
    ],
)
def test_a_final_status_is_never_replaced_by_a_late_one(twilio_post, sent_sms, order, final):
    for status in order:
        twilio_post(STATUS, status_params(status, ErrorCode="30003" if status != "sent" else ""))

    sent_sms.refresh_from_db()
    assert sent_sms.status == final
