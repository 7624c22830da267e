"""Writers of the API channel: inbound customer messages, and delivery reports of replies."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext

from contactcenter.exceptions import NotFound, ValidationError
from contacts.normalize import normalize_identity
from conversations.models import Channel, Message, MessageStatus
from conversations.services import (
    InboundRecord,
    InboundResult,
    inbound_receive,
    message_status_update,
)

from ..models import EntryPoint

PERMISSION = "channels_app.post_api_inbound"
#: Delivery reports the external system may send about a reply.
REPORTED_STATUSES = (MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.FAILED)


@dataclass
class ApiInboundMessage:
    """One customer message as the external system posts it (already validated by the API)."""

    message_id: str
    identities: list[tuple[str, str]]
    body: str = ""
    address: str = ""
    first_name: str = ""
    last_name: str = ""
    attachments: list[dict] = field(default_factory=list)


def may_post(user: AbstractBaseUser) -> bool:
    return bool(user and user.is_active and user.has_perm(PERMISSION))


def api_entry_point_for(*, user: AbstractBaseUser, slug: str) -> EntryPoint:
    """The active API entry point, for users allowed to post into API channels (NotFound for the
    others, as for an entry point that does not exist)."""
    entry_point = (
        EntryPoint.objects.select_related("service")
        .filter(channel=Channel.API, address=slug, active=True)
        .first()
    )
    if entry_point is None or not may_post(user):
        raise NotFound(gettext("No active API channel '%(slug)s'.") % {"slug": slug}, field="slug")
    return entry_point


def provider_id_for(entry_point: EntryPoint, message_id: str) -> str:
    """Inbound ids are unique per channel: scoped by the entry point, two systems never clash."""
    return f"{entry_point.address}:{message_id}"


def api_inbound_receive(*, entry_point: EntryPoint, message: ApiInboundMessage) -> InboundResult:
    """Store one customer message (idempotent on the system's message id)."""
    if not message.identities:
        raise ValidationError(gettext("Give at least one identity."), field="identities")
    if not message.body.strip() and not message.attachments:
        raise ValidationError(gettext("The message is empty."), field="body")
    identities = [
        (kind, normalize_identity(kind, value, field=f"identities[{index}].value"))
        for index, (kind, value) in enumerate(message.identities)
    ]
    address = message.address or identities[0][1]
    return inbound_receive(
        record=InboundRecord(
            channel=Channel.API,
            service=entry_point.service,
            identities=identities,
            provider_id=provider_id_for(entry_point, message.message_id),
            body=message.body,
            customer_address=address,
            service_address=entry_point.address,
            attachments=message.attachments,
            first_name=message.first_name,
            last_name=message.last_name,
        )
    )


def api_reply_status_report(
    *, entry_point: EntryPoint, message_id: int, status: str, error_code: str = "", error: str = ""
) -> Message:
    """The external system reports what became of a reply (delivered, read, failed): status
    only moves forward."""
    if status not in REPORTED_STATUSES:
        raise ValidationError(gettext("Unknown status."), field="status")
    message = (
        Message.objects.filter(
            pk=message_id,
            channel=Channel.API,
            direction=Message.Direction.OUTBOUND,
            interaction__service_address=entry_point.address,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if message is None:
        raise NotFound(gettext("Message not found."), field="message_id")
    updated = message_status_update(
        message_id=message, status=status, error_code=error_code, error_message=error
    )
    if updated is None:
        raise NotFound(gettext("Message not found."), field="message_id")
    return updated
