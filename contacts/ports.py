"""Ports: what the contacts app needs from the apps above it.

``contacts`` never imports ``conversations`` (ARCHITECTURE.md section 2). The contact page shows
Activities, a merge must move conversations, search understands conversation numbers and events go
to the agents handling a contact: each of those is a small registry here, filled by the apps above
in their ``AppConfig.ready()``. With nothing registered, contacts still works on its own (no
Activities section, merges move identities only).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.core.paginator import Page

    from .models import Contact


# --- Activities: the contact's conversations, as plain data the contact page renders ----------


@dataclass(frozen=True)
class ActivityLeg:
    """One channel leg (a call, a chat, an SMS thread, an email thread) of an activity."""

    channel: str
    channel_label: str
    direction_label: str
    started_at: datetime
    ended_at: datetime | None
    duration: timedelta | None
    agent_name: str = ""
    customer_address: str = ""
    recording_url: str = ""


@dataclass(frozen=True)
class Activity:
    """One conversation with the contact, summarized (never its messages)."""

    conversation_id: int
    number: str
    status: str
    status_label: str
    is_open: bool
    opened_at: datetime
    closed_at: datetime | None
    duration: timedelta | None
    channels: list[tuple[str, str]]
    agent_name: str
    service_name: str
    disposition: str
    notes: str
    legs: list[ActivityLeg] = field(default_factory=list)
    duplicate_candidates: list[tuple[int, str]] = field(default_factory=list)
    timeline_url: str = ""  # empty when this user may not open the conversation
    desktop_url: str = ""  # the live conversation on the desktop, when the user may open it
    move_url: str = ""  # "move to another contact", when the user may do it
    fields: list[tuple[str, str]] = field(default_factory=list)  # (label, value) filled in


class ActivitiesProvider(Protocol):
    def __call__(
        self, *, contact: "Contact", user: "AbstractBaseUser", page: int | str, per_page: int
    ) -> "Page":
        """A page whose ``object_list`` is a list of :class:`Activity`, newest first."""


# --- Merge participants: other apps' rows that follow a merge and its undo --------------------


@dataclass(frozen=True)
class MergeParticipant:
    """``merge`` moves the app's rows from ``merged`` to ``survivor`` and returns JSON-able data
    that ``undo`` needs to put them back. Both run inside the merge's transaction, after both
    contacts are locked."""

    name: str
    merge: Callable[..., dict]  # (*, survivor, merged) -> dict
    undo: Callable[..., None]  # (*, survivor, merged, data) -> None


_activities_provider: list[ActivitiesProvider] = []
_merge_participants: dict[str, MergeParticipant] = {}
_audience_providers: list[Callable[[list[int]], list[str]]] = []
_reference_resolvers: list[Callable[[str], list[int] | None]] = []
_viewer_checks: list[Callable[["AbstractBaseUser"], bool]] = []


def register_activities_provider(provider: ActivitiesProvider) -> None:
    _activities_provider[:] = [provider]


def activities_provider() -> ActivitiesProvider | None:
    return _activities_provider[0] if _activities_provider else None


def register_merge_participant(participant: MergeParticipant) -> None:
    _merge_participants[participant.name] = participant


def merge_participants() -> list[MergeParticipant]:
    return list(_merge_participants.values())


def register_audience_provider(provider: Callable[[list[int]], list[str]]) -> None:
    """``provider(contact_ids)`` returns the realtime audiences (e.g. ``agent.<id>`` of agents
    holding open conversations of those contacts) that must hear about changes to them."""
    if provider not in _audience_providers:
        _audience_providers.append(provider)


def contact_audiences(contact_ids: list[int]) -> list[str]:
    audiences: list[str] = []
    for provider in _audience_providers:
        audiences.extend(provider(contact_ids))
    return list(dict.fromkeys(audiences))


def register_reference_resolver(resolver: Callable[[str], list[int] | None]) -> None:
    """``resolver(text)`` returns contact ids when ``text`` is a reference it understands (such as
    a conversation number ``C-1042``), else None."""
    if resolver not in _reference_resolvers:
        _reference_resolvers.append(resolver)


def resolve_reference(text: str) -> list[int] | None:
    for resolver in _reference_resolvers:
        found = resolver(text)
        if found is not None:
            return found
    return None


def register_viewer_check(check: Callable[["AbstractBaseUser"], bool]) -> None:
    """``check(user)`` is True for users who work with contacts (agents)."""
    if check not in _viewer_checks:
        _viewer_checks.append(check)


def is_contact_viewer(user: "AbstractBaseUser") -> bool:
    return any(check(user) for check in _viewer_checks)


_phone_dialer: Callable[["AbstractBaseUser", int], str | None] | None = None


def register_phone_dialer(dialer: Callable[["AbstractBaseUser", int], str | None]) -> None:
    """``dialer(user, contact_id)`` is the URL the contact page POSTs a ``number`` to for the user
    to call it by phone, or None when they cannot (no telephony, no phone of theirs)."""
    global _phone_dialer
    _phone_dialer = dialer


def phone_dial_url(user: "AbstractBaseUser", contact_id: int) -> str | None:
    return _phone_dialer(user, contact_id) if _phone_dialer else None
