"""Inbound email parsed with the standard library (``email`` with ``policy=default``).

:func:`email_parse` turns raw RFC 5322 bytes (a webhook's body, an IMAP fetch) into a
:class:`ParsedEmail`: addresses, threading headers, the text the sender wrote apart from the
history they quoted, the HTML part (still raw: ``sanitize`` cleans it), attachments, and the loop
guards' verdict (an auto-reply; a delivery status notification and what it says failed).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3

MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
PRECEDENCE_AUTO = {"bulk", "junk", "list", "auto_reply"}
AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
FORWARDED_TYPES = ("message/rfc822", "text/rfc822-headers", "message/global")
DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


class NotAnEmail(ValueError):
    """The bytes are not an email we can read (no headers, no sender)."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Bounce:
    """What a delivery status notification (RFC 3464) says about the message it returns."""

    action: str
    status: str
    diagnostic: str
    recipient: str
    original_ids: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.action == "failed" or (not self.action and self.status.startswith("5"))


@dataclass
class ParsedEmail:
    message_id: str
    provider_id: str
    in_reply_to: str
    references: list[str]
    subject: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    reply_to: str
    envelope_recipients: list[str]
    date: datetime | None
    text: str
    quoted: str
    html: str
    attachments: list[Attachment]
    auto: bool
    bounce: Bounce | None
    headers: dict[str, str]

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this email answers, the most recent first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [ref for ref in reversed(self.references) if ref not in ids]
        return ids

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys([*self.envelope_recipients, *self.to, *self.cc]))


def normalize_message_id(value: str | None) -> str:
    """``<abc@example.com>`` (or without brackets) -> ``abc@example.com``; "" when absent."""
    text = str(value or "").strip()
    match = MESSAGE_ID.search(text)
    if match:
        return match.group(1)[:255]
    text = text.strip("<> \t\r\n")
    return text[:255] if text and " " not in text else ""


def message_ids(value: str | None) -> list[str]:
    return list(dict.fromkeys(match[:255] for match in MESSAGE_ID.findall(str(value or ""))))


def email_parse(raw: bytes) -> ParsedEmail:
    if not raw or not raw.strip():
        raise NotAnEmail("empty")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    from_name, from_address = _address(message, "From")
    if not from_address:
        from_name, from_address = _address(message, "Sender")
    if not from_address:
        raise NotAnEmail("no sender (From)")
    message_id = normalize_message_id(_header(message, "Message-ID"))
    text_part = _body_part(message, "plain")
    html_part = _body_part(message, "html")
    html = _text_of(html_part) if html_part is not None else ""
    full_text = _text_of(text_part) if text_part is not None else html_to_text(html)
    text, quoted = split_quoted(full_text)
    bounce = _bounce(message)
    return ParsedEmail(
        message_id=message_id,
        provider_id=message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
        in_reply_to=normalize_message_id(_header(message, "In-Reply-To")),
        references=message_ids(_header(message, "References")),
        subject=" ".join(_header(message, "Subject").split())[:500],
        from_address=from_address,
        from_name=from_name,
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        reply_to=_address(message, "Reply-To")[1],
        envelope_recipients=[
            *_addresses(message, "Delivered-To"),
            *_addresses(message, "X-Original-To"),
            *_addresses(message, "X-Envelope-To"),
        ],
        date=_date(_header(message, "Date")),
        text=text,
        quoted=quoted,
        html=html,
        attachments=list(_attachments(message, skip={id(text_part), id(html_part)})),
        auto=bounce is not None or is_automatic(message),
        bounce=bounce,
        headers={
            name: _header(message, name)[:300]
            for name in ("Date", "Auto-Submitted", "Precedence", "Return-Path", "X-Mailer")
            if message.get(name) is not None
        },
    )


# --- Headers ----------------------------------------------------------------------------------


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header the policy cannot parse
        value = message.get_all(name, failobj=[""])[0] if hasattr(message, "get_all") else ""
    return str(value or "")


def _address(message: Message, name: str) -> tuple[str, str]:
    value = _header(message, name)
    if not value:
        return "", ""
    addresses = _addresses_with_names(value)
    return addresses[0] if addresses else ("", "")


def _addresses(message: Message, name: str) -> list[str]:
    values = []
    try:
        values = [str(value) for value in message.get_all(name) or []]
    except (ValueError, IndexError, TypeError):
        values = [_header(message, name)]
    return list(
        dict.fromkeys(
            address for value in values for _, address in _addresses_with_names(value) if address
        )
    )


def _addresses_with_names(value: str) -> list[tuple[str, str]]:
    found = []
    for name, address in getaddresses([value]):
        address = address.strip().lower()
        if "@" in address and " " not in address:
            found.append((" ".join(name.split())[:200], address[:320]))
    return found


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def is_automatic(message: Message) -> bool:
    """Auto-replies, out-of-office notices, list and bulk mail: recorded, never answered, never
    reopening anything (RFC 3834 ``Auto-Submitted``, the common vendor headers, the null sender)."""
    auto_submitted = _header(message, "Auto-Submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    if any(message.get(name) is not None for name in AUTO_HEADERS):
        return True
    if _header(message, "Precedence").strip().lower() in PRECEDENCE_AUTO:
        return True
    return_path = message.get("Return-Path")
    return return_path is not None and parseaddr(str(return_path))[1].strip("<> ") == ""


# --- Bodies -----------------------------------------------------------------------------------


def _parts(message: Message):
    """Every leaf part, not descending into attached emails (a forwarded message is one file)."""
    if message.is_multipart() and message.get_content_maintype() != "message":
        for part in message.get_payload():
            yield from _parts(part)
    else:
        yield message


def _body_part(message: EmailMessage, subtype: str) -> Message | None:
    try:
        part = message.get_body(preferencelist=(subtype,))
    except (AttributeError, KeyError):
        part = None
    if part is not None:
        return part
    if message.get_content_type() == "multipart/report":
        for part in _parts(message):
            if part.get_content_type() == f"text/{subtype}":
                return part
    return None


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, KeyError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    return str(content).replace("\r\n", "\n").replace("\r", "\n")


_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|blockquote|table)>")


def html_to_text(html: str) -> str:
    """The text of an HTML email (when it has no text part): tags dropped, blocks as lines."""
    if not html:
        return ""
    marked = _BLOCK_END.sub("\n", html)
    text = html_lib.unescape(nh3.clean(marked, tags=set()))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_ATTRIBUTION = re.compile(
    r"^\s*(On\s.+\swrote:|El\s.+\sescribi[oó]:|Le\s.+\sa\s[ée]crit\s?:|Am\s.+\sschrieb\s.+:)\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_END = re.compile(r"(wrote|escribi[oó]|[ée]crit|schrieb.*):\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Mensaje original|Message d'origine|Ursprüngliche Nachricht)"
    r"\s*-{2,}|_{20,})\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FIELD = re.compile(r"^\s*(From|De|Von|Sent|Enviado|Date|Fecha|To|Para|Subject|Asunto):")


def split_quoted(text: str) -> tuple[str, str]:
    """(what the sender wrote, the history they quoted) of a plain-text email. The history
    starts at an attribution line ("On ... wrote:"), an "Original Message" separator, an Outlook
    header block (From:/Sent:/To:), or a trailing block of "> " lines."""
    lines = text.strip("\n").split("\n")
    cut = None
    for index, line in enumerate(lines):
        if _ATTRIBUTION.match(line) or _SEPARATORS.match(line):
            cut = index
        elif (
            _ATTRIBUTION_END.search(line)
            and index > 0
            and re.match(r"^\s*(On|El|Le|Am)\s", lines[index - 1])
        ):
            cut = index - 1
        elif (_OUTLOOK_FIELD.match(line) and _outlook_block(lines, index)) or (
            line.startswith(">")
            and all(not rest.strip() or rest.startswith(">") for rest in lines[index:])
        ):
            cut = index
        if cut is not None:
            break
    if cut is None or (cut == 0 and not lines[0].startswith(">")):
        return text.strip(), ""
    return "\n".join(lines[:cut]).rstrip(), "\n".join(lines[cut:]).strip()


def _outlook_block(lines: list[str], index: int) -> bool:
    """A From: line followed by at least two more header-like lines (Sent:, To:, Subject:)."""
    following = lines[index : index + 5]
    return sum(1 for line in following if _OUTLOOK_FIELD.match(line)) >= 3 and re.match(
        r"^\s*(From|De|Von):", lines[index]
    )


# --- Attachments --------------------------------------------------------------------------------


def _attachments(message: Message, *, skip: set[int]):
    if message.get_content_type() == "multipart/report":
        return  # a bounce's parts are what it reports, not files the customer sent
    for part in _parts(message):
        if id(part) in skip or part.get_content_type() in DELIVERY_STATUS_TYPES:
            continue
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        content_id = normalize_message_id(_header(part, "Content-ID"))
        if (
            content_type in ("text/plain", "text/html")
            and not filename
            and disposition != ("attachment")
        ):
            continue  # an extra text part of the body (e.g. a signature block)
        data = _payload_bytes(part)
        if data is None:
            continue
        yield Attachment(
            filename=filename or _default_filename(content_type),
            content_type=content_type[:120],
            data=data,
            content_id=content_id,
            inline=disposition == "inline" or (bool(content_id) and disposition != "attachment"),
        )


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except (ValueError, TypeError, LookupError):
        name = ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable()).strip()[:255]


def _default_filename(content_type: str) -> str:
    if content_type in FORWARDED_TYPES:
        return "message.eml"
    subtype = content_type.split("/", 1)[-1].split("+", 1)[0]
    return f"attachment.{subtype[:10] or 'bin'}"


def _payload_bytes(part: Message) -> bytes | None:
    if part.get_content_type() in FORWARDED_TYPES:
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            return payload[0].as_bytes(policy=policy.SMTP)
        if isinstance(payload, str):
            return payload.encode("utf-8", errors="replace")
        return None
    try:
        return part.get_payload(decode=True)
    except (ValueError, TypeError):
        return None


# --- Bounces (RFC 3464 delivery status notifications) --------------------------------------------


def _bounce(message: Message) -> Bounce | None:
    if message.get_content_type() != "multipart/report":
        return None
    report_type = str(message.get_param("report-type") or "").lower()
    if report_type and report_type != "delivery-status":
        return None
    fields: list[dict[str, str]] = []
    original_ids: list[str] = []
    for part in _parts(message):
        content_type = part.get_content_type()
        if content_type in DELIVERY_STATUS_TYPES:
            fields += _status_blocks(part)
        elif content_type in FORWARDED_TYPES:
            original_ids += _original_ids(part)
    recipient = next((block for block in fields if "action" in block or "status" in block), {})
    for block in fields:
        if block.get("action", "").lower() == "failed":
            recipient = block
            break
    for name in ("In-Reply-To", "References"):
        original_ids += message_ids(_header(message, name))
    return Bounce(
        action=recipient.get("action", "").lower().split()[0] if recipient.get("action") else "",
        status=recipient.get("status", "").split(" ")[0][:40],
        diagnostic=_diagnostic(recipient.get("diagnostic-code", "")),
        recipient=_typed_address(recipient.get("final-recipient", ""))
        or _typed_address(recipient.get("original-recipient", "")),
        original_ids=list(dict.fromkeys(original_ids)),
    )


def _status_blocks(part: Message) -> list[dict[str, str]]:
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            blocks.append({key.lower(): str(value) for key, value in block.items()})
        return blocks
    text = payload if isinstance(payload, str) else ""
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        if chunk.strip():
            parsed = HeaderParser().parsestr(chunk.strip() + "\n")
            blocks.append({key.lower(): str(value) for key, value in parsed.items()})
    return blocks


def _original_ids(part: Message) -> list[str]:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return [normalize_message_id(_header(payload[0], "Message-ID"))]
    if isinstance(payload, str):
        headers = HeaderParser().parsestr(payload)
        return [normalize_message_id(str(headers.get("Message-ID") or ""))]
    return []


def _typed_address(value: str) -> str:
    """``rfc822; someone@example.com`` -> ``someone@example.com``."""
    address = value.split(";", 1)[-1].strip().strip("<>").lower()
    return address if "@" in address else ""


def _diagnostic(value: str) -> str:
    """``smtp; 550 5.1.1 <x@y>: User unknown`` -> the server's reply."""
    text = " ".join(value.split())
    if ";" in text.split(" ", 1)[0]:
        text = text.split(";", 1)[1].strip()
    return text[:500]
