import pytest

from contacts.models import Contact, Identity
from conversations.models import Conversation, Interaction, Message, MessageStatus
from tests.conftest import twilio_signature
from tests.factories import InteractionFactory, MessageFactory

INBOUND = "/webhooks/twilio/sms/"
STATUS = "/webhooks/twilio/sms/status/"


def inbound_params(**overrides):
    params = {
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": "+14155550100",
        "To": "+15005550006",
        "Body": "Hello, I need help",
        "NumMedia": "0",
    }
    params.update(overrides)
    return params


@pytest.mark.django_db
def test_signed_inbound_sms_creates_contact_conversation_interaction_and_message(
    twilio_post, sms_entry_point_a
):
    response = twilio_post(INBOUND, inbound_params())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in response.content
    identity = Identity.objects.get(kind="phone", value="+14155550100")
    conversation = Conversation.objects.get(contact=identity.contact)
    assert conversation.service == sms_entry_point_a.service
    interaction = conversation.interactions.get()
    assert (interaction.channel, interaction.customer_address, interaction.service_address) == (
        "sms",
        "+14155550100",
        "+15005550006",
    )
    message = interaction.messages.get()
    assert (message.body, message.direction, message.provider_id) == (
        "Hello, I need help",
        "inbound",
        "SM" + "a" * 32,
    )


@pytest.mark.django_db
def test_inbound_sms_recognizes_known_contact_by_e164(twilio_post, sms_entry_point_a):
    known = Identity.objects.create(
        contact=Contact.objects.create(first_name="Maria"), kind="phone", value="+14155550100"
    ).contact

    twilio_post(INBOUND, inbound_params(From="+14155550100"))

    assert Contact.objects.count() == 1
    assert Conversation.objects.get().contact == known


@pytest.mark.django_db
def test_duplicate_message_sid_is_stored_once(twilio_post, sms_entry_point_a):
    first = twilio_post(INBOUND, inbound_params())
    second = twilio_post(INBOUND, inbound_params())

    assert first.status_code == second.status_code == 200
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Interaction.objects.count() == 1
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_wrong_signature_is_403_and_stores_nothing(twilio_post, sms_entry_point_a):
    response = twilio_post(INBOUND, inbound_params(), signature="bm90IGEgc2lnbmF0dXJl")

    assert response.status_code == 403
    assert Message.objects.count() == 0
    assert Contact.objects.count() == 0
    assert Conversation.objects.count() == 0


@pytest.mark.django_db
def test_signature_over_other_params_is_rejected(twilio_post, sms_entry_point_a):
    forged = twilio_signature(f"http://testserver{INBOUND}", inbound_params(Body="original"))

    response = twilio_post(INBOUND, inbound_params(Body="tampered"), signature=forged)

    assert response.status_code == 403
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_missing_signature_is_403(client, twilio_settings, sms_entry_point_a):
    response = client.post(INBOUND, inbound_params())

    assert response.status_code == 403
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_inbound_to_unknown_number_is_404_naming_it(twilio_post, sms_entry_point_a):
    response = twilio_post(INBOUND, inbound_params(To="+15005550999"))

    assert response.status_code == 404
    assert "+15005550999" in response.json()["error"]["message"]
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_inbound_from_invalid_number_is_400_naming_the_field(twilio_post, sms_entry_point_a):
    response = twilio_post(INBOUND, inbound_params(From="not-a-number"))

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["From"]
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_mms_media_urls_are_stored_as_attachments(twilio_post, sms_entry_point_a):
    twilio_post(
        INBOUND,
        inbound_params(
            NumMedia="2",
            MediaUrl0="https://api.twilio.com/media/1",
            MediaContentType0="image/jpeg",
            MediaUrl1="https://api.twilio.com/media/2",
            MediaContentType1="image/png",
        ),
    )

    assert Message.objects.get().attachments == [
        {"url": "https://api.twilio.com/media/1", "content_type": "image/jpeg"},
        {"url": "https://api.twilio.com/media/2", "content_type": "image/png"},
    ]


@pytest.fixture
def outbound_message(agent_a):
    interaction = InteractionFactory(conversation__agent=agent_a)
    return MessageFactory(
        interaction=interaction,
        direction=Message.Direction.OUTBOUND,
        status=MessageStatus.SENT,
        provider_id="SM" + "b" * 32,
        sender=agent_a,
    )


def status_params(status, sid="SM" + "b" * 32, **extra):
    return {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32, **extra}


@pytest.mark.django_db
def test_status_callback_delivered_updates_the_message(twilio_post, outbound_message):
    response = twilio_post(STATUS, status_params("delivered"))

    assert response.status_code == 204
    outbound_message.refresh_from_db()
    assert outbound_message.status == "delivered"


@pytest.mark.django_db
def test_status_moves_forward_only(twilio_post, outbound_message):
    twilio_post(STATUS, status_params("delivered"))
    twilio_post(STATUS, status_params("sent"))
    twilio_post(STATUS, status_params("sending"))

    outbound_message.refresh_from_db()
    assert outbound_message.status == "delivered"


@pytest.mark.django_db
def test_undelivered_keeps_the_providers_error(twilio_post, outbound_message):
    twilio_post(
        STATUS, status_params("undelivered", ErrorCode="30003", ErrorMessage="Unreachable handset")
    )

    outbound_message.refresh_from_db()
    assert (outbound_message.status, outbound_message.error_code) == ("undelivered", "30003")
    assert outbound_message.error_message == "Unreachable handset"


@pytest.mark.django_db
def test_status_callback_found_by_our_id_before_the_sid_was_recorded(twilio_post, outbound_message):
    outbound_message.provider_id = ""
    outbound_message.status = MessageStatus.SENDING
    outbound_message.save()

    response = twilio_post(
        STATUS,
        status_params("delivered", sid="SM" + "c" * 32),
        query={"message": outbound_message.pk},
    )

    assert response.status_code == 204
    outbound_message.refresh_from_db()
    assert (outbound_message.status, outbound_message.provider_id) == ("delivered", "SM" + "c" * 32)


@pytest.mark.django_db
def test_status_callback_with_bad_signature_changes_nothing(twilio_post, outbound_message):
    response = twilio_post(STATUS, status_params("delivered"), signature="bad")

    assert response.status_code == 403
    outbound_message.refresh_from_db()
    assert outbound_message.status == "sent"


@pytest.mark.django_db
def test_status_callback_for_unknown_message_is_404(twilio_post, outbound_message):
    response = twilio_post(STATUS, status_params("delivered", sid="SM" + "f" * 32))

    assert response.status_code == 404
