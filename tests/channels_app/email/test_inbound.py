"""Inbound email: the webhook (shared secret, raw MIME or a form field), idempotency on the
Message-ID, threading scoped to the sender's contact, the continuation window, loop guards
(auto-replies, bounces), attachments with size limits, automatic acknowledgements."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from channels_app.email.services import email_receive
from channels_app.models import EmailDetails, EmailMailbox, EmailReceipt, LocalOutboxItem
from contacts.models import Contact
from conversations import services
from conversations.models import Conversation, Interaction, Message, MessageStatus

from .mail import SECRET, bounce_of, customer_email

pytestmark = pytest.mark.django_db

WEBHOOK = "/webhooks/email/inbound/"


def post_raw(client, raw: bytes, *, secret: str | None = SECRET, **extra):
    headers = {"HTTP_X_EMAIL_SECRET": secret} if secret is not None else {}
    return client.post(WEBHOOK, data=raw, content_type="message/rfc822", **headers, **extra)


def receive(raw: bytes, run_on_commit):
    return run_on_commit(lambda: email_receive(raw=raw))


def agent_takes(conversation: Conversation, agent) -> None:
    interaction = conversation.interactions.get(state=Interaction.State.OFFERED)
    offer = interaction.offers.get(state="offered")
    services.offer_accept(offer_id=offer.pk, user=agent)


# --- The webhook ---------------------------------------------------------------------------------


def test_webhook_stores_a_raw_email_and_answers_what_became_of_it(client, email_entry_point_a):
    response = post_raw(client, customer_email(body="Can I move my booking?"))

    assert response.status_code == 200
    message = Message.objects.get()
    assert response.json() == {
        "result": "message",
        "duplicate": False,
        "message_id": message.pk,
        "conversation_id": message.conversation_id,
    }
    assert (message.channel, message.direction, message.body) == (
        "email",
        "inbound",
        "Can I move my booking?",
    )
    assert message.interaction.customer_address == "maria@example.com"
    assert message.interaction.service_address == "support@example.com"
    assert message.conversation.contact.identities.get().value == "maria@example.com"
    assert message.conversation.contact.first_name == "Maria"
    assert message.email.subject == "My booking"


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_webhook_without_the_shared_secret_is_refused_and_stores_nothing(
    client, email_entry_point_a, secret
):
    response = post_raw(client, customer_email(), secret=secret)
    assert response.status_code == 403
    assert Message.objects.count() == Contact.objects.count() == 0


def test_webhook_is_closed_when_no_secret_is_configured(client, email_entry_point_a, settings):
    settings.EMAIL_INBOUND_SECRET = ""
    assert post_raw(client, customer_email(), secret="").status_code == 403
    assert Message.objects.count() == 0


@pytest.mark.parametrize("field", ["email", "body-mime"])
def test_webhook_takes_the_form_services_post(client, email_entry_point_a, field):
    raw = customer_email(body="Sent as a form")
    response = client.post(
        WEBHOOK,
        {field: raw.decode(), "envelope": '{"to": ["support@example.com"]}'},
        HTTP_X_EMAIL_SECRET=SECRET,
    )
    assert response.status_code == 200, response.json()
    assert Message.objects.get().body == "Sent as a form"


def test_webhook_finds_the_mailbox_from_the_envelope_when_headers_do_not_name_it(
    client, email_entry_point_a
):
    raw = customer_email(to="undisclosed-recipients:;")
    assert post_raw(client, raw).status_code == 404
    response = post_raw(client, raw, QUERY_STRING="to=support@example.com")
    assert response.status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("raw", "status", "field"),
    [
        (b"", 400, "email"),
        (b"Subject: no sender\r\n\r\nhello", 400, "email"),
        (customer_email(to="nobody@example.com"), 404, "to"),
    ],
)
def test_webhook_refuses_bad_input_naming_the_field(
    client, email_entry_point_a, raw, status, field
):
    response = post_raw(client, raw)
    assert response.status_code == status
    assert list(response.json()["error"]["fields"]) == [field]
    assert Message.objects.count() == 0


def test_webhook_refuses_an_email_over_the_size_limit(client, email_entry_point_a, settings):
    settings.EMAIL_MAX_MESSAGE_BYTES = 2000
    response = post_raw(client, customer_email(body="x" * 5000))
    assert response.status_code == 413
    assert list(response.json()["error"]["fields"]) == ["email"]
    assert Message.objects.count() == 0


def test_the_same_email_posted_twice_is_stored_once(client, email_entry_point_a):
    raw = customer_email(message_id="<twice@mail.test>")
    first = post_raw(client, raw).json()
    second = post_raw(client, raw).json()
    assert first["duplicate"] is False and second["duplicate"] is True
    assert first["message_id"] == second["message_id"]
    assert Message.objects.count() == EmailDetails.objects.count() == 1
    assert Message.objects.get().provider_id == "twice@mail.test"


# --- Threading ------------------------------------------------------------------------------------


def test_a_reply_threads_by_in_reply_to_even_to_a_closed_conversation_within_the_window(
    email_entry_point_a, agent_a, run_on_commit
):
    first = receive(customer_email(message_id="<m1@mail.test>"), run_on_commit).message
    conversation = first.conversation
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.CLOSED, closed_at=timezone.now() - timedelta(days=2)
    )
    Interaction.objects.filter(conversation=conversation).update(state=Interaction.State.ENDED)

    reply = receive(
        customer_email(subject="Re: My booking", in_reply_to="<m1@mail.test>"), run_on_commit
    ).message

    conversation.refresh_from_db()
    assert reply.conversation_id == conversation.pk
    assert conversation.status == Conversation.Status.OPEN  # reopened
    assert conversation.case_state == Conversation.CaseState.OPEN


def test_past_the_continuation_window_a_reply_opens_a_new_conversation_linked_to_the_old(
    email_entry_point_a, settings, run_on_commit
):
    first = receive(customer_email(message_id="<old@mail.test>"), run_on_commit).message
    old = first.conversation
    window = settings.CONTINUATION_WINDOW_SECONDS["email"]
    Conversation.objects.filter(pk=old.pk).update(
        status=Conversation.Status.CLOSED,
        closed_at=timezone.now() - timedelta(seconds=window + 60),
    )

    reply = receive(customer_email(in_reply_to="<old@mail.test>"), run_on_commit).message

    new = reply.conversation
    assert new.pk != old.pk
    assert new.follows_id == old.pk
    assert new.messages.filter(kind="system", body__contains=old.number).exists()
    old.refresh_from_db()
    assert old.status == Conversation.Status.CLOSED


def test_the_case_number_in_the_subject_threads_when_the_headers_are_broken(
    email_entry_point_a, run_on_commit
):
    first = receive(customer_email(), run_on_commit).message
    # Another open conversation of the same contact: the subject, not recency, decides.
    other = receive(customer_email(subject="Another topic"), run_on_commit).message
    assert other.conversation_id == first.conversation_id  # same open conversation (usual rule)
    Conversation.objects.filter(pk=first.conversation_id).update(
        status=Conversation.Status.CLOSED, closed_at=timezone.now()
    )
    newer = receive(customer_email(subject="A new question", in_reply_to=""), run_on_commit)
    assert newer.message.conversation_id == first.conversation_id  # within the window

    number = first.conversation.number
    outlook = receive(
        customer_email(
            subject=f"RE: My booking [{number}]", in_reply_to="<broken-by-outlook@outlook.test>"
        ),
        run_on_commit,
    ).message
    assert outlook.conversation_id == first.conversation_id


def test_an_email_from_another_person_quoting_the_subject_opens_its_own_conversation(
    email_entry_point_a, run_on_commit
):
    first = receive(customer_email(message_id="<mine@mail.test>"), run_on_commit).message
    number = first.conversation.number

    intruder = receive(
        customer_email(
            sender="Someone Else <else@example.net>",
            subject=f"Re: My booking [{number}]",
            in_reply_to="<mine@mail.test>",
        ),
        run_on_commit,
    ).message

    assert intruder.conversation_id != first.conversation_id
    assert intruder.conversation.contact_id != first.conversation.contact_id
    assert first.conversation.messages.count() == 1


# --- Loop guards ----------------------------------------------------------------------------------


@pytest.fixture
def closed_email_conversation(email_entry_point_a, agent_a, run_on_commit):
    """Maria emailed, agent A answered (sent through the local outbox) and closed."""
    inbound = receive(customer_email(message_id="<start@mail.test>"), run_on_commit).message
    conversation = inbound.conversation
    agent_takes(conversation, agent_a)
    reply = run_on_commit(
        lambda: services.message_send(
            conversation=conversation, user=agent_a, body="We moved it.", channel="email"
        )
    )
    run_on_commit(lambda: services.conversation_end(conversation=conversation, user=agent_a))
    conversation.refresh_from_db()
    if conversation.status != Conversation.Status.CLOSED:
        services.conversation_wrap_up(conversation=conversation, user=agent_a, disposition=None)
        conversation.refresh_from_db()
    reply.refresh_from_db()
    assert conversation.status == Conversation.Status.CLOSED
    assert reply.status == MessageStatus.SENT
    return conversation, reply


def outbound_count() -> int:
    return Message.objects.filter(direction=Message.Direction.OUTBOUND).count()


def test_an_auto_reply_is_recorded_but_reopens_nothing_and_sends_nothing(
    closed_email_conversation, run_on_commit
):
    conversation, reply = closed_email_conversation
    sent_before, outbox_before = outbound_count(), LocalOutboxItem.objects.count()

    outcome = receive(
        customer_email(
            subject="Automatic reply: Re: My booking",
            body="I am out of the office until Monday.",
            in_reply_to=f"<{reply.email.header_id}>",
            headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
        ),
        run_on_commit,
    )

    assert outcome.kind == "auto_reply"
    conversation.refresh_from_db()
    assert outcome.message.conversation_id == conversation.pk
    assert outcome.message.email.kind == "auto_reply"
    assert conversation.status == Conversation.Status.CLOSED
    assert not conversation.interactions.exclude(state=Interaction.State.ENDED).exists()
    assert (outbound_count(), LocalOutboxItem.objects.count()) == (sent_before, outbox_before)


def test_a_bounce_marks_the_email_failed_with_its_reason_and_reopens_nothing(
    closed_email_conversation, run_on_commit
):
    conversation, reply = closed_email_conversation
    sent_before = outbound_count()

    raw = bounce_of(reply.email.header_id)
    for _ in range(2):  # delivered twice: handled once
        outcome = receive(raw, run_on_commit)
    receive(bounce_of(reply.email.header_id), run_on_commit)  # another bounce of the same email

    reply.refresh_from_db()
    conversation.refresh_from_db()
    assert reply.status == MessageStatus.FAILED
    assert reply.error_code == "5.1.1"
    assert reply.error_message == "550 5.1.1 <maria@example.com>: Recipient address rejected"
    assert conversation.status == Conversation.Status.CLOSED
    assert conversation.messages.filter(kind="system", body__contains="bounced").count() == 1
    assert outbound_count() == sent_before
    assert outcome.duplicate is True
    assert {receipt.original_id for receipt in EmailReceipt.objects.all()} == {reply.pk}


def test_an_auto_reply_about_nothing_we_know_stores_nothing(email_entry_point_a, run_on_commit):
    outcome = receive(customer_email(headers={"Precedence": "bulk"}), run_on_commit)
    assert outcome.kind == "ignored"
    assert Message.objects.count() == Contact.objects.count() == 0
    assert EmailReceipt.objects.get().kind == "ignored"


def test_our_own_email_coming_back_is_ignored(email_entry_point_a, run_on_commit):
    outcome = receive(customer_email(sender="support@example.com"), run_on_commit)
    assert outcome.kind == "ignored"
    assert Message.objects.count() == 0


@pytest.fixture
def acknowledging(email_entry_point_a):
    return EmailMailbox.objects.create(
        entry_point=email_entry_point_a, auto_acknowledge=True, language="es"
    )


def test_a_new_customer_email_is_acknowledged_once_and_an_auto_reply_never(
    acknowledging, run_on_commit
):
    raw = customer_email(message_id="<hello@mail.test>")
    first = receive(raw, run_on_commit).message
    receive(raw, run_on_commit)  # the same email again
    receive(customer_email(body="One more thing"), run_on_commit)  # same conversation
    receive(customer_email(headers={"Auto-Submitted": "auto-replied"}), run_on_commit)

    acks = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    assert acks.count() == 1
    ack = acks.get()
    assert ack.conversation_id == first.conversation_id
    assert ack.email.kind == "automatic"
    assert ack.email.in_reply_to == "hello@mail.test"
    assert ack.email.subject == f"Hemos recibido su mensaje [{first.conversation.number}]"
    item = LocalOutboxItem.objects.get()
    assert (item.channel, item.to_address) == ("email", "maria@example.com")


# --- Attachments and the formatted version --------------------------------------------------------


def test_attachments_are_stored_within_the_limits_and_the_others_named(
    email_entry_point_a, settings, run_on_commit
):
    settings.EMAIL_ATTACHMENT_MAX_BYTES = 1000
    raw = customer_email(
        attachments=[
            ("booking.pdf", "application/pdf", b"%PDF " + b"1" * 100),
            ("huge.zip", "application/zip", b"Z" * 5000),
        ]
    )
    message = receive(raw, run_on_commit).message
    message.refresh_from_db()

    attachment = message.email_attachments.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "booking.pdf",
        "application/pdf",
        105,
    )
    assert not attachment.file.name.endswith("booking.pdf")  # stored under a random name
    assert message.attachments == [
        {
            "url": reverse("email-attachment", args=[attachment.pk]),
            "content_type": "application/pdf",
            "name": "booking.pdf",
            "size": 105,
        }
    ]
    assert message.email.skipped_attachments == [
        {"filename": "huge.zip", "size": 5000, "reason": "too_large"}
    ]
