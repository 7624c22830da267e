"""Parsing inbound email (standard library, policy=default): addresses, threading headers, the
text apart from the quoted history, HTML, attachments, and the loop guards' signals."""

import hashlib

import pytest

from channels_app.email.parsing import (
    NotAnEmail,
    email_parse,
    html_to_text,
    normalize_message_id,
    split_quoted,
)
from channels_app.email.threads import (
    reply_subject,
    subject_conversation_ids,
    subject_with_token,
)
from conversations.models import Conversation

from .mail import bounce_of, customer_email


def test_addresses_subject_and_threading_headers_are_read():
    raw = customer_email(
        sender='"García, María" <Maria@Example.COM>',
        to="Support <support@example.com>",
        cc="boss@example.com, Other <other@example.com>",
        subject="=?utf-8?q?Reserva_n=C2=BA_42?=",
        message_id="<abc.123@mail.test>",
        in_reply_to="<cc.1.x@example.com>",
        references=["<first@mail.test>", "<cc.1.x@example.com>"],
    )
    parsed = email_parse(raw)
    assert (parsed.from_name, parsed.from_address) == ("García, María", "maria@example.com")
    assert parsed.to == ["support@example.com"]
    assert parsed.cc == ["boss@example.com", "other@example.com"]
    assert parsed.subject == "Reserva nº 42"
    assert parsed.message_id == parsed.provider_id == "abc.123@mail.test"
    assert parsed.in_reply_to == "cc.1.x@example.com"
    assert parsed.references == ["first@mail.test", "cc.1.x@example.com"]
    assert parsed.thread_ids == ["cc.1.x@example.com", "first@mail.test"]
    assert parsed.auto is False and parsed.bounce is None


def test_an_email_without_message_id_is_identified_by_its_content():
    raw = customer_email(message_id="")
    parsed = email_parse(raw)
    assert parsed.message_id == ""
    assert parsed.provider_id == "sha256:" + hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"Subject: no sender\r\n\r\nhello"])
def test_what_is_not_an_email_is_refused(raw):
    with pytest.raises(NotAnEmail):
        email_parse(raw)


def test_message_ids_are_normalized():
    assert normalize_message_id(" <a.b@c> ") == "a.b@c"
    assert normalize_message_id("a.b@c") == "a.b@c"
    assert normalize_message_id("") == ""
    assert normalize_message_id("not an id") == ""


GMAIL_REPLY = """Yes, Tuesday works for me.

Thanks!

On Mon, 1 Dec 2026 at 10:02, Support <support@example.com> wrote:
> Could we move your booking to Tuesday?
>
> Best regards
"""

OUTLOOK_REPLY = """Tuesday is fine.

________________________________
From: Support <support@example.com>
Sent: Monday, December 1, 2026 10:02
To: Maria Garcia
Subject: Re: My booking [C-1042]

Could we move your booking to Tuesday?
"""

SPANISH_WRAPPED_REPLY = """Vale, el martes.

El lun, 1 dic 2026 a las 10:02, Soporte (<support@example.com>)
escribió:
> ¿Podemos pasar su reserva al martes?
"""


@pytest.mark.parametrize(
    ("text", "new", "quoted_start"),
    [
        (GMAIL_REPLY, "Yes, Tuesday works for me.\n\nThanks!", "On Mon, 1 Dec 2026"),
        (OUTLOOK_REPLY, "Tuesday is fine.", "________________________________"),
        (SPANISH_WRAPPED_REPLY, "Vale, el martes.", "El lun, 1 dic 2026"),
        ("Just this.\n> quoted\n> more\n", "Just this.", "> quoted"),
        ("No history here.\n", "No history here.", None),
    ],
)
def test_the_quoted_history_is_split_from_what_the_customer_wrote(text, new, quoted_start):
    written, quoted = split_quoted(text)
    assert written == new
    if quoted_start is None:
        assert quoted == ""
    else:
        assert quoted.startswith(quoted_start)


def test_text_and_html_parts_inline_images_and_attachments_are_read():
    raw = customer_email(
        body=GMAIL_REPLY,
        html='<p>Yes, <b>Tuesday</b>.<img src="cid:logo@mail.test"></p>',
        inline_images=[("logo@mail.test", "image/png", b"\x89PNG-logo")],
        attachments=[
            ("booking.pdf", "application/pdf", b"%PDF-1.4 booking"),
            ("../../etc/passwd", "text/plain", b"not a path"),
        ],
    )
    parsed = email_parse(raw)
    assert parsed.text == "Yes, Tuesday works for me.\n\nThanks!"
    assert parsed.quoted.startswith("On Mon, 1 Dec 2026")
    assert "<b>Tuesday</b>" in parsed.html
    files = {(a.filename, a.content_type, a.inline, a.content_id) for a in parsed.attachments}
    assert files == {
        ("booking.pdf", "application/pdf", False, ""),
        ("passwd", "text/plain", False, ""),
        ("attachment.png", "image/png", True, "logo@mail.test"),
    }
    assert {a.filename: a.data for a in parsed.attachments}["booking.pdf"] == b"%PDF-1.4 booking"


def test_an_html_only_email_gets_its_text_from_the_html():
    html = "<div>Hello<br>Line two</div><p>Para &amp; more</p><script>alert(1)</script>"
    assert html_to_text(html) == "Hello\nLine two\nPara & more"


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"Return-Path": "<>"},
    ],
)
def test_auto_replies_are_recognized(headers):
    assert email_parse(customer_email(headers=headers)).auto is True


@pytest.mark.parametrize("headers", [{"Auto-Submitted": "no"}, {"Precedence": "first-class"}])
def test_a_person_writing_is_not_an_auto_reply(headers):
    assert email_parse(customer_email(headers=headers)).auto is False


def test_a_delivery_status_notification_is_a_bounce_with_its_reason_and_original():
    parsed = email_parse(bounce_of("cc.7.abc@example.com"))
    assert parsed.auto is True
    bounce = parsed.bounce
    assert bounce.failed
    assert (bounce.action, bounce.status, bounce.recipient) == (
        "failed",
        "5.1.1",
        "maria@example.com",
    )
    assert bounce.diagnostic == "550 5.1.1 <maria@example.com>: Recipient address rejected"
    assert bounce.original_ids == ["cc.7.abc@example.com"]
    assert parsed.attachments == []


def test_a_delay_notification_is_not_a_failure():
    parsed = email_parse(bounce_of("cc.7.abc@example.com", action="delayed", status="4.4.1"))
    assert parsed.bounce is not None and not parsed.bounce.failed


def test_subjects_carry_the_case_number_once():
    conversation = Conversation(pk=42)
    assert subject_with_token("My booking", conversation) == "My booking [C-1042]"
    assert subject_with_token("Re: My booking [C-1042]", conversation) == (
        "Re: My booking [C-1042]"
    )
    assert reply_subject("My booking") == "Re: My booking"
    assert reply_subject("RE: My booking") == "RE: My booking"
    assert reply_subject("AW: Buchung") == "AW: Buchung"
    assert subject_conversation_ids("RE: Re: booking [C-1042] and [c-1043]") == [42, 43]
    assert subject_conversation_ids("[C-999] is not one of ours") == []
