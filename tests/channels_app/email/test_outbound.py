"""Outbound email through a real SMTP server (aiosmtpd): threading headers, subject with the case
number, quoted previous message, signature, CC and attachments from the composer; the outbox
rules (5xx fails with the server's reply, 4xx and unreachable servers are retried); STARTTLS and
login with the entry point's settings; the local outbox without any SMTP server."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from channels_app.email.services import email_receive, email_send
from channels_app.models import EmailMailbox, EmailSignature, LocalOutboxItem
from contactcenter.exceptions import Conflict, ValidationError
from contacts.models import Identity
from conversations import services
from conversations.models import Conversation, Interaction, Message, MessageStatus
from tests.factories import ContactFactory, IdentityFactory
from tests.support.mail_servers import SmtpStandIn, self_signed_certificate

from .mail import customer_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_conversation(email_entry_point_a, agent_a, run_on_commit):
    """Maria emailed support; agent A took it."""
    inbound = run_on_commit(
        lambda: email_receive(
            raw=customer_email(
                body="Can I move my booking to Tuesday?\n\nMaria",
                message_id="<first@mail.test>",
                references=["<older@mail.test>"],
            )
        )
    ).message
    conversation = inbound.conversation
    offer = conversation.interactions.get().offers.get(state="offered")
    services.offer_accept(offer_id=offer.pk, user=agent_a)
    conversation.refresh_from_db()
    return conversation


def send(run_on_commit, **kwargs) -> Message:
    message = run_on_commit(lambda: email_send(**kwargs))
    message.refresh_from_db()
    return message


def test_a_reply_is_sent_threaded_with_subject_quote_signature_cc_and_attachment(
    smtp_settings, smtp_server, email_conversation, agent_a, service_a, run_on_commit
):
    EmailSignature.objects.create(
        service=service_a, text="{{ agent.name }}\n{{ service.name }} team"
    )
    message = send(
        run_on_commit,
        conversation=email_conversation,
        user=agent_a,
        body="Done: **Tuesday** at 10.\n- bring your ID",
        cc="boss@example.com",
        files=[SimpleUploadedFile("booking.pdf", b"%PDF-1.4 new booking", "application/pdf")],
        client_token="t1",
    )

    assert message.status == MessageStatus.SENT
    (received,) = smtp_server.wait_for(1)
    email = received.message
    number = email_conversation.number
    assert received.rcpt_tos == ["maria@example.com", "boss@example.com"]
    assert email["Subject"] == f"Re: My booking [{number}]"
    assert email["From"] == "Service A <support@example.com>"
    assert email["Reply-To"] == "support@example.com"
    assert email["To"] == "maria@example.com" and email["Cc"] == "boss@example.com"
    assert email["In-Reply-To"] == "<first@mail.test>"
    assert email["References"] == "<older@mail.test> <first@mail.test>"
    assert received.message_id == message.email.header_id == message.provider_id
    assert email["Auto-Submitted"] is None
    text = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Done: **Tuesday** at 10.\n- bring your ID\n\n-- \nAgent agent_a\n")
    assert "> Can I move my booking to Tuesday?" in text
    html = email.get_body(("html",)).get_content()
    assert "<strong>Tuesday</strong>" in html and "<li>bring your ID</li>" in html
    (attachment,) = list(email.iter_attachments())
    assert attachment.get_filename() == "booking.pdf"
    assert attachment.get_content() == b"%PDF-1.4 new booking"
    assert message.attachments[0]["name"] == "booking.pdf"

    # The customer's reply to it lands in the same conversation.
    reply = run_on_commit(
        lambda: email_receive(
            raw=customer_email(
                subject=f"Re: My booking [{number}]",
                in_reply_to=f"<{received.message_id}>",
                body="Perfect, thanks!",
            )
        )
    ).message
    assert reply.conversation_id == email_conversation.pk
    assert email_conversation.messages.filter(channel="email").count() == 3


def test_the_same_click_twice_sends_one_email(
    smtp_settings, smtp_server, email_conversation, agent_a, run_on_commit
):
    for _ in range(2):
        send(
            run_on_commit,
            conversation=email_conversation,
            user=agent_a,
            body="Hi",
            client_token="x",
        )
    assert len(smtp_server.wait_for(1)) == 1
    assert Message.objects.filter(direction="outbound").count() == 1


def test_a_permanent_refusal_fails_the_message_with_the_servers_reply(
    smtp_settings, smtp_server, email_conversation, agent_a, run_on_commit
):
    smtp_server.reject["maria@example.com"] = "550 5.1.1 No such user here"
    message = send(run_on_commit, conversation=email_conversation, user=agent_a, body="Hello")

    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1  # never retried
    assert message.error_code == "550"
    assert message.error_message == "maria@example.com: 550 5.1.1 No such user here"
    assert smtp_server.received == []


def test_a_temporary_refusal_is_retried_and_then_sent(
    smtp_settings, smtp_server, email_conversation, agent_a, run_on_commit
):
    smtp_server.reject["maria@example.com"] = "451 4.7.1 Greylisted, try again later"
    message = send(run_on_commit, conversation=email_conversation, user=agent_a, body="Hello")
    assert message.status == MessageStatus.QUEUED  # transient: back in the outbox
    assert (message.attempts, message.error_code) == (1, "451")

    del smtp_server.reject["maria@example.com"]
    services.message_deliver(message_id=message.pk)  # what the retry does

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(smtp_server.wait_for(1)) == 1


def test_an_unreachable_server_is_a_transient_failure(
    smtp_settings, email_conversation, agent_a, run_on_commit
):
    from tests.support.live_server import free_port

    smtp_settings.EMAIL_PORT = free_port()  # nobody listens
    message = send(run_on_commit, conversation=email_conversation, user=agent_a, body="Hello")
    assert message.status == MessageStatus.QUEUED
    assert message.error_code == "network"


def test_retries_stop_after_the_maximum_and_the_message_fails(
    smtp_settings, smtp_server, email_conversation, agent_a, run_on_commit, settings
):
    settings.OUTBOUND_MAX_RETRIES = 2
    smtp_server.reject["maria@example.com"] = "421 4.3.2 Service shutting down"
    message = send(run_on_commit, conversation=email_conversation, user=agent_a, body="Hello")
    services.message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 2)
    assert "421 4.3.2" in message.error_message


def test_the_entry_points_smtp_server_with_starttls_and_login_is_used(
    email_settings, email_conversation, email_entry_point_a, agent_a, run_on_commit, tmp_path,
    monkeypatch,
):  # fmt: skip
    import ssl

    cert, key = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts it like a real one
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with SmtpStandIn(tls_context=context, credentials=("mailer", "s3cret")) as server:
        EmailMailbox.objects.create(
            entry_point=email_entry_point_a,
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            smtp_security=EmailMailbox.Security.STARTTLS,
            smtp_username="mailer",
            smtp_password="s3cret",
            from_name="Acme Support",
        )
        message = send(run_on_commit, conversation=email_conversation, user=agent_a, body="Hi")
        (received,) = server.wait_for(1)
    assert message.status == MessageStatus.SENT
    assert server.logins == ["mailer"]
    assert received.message["From"] == "Acme Support <support@example.com>"


def test_a_wrong_smtp_password_fails_without_showing_it(
    email_settings, email_conversation, email_entry_point_a, agent_a, run_on_commit, caplog
):
    with SmtpStandIn(credentials=("mailer", "right")) as server:
        EmailMailbox.objects.create(
            entry_point=email_entry_point_a,
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            smtp_security=EmailMailbox.Security.NONE,
            smtp_username="mailer",
            smtp_password="wrong-Pa55word",
        )
        message = send(run_on_commit, conversation=email_conversation, user=agent_a, body="Hi")
    assert message.status == MessageStatus.FAILED
    assert message.error_code == "535"
    assert "wrong-Pa55word" not in message.error_message
    assert "wrong-Pa55word" not in caplog.text


def test_without_any_smtp_server_email_goes_to_the_local_outbox(
    email_settings, email_conversation, agent_a, run_on_commit
):
    message = send(run_on_commit, conversation=email_conversation, user=agent_a, body="Hi there")
    item = LocalOutboxItem.objects.get()
    assert message.status == MessageStatus.SENT
    assert (item.channel, item.to_address, item.email_message_id) == (
        "email",
        "maria@example.com",
        message.email.header_id,
    )
    assert item.subject.startswith("Re: My booking [C-")
    assert item.body.startswith("Hi there")


# --- Email during a conversation on another channel -----------------------------------------------


@pytest.fixture
def sms_conversation(agent_a, service_a, sms_entry_point_a, email_entry_point_a):
    contact = ContactFactory(first_name="Maria")
    IdentityFactory(contact=contact, kind="email", value="maria@example.com")
    conversation = Conversation.objects.create(contact=contact, service=service_a, agent=agent_a)
    Interaction.objects.create(
        conversation=conversation,
        channel="sms",
        direction="inbound",
        state="active",
        agent=agent_a,
        customer_address="+14155550100",
        service_address="+15005550006",
        service=service_a,
    )
    return conversation


def test_an_email_to_the_contacts_address_joins_the_same_conversation_as_a_new_leg(
    smtp_settings, smtp_server, sms_conversation, agent_a, run_on_commit
):
    message = send(
        run_on_commit,
        conversation=sms_conversation,
        user=agent_a,
        body="Your updated booking details",
        subject="Your booking",
        to_address="maria@example.com",
    )
    (received,) = smtp_server.wait_for(1)
    assert message.conversation_id == sms_conversation.pk
    assert message.interaction.channel == "email"
    assert message.interaction.direction == "outbound"
    assert received.message["Subject"] == f"Your booking [{sms_conversation.number}]"
    assert received.message["In-Reply-To"] is None
    assert sms_conversation.interactions.count() == 2


def test_an_email_to_another_address_adds_it_to_the_contact(
    email_settings, sms_conversation, agent_a, run_on_commit
):
    send(
        run_on_commit,
        conversation=sms_conversation,
        user=agent_a,
        body="Hello at work",
        new_address="Maria.Work@Example.COM",
    )
    assert sms_conversation.contact.identities.filter(
        kind=Identity.Kind.EMAIL, value="maria.work@example.com"
    ).exists()


def test_an_address_of_another_contact_is_refused_naming_it(
    email_settings, sms_conversation, agent_a
):
    IdentityFactory(kind="email", value="taken@example.com")
    with pytest.raises(Conflict) as error:
        email_send(
            conversation=sms_conversation, user=agent_a, body="x", new_address="taken@example.com"
        )
    assert error.value.field == "to"
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cc": "not an address"}, "cc"),
        ({"new_address": "nope"}, "to"),
        ({"body": "  "}, "body"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    email_settings, sms_conversation, agent_a, kwargs, field
):
    arguments = {"conversation": sms_conversation, "user": agent_a, "body": "x", **kwargs}
    with pytest.raises(ValidationError) as error:
        email_send(**arguments)
    assert error.value.field == field


def test_an_attachment_over_the_limit_is_refused(
    email_settings, sms_conversation, agent_a, settings
):
    settings.EMAIL_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError) as error:
        email_send(
            conversation=sms_conversation,
            user=agent_a,
            body="x",
            to_address="maria@example.com",
            files=[SimpleUploadedFile("big.bin", b"0123456789ABC")],
        )
    assert error.value.field == "attachments"
    assert Message.objects.count() == 0


# --- The composer's endpoint ----------------------------------------------------------------------


def test_the_composer_endpoint_sends_with_files_for_the_conversations_agent_only(
    client, email_settings, sms_conversation, agent_a, agent_b, outsider
):
    url = reverse("email-send", args=[sms_conversation.pk])
    data = {
        "body": "See attached",
        "to": "maria@example.com",
        "email_subject": "Details",
        "email_cc": "",
        "client_token": "c1",
        "email_attachments": SimpleUploadedFile("plan.txt", b"the plan", "text/plain"),
    }
    for user in (agent_b, outsider):
        client.force_login(user)
        assert client.post(url, data).status_code == 404
    data["email_attachments"] = SimpleUploadedFile("plan.txt", b"the plan", "text/plain")
    client.force_login(agent_a)
    response = client.post(url, data)
    assert response.status_code == 201, response.json()
    message = Message.objects.get(pk=response.json()["message_id"])
    assert message.email.subject == f"Details [{sms_conversation.number}]"
    assert message.email_attachments.get().filename == "plan.txt"

    bad = client.post(url, {"body": "x", "to": "maria@example.com", "email_cc": "bad"})
    assert bad.status_code == 400 and list(bad.json()["error"]["fields"]) == ["cc"]


def test_send_again_answers_what_the_failed_email_answered(
    smtp_settings, smtp_server, email_conversation, agent_a, run_on_commit
):
    smtp_server.reject["maria@example.com"] = "550 5.2.2 Mailbox full"
    failed = send(run_on_commit, conversation=email_conversation, user=agent_a, body="Hello")
    assert failed.status == MessageStatus.FAILED
    del smtp_server.reject["maria@example.com"]

    again = run_on_commit(lambda: services.message_retry(message=failed, user=agent_a))

    (received,) = smtp_server.wait_for(1)
    again.refresh_from_db()
    assert again.status == MessageStatus.SENT and again.pk != failed.pk
    assert received.message["In-Reply-To"] == "<first@mail.test>"
    assert received.message["Subject"] == failed.email.subject
    assert received.message_id != failed.email.header_id
