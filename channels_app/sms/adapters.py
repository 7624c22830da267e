"""Outbound SMS adapters: Twilio through the ``twilio`` client library, or a local outbox."""

import logging
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from conversations.models import Message, MessageStatus
from conversations.ports import OutboundSender, Reconciliation, SendError, SendResult

from ..models import LocalOutboxItem

logger = logging.getLogger(__name__)

TWILIO_API_ORIGIN = "https://api.twilio.com"
TRANSIENT_HTTP_STATUSES = {408, 429, 500, 502, 503, 504}
TWILIO_STATUS = {
    "accepted": MessageStatus.SENDING,
    "scheduled": MessageStatus.SENDING,
    "queued": MessageStatus.SENDING,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "read": MessageStatus.READ,
}


class BaseUrlHttpClient(TwilioHttpClient):
    """The stock Twilio HTTP client, sending to ``base_url`` instead of api.twilio.com."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: object, **kwargs: object):  # type: ignore[override]
        if url.startswith(TWILIO_API_ORIGIN):
            url = self.base_url + url[len(TWILIO_API_ORIGIN) :]
        return super().request(method, url, *args, **kwargs)


def status_callback_url(message: Message) -> str | None:
    if not settings.PUBLIC_BASE_URL:
        return None
    path = reverse("twilio-sms-status")
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}?{urlencode({'message': message.pk})}"


class TwilioSmsSender:
    def __init__(self, *, account_sid: str, auth_token: str, base_url: str = "") -> None:
        http_client = BaseUrlHttpClient(base_url) if base_url else TwilioHttpClient(timeout=10.0)
        self.client = Client(account_sid, auth_token, http_client=http_client)

    def send(self, message: Message) -> SendResult:
        interaction = message.interaction
        params = {"to": interaction.customer_address, "from_": interaction.service_address}
        callback = status_callback_url(message)
        if callback:
            params["status_callback"] = callback
        try:
            sent = self.client.messages.create(body=message.body, **params)
        except TwilioRestException as exc:
            transient = exc.status in TRANSIENT_HTTP_STATUSES
            raise SendError(
                exc.msg or str(exc), transient=transient, code=str(exc.code or exc.status)
            ) from exc
        except Exception as exc:  # connection refused, timeouts, DNS: worth a retry
            raise SendError(f"Twilio unreachable: {exc}", transient=True, code="network") from exc
        return SendResult(
            provider_id=sent.sid, status=TWILIO_STATUS.get(sent.status, MessageStatus.SENDING)
        )

    def reconcile(self, message: Message) -> Reconciliation:
        """Ask Twilio what became of ``message``: by its SID when we have it; otherwise (the send
        crashed before the SID was recorded) by looking for it among the newest messages from our
        number to theirs: same body, created after we claimed it, not already another row's."""
        try:
            if message.provider_id:
                return _reconciled(self.client.messages(message.provider_id).fetch())
            interaction = message.interaction
            recent = self.client.messages.list(
                to=interaction.customer_address, from_=interaction.service_address, limit=50
            )
        except TwilioRestException as exc:
            if exc.status == 404:
                return Reconciliation(found=False)
            raise SendError(exc.msg or str(exc), transient=True, code=str(exc.code)) from exc
        except Exception as exc:
            raise SendError(f"Twilio unreachable: {exc}", transient=True, code="network") from exc
        since = message.created_at - CLOCK_SLACK
        candidates = [
            item
            for item in recent
            if item.body == message.body
            and (item.date_created is None or item.date_created >= since)
        ]
        taken = set(
            Message.objects.filter(
                channel=message.channel, provider_id__in=[item.sid for item in candidates]
            ).values_list("provider_id", flat=True)
        )
        for item in reversed(candidates):  # the oldest unclaimed one is ours
            if item.sid not in taken:
                return _reconciled(item)
        return Reconciliation(found=False)


CLOCK_SLACK = timedelta(minutes=2)


def _reconciled(item) -> Reconciliation:
    return Reconciliation(
        found=True,
        provider_id=item.sid,
        status=TWILIO_STATUS.get(item.status, MessageStatus.SENDING),
        error_code=str(item.error_code or ""),
        error_message=item.error_message or "",
    )


class LocalSmsSender:
    """Records sends in LocalOutboxItem so the demo works offline; shown at /channels/outbox/."""

    def send(self, message: Message) -> SendResult:
        interaction = message.interaction
        try:
            with transaction.atomic():
                item = LocalOutboxItem.objects.create(
                    message_id=message.pk,
                    from_address=interaction.service_address,
                    to_address=interaction.customer_address,
                    body=message.body,
                )
        except IntegrityError:
            item = LocalOutboxItem.objects.get(message_id=message.pk)
        return SendResult(provider_id=item.provider_id, status=MessageStatus.SENT)


def sms_sender_from_settings() -> OutboundSender:
    if settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN:
        return TwilioSmsSender(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            base_url=settings.TWILIO_API_BASE_URL,
        )
    logger.info("no Twilio credentials: outbound SMS goes to the local outbox")
    return LocalSmsSender()
