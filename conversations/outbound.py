"""The outbound port: ``conversations`` sends through adapters that ``channels_app`` registers.

An adapter takes a Message and returns a SendResult, or raises SendError with ``transient`` set
when a retry may succeed (timeouts, 5xx, 429) and unset when it never will (bad number, 4xx).
"""

from collections.abc import Callable
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


AddressProvider = Callable[[int], list[str]]
_address_providers: dict[str, AddressProvider] = {}


def register_sender_addresses(channel: str, provider: AddressProvider) -> None:
    """``provider(service_id)`` lists the addresses (e.g. entry point numbers) a service may send
    ``channel`` messages from, preferred first."""
    _address_providers[channel] = provider


def sender_addresses(*, channel: str, service_id: int) -> list[str]:
    provider = _address_providers.get(channel)
    return provider(service_id) if provider else []
