"""Acceptance 1: against a real IMAP server (Dovecot) and a real SMTP server (aiosmtpd), a
customer's email, the agent's reply and the customer's reply to it form one conversation of
three messages; an Outlook-style reply with a broken In-Reply-To still threads by the subject's
case number; someone else quoting the same subject gets a conversation of their own."""

import pytest

from channels_app.email.imap import mailbox_poll
from channels_app.email.services import email_send
from conversations import services
from conversations.models import Conversation, Message

from .mail import customer_email

pytestmark = pytest.mark.django_db


def poll(mailbox, run_on_commit) -> None:
    report = run_on_commit(lambda: mailbox_poll(mailbox_id=mailbox.pk))
    assert report.error == "" and report.rejected == 0


def texts(conversation: Conversation) -> list[tuple[str, str]]:
    return list(
        conversation.messages.filter(kind=Message.Kind.TEXT)
        .order_by("id")
        .values_list("direction", "body")
    )


def test_an_email_thread_stays_one_conversation_and_strangers_get_their_own(
    imap_mailbox, dovecot, smtp_settings, smtp_server, agent_a, run_on_commit
):
    dovecot.append(
        customer_email(
            subject="Change my booking",
            body="Could you move my booking to Tuesday?",
            message_id="<first@customer.test>",
        )
    )
    poll(imap_mailbox, run_on_commit)
    conversation = Conversation.objects.get()
    offer = conversation.interactions.get().offers.get(state="offered")
    services.offer_accept(offer_id=offer.pk, user=agent_a)

    run_on_commit(
        lambda: email_send(conversation=conversation, user=agent_a, body="Done: Tuesday at 10.")
    )
    (sent,) = smtp_server.wait_for(1)
    subject = sent.message["Subject"]
    assert subject == f"Re: Change my booking [{conversation.number}]"
    assert sent.message["In-Reply-To"] == "<first@customer.test>"

    # The customer's mail client answers what it received.
    dovecot.append(
        customer_email(
            subject=f"Re: {subject}",
            body="Perfect, thank you!\n\nOn Monday, Support wrote:\n> Done: Tuesday at 10.",
            in_reply_to=f"<{sent.message_id}>",
            references=["<first@customer.test>", f"<{sent.message_id}>"],
        )
    )
    poll(imap_mailbox, run_on_commit)

    assert Conversation.objects.count() == 1
    assert texts(conversation) == [
        ("inbound", "Could you move my booking to Tuesday?"),
        ("outbound", "Done: Tuesday at 10."),
        ("inbound", "Perfect, thank you!"),
    ]
    latest = conversation.messages.filter(direction="inbound").latest("id")
    assert latest.email.quoted_text.startswith("On Monday, Support wrote:")

    # Outlook: In-Reply-To points at nothing we know; the case number in the subject threads it.
    dovecot.append(
        customer_email(
            subject=f"RE: {subject}",
            body="One more thing: can I bring my dog?",
            in_reply_to="<AM6PR08MB1234.eurprd08.prod.outlook.com>",
        )
    )
    poll(imap_mailbox, run_on_commit)
    assert Conversation.objects.count() == 1
    assert texts(conversation)[-1] == ("inbound", "One more thing: can I bring my dog?")

    # Someone else quoting the same subject (and even the same Message-ID) is not the customer.
    dovecot.append(
        customer_email(
            sender="Someone Else <someone@elsewhere.test>",
            subject=f"Re: {subject}",
            body="I got this forwarded, what is it?",
            in_reply_to=f"<{sent.message_id}>",
        )
    )
    poll(imap_mailbox, run_on_commit)
    stranger = Conversation.objects.exclude(pk=conversation.pk).get()
    assert stranger.contact_id != conversation.contact_id
    assert texts(stranger) == [("inbound", "I got this forwarded, what is it?")]
    assert len(texts(conversation)) == 4
