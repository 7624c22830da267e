"""The API channel's outbound adapter: an agent's reply, POSTed to the system's reply URL.

Called by the outbox's deliver task (``conversations.services.message_deliver``), which claims
the message first: a transient failure (timeout, 429, 5xx) leaves it queued and is retried with
backoff; a permanent one (another 4xx, no reply URL) fails it, shown to the agent. A send whose
outcome is unknown (a worker died mid-request) is sent again: receivers dedupe on the
``Idempotency-Key`` header (``message-<id>``)."""

from __future__ import annotations

from contactcenter.outbound_http import DeliveryError, signed_post
from conversations.models import Message, MessageStatus
from conversations.ports import SendError, SendResult
from conversations.services.guards import agent_name

from ..models import ApiChannelSettings

PROVIDER_ID_MAX = 120


def reply_body(message: Message) -> dict:
    interaction = message.interaction
    return {
        "type": "message",
        "message_id": message.pk,
        "conversation_id": message.conversation_id,
        "interaction_id": message.interaction_id,
        "contact_id": message.conversation.contact_id,
        "to": interaction.customer_address if interaction else "",
        "body": message.body,
        "agent": {"id": message.sender_id, "name": agent_name(message.sender)},
        "created_at": message.created_at.isoformat(),
    }


class ApiChannelSender:
    def send(self, message: Message) -> SendResult:
        slug = message.interaction.service_address if message.interaction else ""
        settings_row = (
            ApiChannelSettings.objects.select_related("entry_point")
            .filter(entry_point__channel="api", entry_point__address=slug)
            .first()
        )
        if settings_row is None or not settings_row.reply_url:
            raise SendError(
                f"The API channel '{slug}' has no reply URL.", transient=False, code="no_url"
            )
        try:
            result = signed_post(
                url=settings_row.reply_url,
                secret=settings_row.secret,
                payload=reply_body(message),
                headers={"Idempotency-Key": f"message-{message.pk}"},
            )
        except DeliveryError as exc:
            raise SendError(
                exc.message, transient=exc.transient, code=str(exc.status_code or "network")
            ) from exc
        their_id = ""
        if isinstance(result.data, dict) and result.data.get("id") is not None:
            their_id = str(result.data["id"])
        provider_id = f"{slug}:out:{message.pk}:{their_id}".rstrip(":")[:PROVIDER_ID_MAX]
        return SendResult(provider_id=provider_id, status=MessageStatus.SENT)
