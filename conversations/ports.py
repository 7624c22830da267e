"""Ports: what ``conversations`` needs from the channels, which it never imports.

``channels_app`` fills these registries in its ``AppConfig.ready()``:

- **Outbound senders** (channel -> adapter): an adapter takes a Message and returns a
  :class:`SendResult`, or raises :class:`SendError` with ``transient`` set when a retry may succeed
  (timeouts, 5xx, 429) and unset when it never will (bad number, 4xx). An adapter that can ask its
  provider what became of a message it handed over implements ``reconcile`` too.
- **Sender addresses** (channel -> provider of the addresses a service may send from).
- **Lifecycle listeners** (channel -> listeners): called inside the writing transaction on every
  interaction event (queued, offered, assigned, transferred, participant joined/left, ended) and on
  conversation events (closed, reopened). A channel learns what happened to its conversation here,
  never by polling; what it tells its customer it writes in the same transaction.
- **Timeline extras** (channel -> provider): what a channel shows under its messages in a
  timeline (an email's subject, recipients, quoted history and formatted version), rendered by
  the channel as HTML escaped by its own templates, for a whole page of messages at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .models import Conversation, Interaction, Message


# --- Outbound ---------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Reconciliation:
    """What the provider says became of a message handed over earlier.

    ``provider_id`` is set when the provider knows the message (found by its id, or by what was
    sent when the send crashed before the id was recorded); ``status`` is the message status it
    maps to. ``found`` False means the provider has no such message: it was never sent.
    """

    found: bool
    provider_id: str = ""
    status: str = ""
    error_code: str = ""
    error_message: str = ""


class OutboundSender(Protocol):
    def send(self, message: Message) -> SendResult: ...


class ReconcilingSender(OutboundSender, Protocol):
    def reconcile(self, message: Message) -> Reconciliation: ...


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


# --- Lifecycle --------------------------------------------------------------------------------


class Lifecycle:
    """What can happen to an interaction or its conversation."""

    QUEUED = "queued"  # waiting in a service queue (new, re-queued, transferred to a service)
    OFFERED = "offered"  # proposed to an agent
    ASSIGNED = "assigned"  # an agent took it (``agent_id``; ``previous_agent_id`` on a handover)
    TRANSFERRED = "transferred"  # handed to ``agent_id`` by ``previous_agent_id``, or to a service
    PARTICIPANT_JOINED = "participant_joined"  # ``agent_id`` joined (conference)
    PARTICIPANT_LEFT = "participant_left"  # ``agent_id`` left (conference)
    ENDED = "ended"  # the interaction ended (``reason``)
    CLOSED = "closed"  # the conversation closed (sent to every channel of the conversation)
    REOPENED = "reopened"  # the conversation reopened


@dataclass(frozen=True)
class LifecycleEvent:
    kind: str
    conversation: Conversation
    interaction: Interaction | None = None
    agent_id: int | None = None
    previous_agent_id: int | None = None
    service_id: int | None = None
    reason: str = ""


LifecycleListener = Callable[[LifecycleEvent], None]
_listeners: dict[str, list[LifecycleListener]] = {}


def register_lifecycle_listener(channel: str, listener: LifecycleListener) -> None:
    listeners = _listeners.setdefault(channel, [])
    if listener not in listeners:
        listeners.append(listener)


def lifecycle_listeners(channel: str) -> list[LifecycleListener]:
    return list(_listeners.get(channel, ()))


# --- Agent activity -------------------------------------------------------------------------


class AgentActivityRelay(Protocol):
    """What a channel does with an agent's ephemeral activity on a conversation it has a leg in:
    typing (shown to the customer) and reading (read receipts)."""

    def typing(self, *, conversation: Conversation, user: object, typing: bool) -> None: ...

    def read(self, *, conversation: Conversation, user: object, up_to: int) -> None: ...


_activity_relays: dict[str, AgentActivityRelay] = {}


def register_agent_activity(channel: str, relay: AgentActivityRelay) -> None:
    _activity_relays[channel] = relay


def agent_activity_relays() -> list[AgentActivityRelay]:
    return list(_activity_relays.values())


# --- Timeline extras --------------------------------------------------------------------------

TimelineExtrasProvider = Callable[[list["Message"]], dict[int, str]]
_timeline_extras: dict[str, TimelineExtrasProvider] = {}


def register_timeline_extras(channel: str, provider: TimelineExtrasProvider) -> None:
    """``provider(messages)`` returns, for those of ``messages`` it has something to show under,
    message id -> an HTML fragment rendered by a template (so escaped) and marked safe. It is
    called once per page of a timeline, with that page's messages of ``channel``, and must read
    what it needs for all of them in a fixed number of queries."""
    _timeline_extras[channel] = provider


def timeline_extras(messages: list[Message]) -> dict[int, str]:
    by_channel: dict[str, list[Message]] = {}
    for message in messages:
        if message.channel in _timeline_extras:
            by_channel.setdefault(message.channel, []).append(message)
    extras: dict[int, str] = {}
    for channel, group in by_channel.items():
        extras.update(_timeline_extras[channel](group))
    return extras


# --- Interaction timers -----------------------------------------------------------------------


@dataclass(frozen=True)
class InteractionTimer:
    """A running timer a channel shows for one of its open interactions in the Active
    Conversations list (a call's talk time, its hold time). ``kind`` names it for styling."""

    label: str
    since: datetime
    kind: str = ""


InteractionTimersProvider = Callable[[list["Interaction"]], dict[int, list[InteractionTimer]]]
_interaction_timers: dict[str, InteractionTimersProvider] = {}


def register_interaction_timers(channel: str, provider: InteractionTimersProvider) -> None:
    """``provider(interactions)`` returns interaction id -> its timers, for those of
    ``interactions`` (all of ``channel``) that have any, in a fixed number of queries."""
    _interaction_timers[channel] = provider


def interaction_timers(interactions: Iterable[Interaction]) -> dict[int, list[InteractionTimer]]:
    by_channel: dict[str, list[Interaction]] = {}
    for interaction in interactions:
        if interaction.channel in _interaction_timers:
            by_channel.setdefault(interaction.channel, []).append(interaction)
    timers: dict[int, list[InteractionTimer]] = {}
    for channel, group in by_channel.items():
        timers.update(_interaction_timers[channel](group))
    return timers


# --- Conversation details ---------------------------------------------------------------------


@dataclass(frozen=True)
class DetailItem:
    """One line of a conversation's documents in the agent's context panel (a pre-chat answer,
    the page the customer is on, an attachment). ``url`` makes the value a link."""

    group: str
    label: str
    value: str
    url: str = ""


DetailsProvider = Callable[["Conversation"], list[DetailItem]]
_details_providers: dict[str, DetailsProvider] = {}


def register_conversation_details(channel: str, provider: DetailsProvider) -> None:
    """``provider(conversation)`` lists what ``channel`` knows about the conversation, in a fixed
    number of queries (it is called only when the conversation has a ``channel`` leg)."""
    _details_providers[channel] = provider


def conversation_details(conversation: Conversation, channels: Iterable[str]) -> list[DetailItem]:
    items: list[DetailItem] = []
    for channel in dict.fromkeys(channels):
        provider = _details_providers.get(channel)
        if provider is not None:
            items.extend(provider(conversation))
    return items
