"""Raw emails as customers' mail clients, auto-responders and mail servers write them."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone

SECRET = "email-webhook-secret-0123456789"


def customer_email(
    *,
    body: str = "Hello, I need to change my booking.",
    subject: str = "My booking",
    sender: str = "Maria Garcia <maria@example.com>",
    to: str = "support@example.com",
    cc: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: list[str] | None = None,
    html: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    inline_images: list[tuple[str, str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A customer's email. ``attachments``: (file name, content type, data); ``inline_images``:
    (content id, content type, data), referenced from ``html`` as ``cid:<content id>``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id if message_id is not None else make_msgid(domain="mail.test")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
        if inline_images:
            html_part = message.get_payload()[1]
            for content_id, content_type, data in inline_images:
                maintype, subtype = content_type.split("/")
                html_part.add_related(data, maintype, subtype, cid=f"<{content_id}>")
    for filename, content_type, data in attachments or []:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    if message_id == "":
        del message["Message-ID"]
    return message.as_bytes()


def bounce_of(
    original_message_id: str,
    *,
    recipient: str = "maria@example.com",
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <maria@example.com>: Recipient address rejected",
    action: str = "failed",
) -> bytes:
    """A delivery status notification (RFC 3464) returning the email ``original_message_id``."""
    boundary = "dsn-boundary-42"
    return (
        "Return-Path: <>\r\n"
        "From: Mail Delivery System <MAILER-DAEMON@mx.mail.test>\r\n"
        "To: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid(domain='mx.mail.test')}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system. Your message could not be delivered.\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.mail.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        "From: Support <support@example.com>\r\n"
        f"To: {recipient}\r\n"
        "Subject: Re: My booking\r\n"
        f"Message-ID: <{original_message_id}>\r\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()
