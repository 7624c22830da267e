"""Channel-side writers: turn a provider's inbound into the channel-agnostic inbound record."""

from dataclasses import dataclass, field

from contactcenter.exceptions import NotFound
from contacts.models import Identity
from contacts.normalize import normalize_phone
from conversations.models import Channel
from conversations.services import InboundRecord, InboundResult, inbound_receive

from .models import EntryPoint
from .sms.keywords import sms_keyword_apply, web_media


def entry_point_for(*, channel: str, address: str) -> EntryPoint:
    entry_point = (
        EntryPoint.objects.select_related("service")
        .filter(channel=channel, address=address, active=True)
        .first()
    )
    if entry_point is None:
        raise NotFound(f"No active {channel} entry point for {address}.", field="To")
    return entry_point


def entry_point_addresses(channel: str, service_id: int) -> list[str]:
    """Addresses a service can send ``channel`` from: its own entry points first, then others."""
    rows = EntryPoint.objects.filter(channel=channel, active=True).values_list(
        "address", "service_id"
    )
    return [address for address, owner in sorted(rows, key=lambda row: row[1] != service_id)]


@dataclass
class InboundSms:
    message_sid: str
    from_number: str
    to_number: str
    body: str
    media: list[dict] = field(default_factory=list)


def sms_receive(*, sms: InboundSms) -> InboundResult:
    """Store an inbound SMS/MMS (idempotent on the provider's MessageSid), acting on the
    opt-out keywords."""
    from_number = normalize_phone(sms.from_number, field="From")
    to_number = normalize_phone(sms.to_number, field="To")
    entry_point = entry_point_for(channel=Channel.SMS, address=to_number)
    # STOP/START/HELP: the message is stored like any other, the flag and a system line come
    # with it in the same transaction.
    return inbound_receive(
        record=InboundRecord(
            channel=Channel.SMS,
            service=entry_point.service,
            identities=[(Identity.Kind.PHONE, from_number)],
            provider_id=sms.message_sid,
            body=sms.body,
            customer_address=from_number,
            service_address=to_number,
            attachments=web_media(sms.media),
        ),
        on_stored=lambda message: sms_keyword_apply(message=message),
    )
