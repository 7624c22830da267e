"""The demo's customer emails (the local outbox page): real MIME, as a mail client writes it."""

from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from django.utils import timezone

from .threads import reply_subject


def customer_email(
    *,
    from_address: str,
    from_name: str,
    to_address: str,
    subject: str,
    body: str,
    in_reply_to: str = "",
    references: str = "",
) -> bytes:
    message = EmailMessage()
    message["From"] = formataddr((from_name, from_address))
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=from_address.rpartition("@")[2] or "localhost")
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        chain = [ref for ref in references.split() if ref] + [in_reply_to]
        message["References"] = " ".join(f"<{ref}>" for ref in dict.fromkeys(chain))
    message.set_content(body)
    return message.as_bytes()


def reply_subject_for(subject: str) -> str:
    return reply_subject(subject)
