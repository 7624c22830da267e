"""The outbound port: ``conversations`` sends through adapters that ``channels_app`` registers.

An adapter takes a Message and returns a SendResult, or raises SendError with ``transient`` set
when a retry may succeed (timeouts, 5xx, 429) and unset when it never will (bad number, 4xx).
"""

from dataclasses import dataclass
from typing import Protocol

from .models import Message


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    status: str


class SendError(Exception):
    def __init__(self, message: str, *, transient: bool, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.code = code


class OutboundSender(Protocol):
    def send(self, message: Message) -> SendResult: ...


_senders: dict[str, OutboundSender] = {}


def register_sender(channel: str, sender: OutboundSender) -> None:
    _senders[channel] = sender


def get_sender(channel: str) -> OutboundSender:
    try:
        return _senders[channel]
    except KeyError:
        raise SendError(f"No outbound adapter for channel '{channel}'.", transient=False) from None
