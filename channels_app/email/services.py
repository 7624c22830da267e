"""Writers of the email channel.

- :func:`email_receive`: one inbound email, from the webhook or an IMAP poll alike: loop guards,
  threading hints, the channel-agnostic ``inbound_receive`` (idempotent on the Message-ID), then
  the email's details and files in the same transaction. A bounce marks the email it returns
  failed; an auto-reply is recorded without reopening anything.
- :func:`email_send`: an agent's email from the composer (subject, CC, attachments, another
  address), queued in the outbox by ``message_send`` with its details in the same transaction.
- :func:`email_send_automatic`: what the system sends itself (acknowledgements, transcripts).
- :func:`outbound_email_prepare`: the details of an outbound email as the SMTP adapter sends it
  (written when missing, e.g. a message queued through the API or "Send again").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from contactcenter.exceptions import DomainError, NotFound, ValidationError
from contacts.models import Identity
from contacts.normalize import normalize_email
from contacts.services import identity_add
from conversations.models import Channel, Conversation, Interaction, Message, MessageStatus
from conversations.services import (
    InboundRecord,
    inbound_receive,
    message_send,
    message_send_automatic,
    message_status_update,
    system_line_add,
)

from ..conversation_ops import AgentLine
from ..models import (
    EmailAttachment,
    EmailDetails,
    EmailKind,
    EmailMailbox,
    EmailReceipt,
    EmailSignature,
    EntryPoint,
)
from . import threads
from .formatting import quote_text
from .parsing import Attachment, NotAnEmail, ParsedEmail, email_parse
from .sanitize import sanitize_email_html

logger = logging.getLogger(__name__)

MAX_CC = 20
SUBJECT_MAX = 500


class EmailTooLarge(DomainError):
    status_code = 413
    code = "too_large"


# --- Entry points -----------------------------------------------------------------------------


def email_entry_point_for(*, recipients: list[str]) -> EntryPoint:
    """The active email entry point among ``recipients`` (envelope first, then To and Cc)."""
    addresses = [address.lower() for address in recipients if address]
    found = {
        entry_point.address.lower(): entry_point
        for entry_point in EntryPoint.objects.select_related("service").filter(
            channel=Channel.EMAIL, active=True, address__in=addresses
        )
    }
    for address in addresses:
        if address in found:
            return found[address]
    raise NotFound(
        gettext("No active email entry point for %(addresses)s.")
        % {"addresses": ", ".join(addresses) or gettext("Nothing")},
        field="to",
    )


def mailbox_of(entry_point: EntryPoint) -> EmailMailbox | None:
    try:
        return entry_point.mailbox
    except EmailMailbox.DoesNotExist:
        return None


def own_addresses() -> set[str]:
    return {
        address.lower()
        for address in EntryPoint.objects.filter(channel=Channel.EMAIL).values_list(
            "address", flat=True
        )
    }


# --- Inbound ----------------------------------------------------------------------------------


@dataclass
class EmailOutcome:
    """What became of an inbound email. ``kind``: message, auto_reply, bounce, delayed,
    ignored; ``duplicate`` when it had been handled before (stored once)."""

    kind: str
    duplicate: bool = False
    message: Message | None = None
    detail: str = ""


def email_receive(
    *,
    raw: bytes,
    entry_point: EntryPoint | None = None,
    recipients: list[str] | None = None,
) -> EmailOutcome:
    """Process one raw inbound email (RFC 5322 bytes): the same for the webhook and IMAP."""
    if len(raw) > settings.EMAIL_MAX_MESSAGE_BYTES:
        raise EmailTooLarge(
            gettext("The email is larger than %(limit)s bytes.")
            % {"limit": settings.EMAIL_MAX_MESSAGE_BYTES},
            field="email",
        )
    try:
        parsed = email_parse(raw)
    except NotAnEmail as exc:
        raise ValidationError(
            gettext("This is not an email we can read (%(reason)s).") % {"reason": exc},
            field="email",
        ) from exc
    if entry_point is None:
        entry_point = email_entry_point_for(recipients=[*(recipients or []), *parsed.recipients])
    if parsed.bounce is not None:
        return _bounce_receive(parsed, entry_point)
    if parsed.from_address in own_addresses():
        return _ignore(parsed, entry_point, "sent from one of our own mailboxes")
    quiet = parsed.auto
    first_name, _, last_name = parsed.from_name.partition(" ")
    with transaction.atomic():
        result = inbound_receive(
            record=InboundRecord(
                channel=Channel.EMAIL,
                service=entry_point.service,
                identities=[(Identity.Kind.EMAIL, parsed.from_address)],
                provider_id=parsed.provider_id,
                body=_body_of(parsed),
                customer_address=normalize_email(parsed.from_address, field="from"),
                service_address=entry_point.address,
                first_name=first_name[:120],
                last_name=last_name[:120],
                conversation_ids=threads.thread_conversation_ids(parsed),
                quiet=quiet,
            )
        )
        if result.ignored:
            return _ignore(parsed, entry_point, "automatic reply to nothing we know")
        message = result.message
        kind = "auto_reply" if quiet else "message"
        if result.duplicate:
            return EmailOutcome(kind=kind, duplicate=True, message=message)
        _details_store(message, parsed, kind=EmailKind.AUTO_REPLY if quiet else EmailKind.REGULAR)
        mailbox = mailbox_of(entry_point)
        if (
            result.conversation_created
            and not quiet
            and mailbox is not None
            and mailbox.auto_acknowledge
        ):
            email_acknowledge(message=message, language=mailbox.language)
    return EmailOutcome(kind=kind, message=message)


def _body_of(parsed: ParsedEmail) -> str:
    limit = 100_000
    return parsed.text[:limit]


def _details_store(message: Message, parsed: ParsedEmail, *, kind: str) -> EmailDetails:
    details = EmailDetails.objects.create(
        message=message,
        kind=kind,
        header_id=parsed.provider_id[:255],
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references[-threads.MAX_REFERENCES :]),
        subject=parsed.subject[:SUBJECT_MAX],
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        to=parsed.to[:MAX_CC],
        cc=parsed.cc[:MAX_CC],
        reply_to=parsed.reply_to,
        html=sanitize_email_html(parsed.html),
        quoted_text=parsed.quoted[:100_000],
        date=parsed.date if isinstance(parsed.date, datetime) and parsed.date.tzinfo else None,
    )
    stored, skipped = _attachments_store(message, parsed.attachments)
    if skipped:
        details.skipped_attachments = skipped
        details.save(update_fields=["skipped_attachments"])
    if stored:
        _attachments_list(message, stored)
    return details


def _attachments_store(
    message: Message, attachments: list[Attachment] | list[UploadedFile]
) -> tuple[list[EmailAttachment], list[dict]]:
    """Store the files within the size limits; name the others (what they were, why not)."""
    stored: list[EmailAttachment] = []
    skipped: list[dict] = []
    total = 0
    for item in attachments:
        if isinstance(item, Attachment):
            name, content_type, size = item.filename, item.content_type, item.size
            content_id, inline = item.content_id, item.inline
        else:
            name = (item.name or "attachment").rsplit("/", 1)[-1][:255]
            content_type = (item.content_type or "application/octet-stream")[:120]
            size, content_id, inline = item.size, "", False
        if size > settings.EMAIL_ATTACHMENT_MAX_BYTES:
            skipped.append({"filename": name, "size": size, "reason": "too_large"})
            continue
        if total + size > settings.EMAIL_ATTACHMENTS_MAX_BYTES:
            skipped.append({"filename": name, "size": size, "reason": "total_too_large"})
            continue
        total += size
        attachment = EmailAttachment(
            message=message,
            filename=name,
            content_type=content_type,
            size=size,
            content_id=content_id,
            inline=inline,
        )
        data = item.data if isinstance(item, Attachment) else item.read()
        attachment.file.save(name, ContentFile(data), save=False)
        attachment.save()
        stored.append(attachment)
    return stored, skipped


def _attachments_list(message: Message, attachments: list[EmailAttachment]) -> None:
    """The message's generic attachment list (shown in every timeline) points at the
    permission-checked download view."""
    message.attachments = [
        {
            "url": reverse("email-attachment", args=[attachment.pk]),
            "content_type": attachment.content_type,
            "name": attachment.filename,
            "size": attachment.size,
        }
        for attachment in attachments
        if not attachment.inline
    ]
    Message.objects.filter(pk=message.pk).update(attachments=message.attachments)


def _receipt(parsed: ParsedEmail, entry_point: EntryPoint, kind: str, **fields) -> bool:
    """Remember an email handled without becoming a message; False if it was handled before."""
    try:
        with transaction.atomic():
            EmailReceipt.objects.create(
                message_id=parsed.provider_id[:255], kind=kind, entry_point=entry_point, **fields
            )
    except IntegrityError:
        return False
    return True


def _ignore(parsed: ParsedEmail, entry_point: EntryPoint, why: str) -> EmailOutcome:
    fresh = _receipt(parsed, entry_point, EmailReceipt.Kind.IGNORED, detail=why)
    if fresh:
        logger.info("email %s ignored: %s", parsed.provider_id, why)
    return EmailOutcome(kind="ignored", duplicate=not fresh, detail=why)


def _bounce_receive(parsed: ParsedEmail, entry_point: EntryPoint) -> EmailOutcome:
    """A delivery status notification: the email it returns is marked failed with the reason,
    and the conversation gets a line saying so. Nothing is reopened or sent."""
    bounce = parsed.bounce
    failed = bounce.failed
    kind = EmailReceipt.Kind.BOUNCE if failed else EmailReceipt.Kind.DELAYED
    reason = " ".join(part for part in (bounce.status, bounce.diagnostic) if part)[:500]
    with transaction.atomic():
        original = (
            Message.objects.filter(
                channel=Channel.EMAIL,
                direction=Message.Direction.OUTBOUND,
                email__header_id__in=bounce.original_ids,
            )
            .select_related("conversation", "interaction")
            .order_by("-id")
            .first()
            if bounce.original_ids
            else None
        )
        if not _receipt(parsed, entry_point, kind, original=original, detail=reason):
            return EmailOutcome(kind=kind, duplicate=True, message=original, detail=reason)
        if original is not None and failed and original.status != MessageStatus.FAILED:
            message_status_update(
                message_id=original.pk,
                status=MessageStatus.FAILED,
                error_code=(bounce.status or "bounce")[:40],
                error_message=bounce.diagnostic or gettext("The email bounced."),
            )
            system_line_add(
                conversation=original.conversation,
                interaction=original.interaction,
                text=AgentLine.EMAIL_BOUNCED,
                params={
                    "address": bounce.recipient or original.interaction.customer_address,
                    "reason": reason or "-",
                },
            )
        elif original is None:
            logger.info("bounce %s about no email of ours (%s)", parsed.provider_id, reason)
    return EmailOutcome(kind=kind, message=original, detail=reason)


# --- Outbound: agents ---------------------------------------------------------------------------


def _clean_addresses(raw: str, *, field: str) -> list[str]:
    addresses = []
    for part in (raw or "").replace(";", ",").split(","):
        if part.strip():
            addresses.append(normalize_email(part.strip(), field=field))
    if len(addresses) > MAX_CC:
        raise ValidationError(
            gettext("At most %(limit)s addresses.") % {"limit": MAX_CC}, field=field
        )
    return list(dict.fromkeys(addresses))


def email_send(
    *,
    conversation: Conversation,
    user: AbstractBaseUser,
    body: str,
    subject: str = "",
    to_address: str = "",
    new_address: str = "",
    cc: str = "",
    from_address: str = "",
    files: list[UploadedFile] | None = None,
    client_token: str = "",
) -> Message:
    """An agent's email in the conversation: a reply on its open email interaction to
    ``to_address``, or a new email leg to one of the contact's addresses, or to ``new_address``
    (added to the contact, refused when it is another contact's). Subject (default: the thread's,
    or the service's, with the case number), CC, attachments and the service's signature are
    written with the queued message, in one transaction; delivery runs after commit."""
    cc_list = _clean_addresses(cc, field="cc")
    files = list(files or [])
    subject = " ".join((subject or "").split())[:SUBJECT_MAX]
    if new_address:
        to_address = normalize_email(new_address, field="to")
    elif to_address:
        to_address = normalize_email(to_address, field="to")
    _check_files(files)
    with transaction.atomic():
        if new_address:
            identity_add(
                contact=conversation.contact,
                kind=Identity.Kind.EMAIL,
                value=to_address,
                user=user,
                field="to",
            )
        message = message_send(
            conversation=conversation,
            user=user,
            body=body,
            channel=Channel.EMAIL,
            to_address=to_address,
            from_address=from_address,
            client_token=client_token,
        )
        if EmailDetails.objects.filter(message=message).exists():
            return message  # the same click twice: sent once
        details = _outbound_details(message, subject=subject, cc=cc_list, user=user)
        stored, skipped = _attachments_store(message, files)
        if skipped:
            raise ValidationError(
                gettext("%(name)s is too large to send.") % {"name": skipped[0]["filename"]},
                field="attachments",
            )
        if stored:
            _attachments_list(message, stored)
        details.save()
    return message


def _check_files(files: list[UploadedFile]) -> None:
    total = 0
    for upload in files:
        total += upload.size
        if upload.size > settings.EMAIL_ATTACHMENT_MAX_BYTES:
            raise ValidationError(
                gettext("%(name)s is larger than %(limit)s MB.")
                % {"name": upload.name, "limit": settings.EMAIL_ATTACHMENT_MAX_BYTES // 2**20},
                field="attachments",
            )
    if total > settings.EMAIL_ATTACHMENTS_MAX_BYTES:
        raise ValidationError(
            gettext("The attachments are larger than %(limit)s MB together.")
            % {"limit": settings.EMAIL_ATTACHMENTS_MAX_BYTES // 2**20},
            field="attachments",
        )


def _thread_parent(interaction: Interaction) -> EmailDetails | None:
    """The email a new one on ``interaction`` answers: the latest email of its thread (of this
    interaction, else of the conversation to the same address)."""
    candidates = (
        EmailDetails.objects.select_related("message")
        .filter(message__conversation_id=interaction.conversation_id)
        .exclude(kind=EmailKind.AUTO_REPLY)  # never answer an out-of-office notice
        .exclude(  # nor an email of ours that never arrived ("Send again" answers its parent)
            message__direction=Message.Direction.OUTBOUND,
            message__status__in=[MessageStatus.FAILED, MessageStatus.UNDELIVERED],
        )
    )
    latest = candidates.filter(message__interaction=interaction).order_by("-message__id").first()
    if latest is not None:
        return latest
    return (
        candidates.filter(
            Q(from_address=interaction.customer_address)
            | Q(message__interaction__customer_address=interaction.customer_address)
        )
        .order_by("-message__id")
        .first()
    )


def _outbound_details(
    message: Message,
    *,
    subject: str = "",
    cc: list[str] | None = None,
    user: AbstractBaseUser | None = None,
    kind: str = EmailKind.REGULAR,
) -> EmailDetails:
    """The details of an outbound email, threaded on what it answers (unsaved)."""
    interaction = message.interaction
    conversation = message.conversation
    parent = _thread_parent(interaction)
    if not subject:
        subject = (
            threads.reply_subject(parent.subject)
            if parent is not None and parent.subject
            else conversation.service.name
        )
    quoted = ""
    if parent is not None and parent.header_id != "" and parent.message.body:
        when = parent.date or parent.message.created_at
        author = parent.from_name or parent.from_address or interaction.service_address
        attribution = gettext("On %(date)s, %(author)s wrote:") % {
            "date": timezone.localtime(when).strftime("%Y-%m-%d %H:%M"),
            "author": author,
        }
        quoted = f"{attribution}\n{quote_text(parent.message.body)}"
    return EmailDetails(
        message=message,
        kind=kind,
        header_id=threads.outbound_message_id(
            message_pk=message.pk, domain=interaction.service_address.rpartition("@")[2]
        ),
        in_reply_to=parent.header_id if parent is not None else "",
        references=" ".join(threads.references_after(parent)),
        subject=threads.subject_with_token(subject, conversation)[:SUBJECT_MAX],
        from_address=interaction.service_address,
        from_name=_sender_name(interaction),
        to=[interaction.customer_address],
        cc=cc or [],
        reply_to=interaction.service_address,
        quoted_text=quoted,
        signature=_signature(conversation, user),
    )


def _sender_name(interaction: Interaction) -> str:
    entry_point = (
        EntryPoint.objects.filter(channel=Channel.EMAIL, address=interaction.service_address)
        .select_related("mailbox", "service")
        .first()
    )
    mailbox = mailbox_of(entry_point) if entry_point else None
    if mailbox is not None and mailbox.from_name:
        return mailbox.from_name
    return interaction.conversation.service.name


def _signature(conversation: Conversation, user: AbstractBaseUser | None) -> str:
    if user is None:
        return ""
    signatures = EmailSignature.objects.filter(service_id=conversation.service_id).filter(
        Q(agent=user) | Q(agent__isnull=True)
    )
    chosen = sorted(signatures, key=lambda signature: signature.agent_id is None)
    if not chosen:
        return ""
    from conversations.services.guards import agent_name

    text = chosen[0].text
    for placeholder, value in (
        ("{{ agent.name }}", agent_name(user)),
        ("{{ service.name }}", conversation.service.name),
    ):
        text = text.replace(placeholder, value)
    return text.strip()


def outbound_email_prepare(message: Message) -> EmailDetails:
    """The details the adapter sends an outbound email with: those written when it was queued,
    or (a message queued without them: the API, "Send again") derived from its thread now and
    stored, so a retry sends the same email."""
    details = EmailDetails.objects.filter(message=message).first()
    if details is not None:
        return details
    details = _outbound_details(message, user=message.sender)
    try:
        with transaction.atomic():
            details.save()
    except IntegrityError:
        details = EmailDetails.objects.get(message=message)
    return details


# --- Outbound: the system -----------------------------------------------------------------------


def service_email_address(service_id: int) -> str:
    """The address a service's automatic emails come from: its first email entry point."""
    return (
        EntryPoint.objects.filter(channel=Channel.EMAIL, service_id=service_id, active=True)
        .order_by("id")
        .values_list("address", flat=True)
        .first()
        or settings.DEFAULT_FROM_EMAIL
    )


def email_send_automatic(
    *,
    conversation: Conversation,
    to_address: str,
    subject: str,
    body: str,
    interaction: Interaction | None = None,
    from_address: str = "",
) -> Message:
    """Queue an email the system writes itself (marked Auto-Submitted, so auto-responders stay
    quiet), threaded like any other. Runs in the caller's transaction."""
    with transaction.atomic():
        message = message_send_automatic(
            conversation=conversation,
            channel=Channel.EMAIL,
            body=body,
            to_address=to_address,
            from_address=from_address or service_email_address(conversation.service_id),
            interaction=interaction,
        )
        details = _outbound_details(message, subject=subject, kind=EmailKind.AUTOMATIC)
        details.save()
    return message


def _language(language: str) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    for candidate in ((language or "").lower(), (language or "").lower().split("-")[0]):
        if candidate in codes:
            return candidate
    return settings.LANGUAGE_CODE


def email_acknowledge(*, message: Message, language: str = "", name: str = "") -> Message:
    """Answer a customer's first message (an email, the chat's offline form) with an automatic
    acknowledgement carrying the case number, in ``language``."""
    conversation = message.conversation
    with translation.override(_language(language)):
        subject = gettext("We received your message")
        body = render_to_string(
            "channels_app/email/acknowledgement.txt",
            {"conversation": conversation, "message": message, "name": name},
        )
    return email_send_automatic(
        conversation=conversation,
        to_address=message.interaction.customer_address,
        subject=subject,
        body=body,
        interaction=message.interaction,
        from_address=message.interaction.service_address,
    )


def chat_transcript_email(*, request_id: int) -> Message | None:
    """Write the transcript of a chat to the email outbox, once, in the customer's language.
    Called when the chat has ended (or at once when it already had)."""
    from ..models import ChatTranscriptRequest

    with transaction.atomic():
        request = (
            ChatTranscriptRequest.objects.select_for_update(of=("self",))
            .select_related("session__interaction__conversation__service")
            .filter(pk=request_id, status=ChatTranscriptRequest.Status.PENDING)
            .first()
        )
        if request is None or request.session.interaction is None:
            return None
        session = request.session
        conversation = session.interaction.conversation
        lines = list(
            Message.objects.filter(
                interaction_id=session.interaction_id,
                kind=Message.Kind.TEXT,
                direction__in=[Message.Direction.INBOUND, Message.Direction.OUTBOUND],
            )
            .select_related("sender__agent_profile")
            .order_by("id")
        )
        with (
            translation.override(_language(session.language)),
            timezone.override(conversation.service.time_zone or "UTC"),
        ):
            subject = gettext("Your chat transcript")
            body = render_to_string(
                "channels_app/email/transcript.txt",
                {"conversation": conversation, "session": session, "lines": lines},
            )
        try:
            address = normalize_email(request.email, field="email")
        except ValidationError:
            request.status = ChatTranscriptRequest.Status.FAILED
            request.processed_at = timezone.now()
            request.save(update_fields=["status", "processed_at"])
            return None
        message = email_send_automatic(
            conversation=conversation, to_address=address, subject=subject, body=body
        )
        request.status = ChatTranscriptRequest.Status.QUEUED
        request.processed_at = timezone.now()
        request.message = message
        request.save(update_fields=["status", "processed_at", "message"])
    return message
