"""The outbound adapter for email: Django's SMTP email backend with the entry point's server
(or the server's default ``EMAIL_HOST``), else the local outbox page.

It plugs into the outbox rules of ``conversations.services.outbound``: it is handed a claimed
message and returns the provider id (our own Message-ID), or raises ``SendError``: transient
for 4xx replies, timeouts and unreachable servers (retried with backoff by the deliver task),
permanent for 5xx replies (the message fails with the server's reply, shown to the agent).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend
from django.db import IntegrityError, transaction

from conversations.models import Channel, Message, MessageStatus
from conversations.ports import SendError, SendResult

from ..models import EmailAttachment, EmailDetails, EmailKind, EmailMailbox, LocalOutboxItem
from .formatting import text_to_html
from .sanitize import sanitize_email_html
from .services import outbound_email_prepare

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {
    EmailMailbox.Security.SSL: 465,
    EmailMailbox.Security.STARTTLS: 587,
    EmailMailbox.Security.NONE: 25,
}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str
    password: str
    use_tls: bool
    use_ssl: bool

    def __repr__(self) -> str:  # never the password (it may end up in a log line)
        return f"SmtpServer({self.host}:{self.port})"


def smtp_server_for(service_address: str) -> SmtpServer | None:
    """The SMTP server of the mailbox ``service_address`` is, else the default one, else None
    (the local outbox)."""
    mailbox = (
        EmailMailbox.objects.filter(
            entry_point__channel=Channel.EMAIL, entry_point__address=service_address
        )
        .exclude(smtp_host="")
        .first()
    )
    if mailbox is not None:
        security = mailbox.smtp_security
        return SmtpServer(
            host=mailbox.smtp_host,
            port=mailbox.smtp_port or DEFAULT_PORTS[security],
            username=mailbox.smtp_username,
            password=mailbox.smtp_password,
            use_tls=security == EmailMailbox.Security.STARTTLS,
            use_ssl=security == EmailMailbox.Security.SSL,
        )
    if settings.EMAIL_HOST:
        return SmtpServer(
            host=settings.EMAIL_HOST,
            port=settings.EMAIL_PORT,
            username=settings.EMAIL_HOST_USER,
            password=settings.EMAIL_HOST_PASSWORD,
            use_tls=settings.EMAIL_USE_TLS and not settings.EMAIL_USE_SSL,
            use_ssl=settings.EMAIL_USE_SSL,
        )
    return None


def full_text(message: Message, details: EmailDetails) -> str:
    """The text part: what the agent wrote, the signature, the quoted history."""
    parts = [message.body]
    if details.signature:
        parts.append(f"-- \n{details.signature}")
    if details.quoted_text:
        parts.append(details.quoted_text)
    return "\n\n".join(parts)


def html_version(message: Message, details: EmailDetails) -> str:
    html = text_to_html(message.body)
    if details.signature:
        html += '\n<div class="signature">' + text_to_html(details.signature) + "</div>"
    if details.quoted_text:
        html += "\n<blockquote>" + text_to_html(details.quoted_text) + "</blockquote>"
    return sanitize_email_html(html)


def build_email(message: Message, details: EmailDetails) -> EmailMultiAlternatives:
    headers = {"Message-ID": f"<{details.header_id}>"}
    if details.in_reply_to:
        headers["In-Reply-To"] = f"<{details.in_reply_to}>"
    if details.references:
        headers["References"] = " ".join(f"<{ref}>" for ref in details.references.split())
    if details.kind == EmailKind.AUTOMATIC:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    email = EmailMultiAlternatives(
        subject=details.subject,
        body=full_text(message, details),
        from_email=formataddr((details.from_name, details.from_address)),
        to=details.to,
        cc=details.cc,
        reply_to=[details.reply_to] if details.reply_to else None,
        headers=headers,
    )
    email.attach_alternative(html_version(message, details), "text/html")
    for attachment in EmailAttachment.objects.filter(message=message):
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    return email


class EmailSender:
    """One adapter for every email: the transport is chosen per message (its entry point)."""

    def send(self, message: Message) -> SendResult:
        details = outbound_email_prepare(message)
        if not details.to:
            raise SendError("The email has no recipient.", transient=False, code="no_recipient")
        server = smtp_server_for(message.interaction.service_address)
        if server is None:
            return self._to_local_outbox(message, details)
        email = build_email(message, details)
        backend = EmailBackend(
            host=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.use_tls,
            use_ssl=server.use_ssl,
            timeout=settings.EMAIL_TIMEOUT,
            fail_silently=False,
        )
        try:
            backend.send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            reply = "; ".join(
                f"{address}: {code} {_text(text)}"
                for address, (code, text) in exc.recipients.items()
            )
            transient = bool(codes) and all(400 <= code < 500 for code in codes)
            raise SendError(
                reply, transient=transient, code=str(codes[0] if codes else "")
            ) from exc
        except smtplib.SMTPResponseException as exc:
            transient = not 500 <= exc.smtp_code < 600
            raise SendError(
                f"{exc.smtp_code} {_text(exc.smtp_error)}",
                transient=transient,
                code=str(exc.smtp_code),
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise SendError(
                f"{server.host}: TLS certificate not trusted ({exc.verify_message})",
                transient=False,
                code="tls",
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timeouts, dropped connections
            raise SendError(
                f"{server.host}:{server.port} unreachable: {exc}", transient=True, code="network"
            ) from exc
        return SendResult(provider_id=details.header_id, status=MessageStatus.SENT)

    def _to_local_outbox(self, message: Message, details: EmailDetails) -> SendResult:
        try:
            with transaction.atomic():
                LocalOutboxItem.objects.create(
                    message_id=message.pk,
                    channel=Channel.EMAIL,
                    from_address=details.from_address,
                    to_address=", ".join(details.to),
                    cc=", ".join(details.cc)[:2000],
                    subject=details.subject,
                    email_message_id=details.header_id,
                    body=full_text(message, details),
                )
        except IntegrityError:
            pass  # written by an earlier attempt
        return SendResult(provider_id=details.header_id, status=MessageStatus.SENT)


def _text(value: bytes | str) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return " ".join(str(value).split())
