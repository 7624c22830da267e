"""Texts the system itself writes into conversations (system lines, its own delivery errors),
stored as a **code plus parameters** and translated when shown.

A row keeps ``system_code`` and ``system_params`` (a delivery error keeps its code in
``error_code``); its ``body`` also holds the sentence in the site's language for the API, exports,
search and transcripts. Pages render the code in the reader's language. Texts are defined with
``system_text(code, gettext_noop(msgid))`` where they belong (``conversations`` below; the
channels in ``channels_app.conversation_ops``); a code is registered once and never reused for
another sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop


@dataclass(frozen=True)
class SystemText:
    code: str
    msgid: str

    def render(self, params: dict | None = None) -> str:
        """In the active language."""
        return gettext(self.msgid) % (params or {})

    def stored(self, params: dict | None = None) -> str:
        """In the site's language: what a row's ``body`` keeps."""
        with translation.override(settings.LANGUAGE_CODE):
            return self.render(params)


_texts: dict[str, SystemText] = {}


def system_text(code: str, msgid: str) -> SystemText:
    """Define (register) the text of ``code``."""
    existing = _texts.get(code)
    if existing is not None and existing.msgid != msgid:
        raise ValueError(f"system text code {code!r} already means {existing.msgid!r}")
    text = _texts[code] = SystemText(code=code, msgid=msgid)
    return text


def system_text_render(code: str, params: dict | None = None, *, fallback: str = "") -> str:
    """``code`` with ``params`` in the active language; ``fallback`` (what the row stored) when
    the code is unknown or its parameters do not fit."""
    text = _texts.get(code or "")
    if text is None:
        return fallback
    try:
        return text.render(params)
    except (KeyError, TypeError, ValueError):
        return fallback


def system_texts_without_parameters() -> dict[str, str]:
    """Code -> text in the active language, for texts without parameters (scripts show them when
    an event carries only the code, e.g. a delivery error)."""
    return {code: gettext(text.msgid) for code, text in _texts.items() if "%(" not in text.msgid}


def all_system_texts() -> list[SystemText]:
    return list(_texts.values())


class SystemLine:
    """The system lines ``conversations`` writes into a timeline."""

    JOINED = system_text("joined", gettext_noop("%(agent)s joined the conversation."))
    TRANSFER_NOT_ACCEPTED = system_text(
        "transfer_not_accepted", gettext_noop("The transfer was not accepted.")
    )
    TRANSFERRED_TO_SERVICE = system_text(
        "transferred_to_service",
        gettext_noop("%(agent)s transferred the conversation to %(service)s."),
    )
    ASKED_TO_TAKE_OVER = system_text(
        "asked_to_take_over", gettext_noop("%(agent)s asked %(target)s to take over.")
    )
    INVITED_TO_CONFERENCE = system_text(
        "invited_to_conference", gettext_noop("%(agent)s invited %(target)s to join.")
    )
    CONFERENCE_DECLINED = system_text(
        "conference_declined", gettext_noop("%(target)s did not join.")
    )
    LEFT = system_text("left", gettext_noop("%(agent)s left the conversation."))
    LEFT_HANDING_OVER = system_text(
        "left_handing_over", gettext_noop("%(agent)s left the conversation; %(target)s continues.")
    )
    WRAP_UP_TIMED_OUT = system_text(
        "wrap_up_timed_out",
        gettext_noop(
            "After-call work timed out; the conversation was closed without a disposition."
        ),
    )
    MOVED = system_text(
        "moved",
        gettext_noop(
            "Moved from contact #%(from_id)s (%(from_name)s) to contact #%(to_id)s "
            "(%(to_name)s) by %(user)s."
        ),
    )
    FOLLOWS = system_text(
        "follows",
        gettext_noop("The customer wrote again about %(number)s, closed too long ago."),
    )
    CASE_PENDING = system_text(
        "case_pending",
        gettext_noop("%(agent)s set the case to Pending until %(time)s: %(reason)s"),
    )
    CASE_RESOLVED = system_text("case_resolved", gettext_noop("%(agent)s resolved the case."))
    CASE_FOLLOW_UP = system_text(
        "case_follow_up", gettext_noop("Follow-up time: the case is open again (%(reason)s).")
    )
    CASE_CLOSED_RESOLVED = system_text(
        "case_closed_resolved",
        gettext_noop("The case was resolved and the customer did not write again: closed."),
    )
    SUPERVISOR_MONITORING = system_text(
        "supervisor_monitoring",
        gettext_noop("%(agent)s (supervisor) is monitoring the conversation."),
    )
    SUPERVISOR_ASSIGNED = system_text(
        "supervisor_assigned", gettext_noop("%(agent)s (supervisor) assigned it to %(target)s.")
    )
    SUPERVISOR_CLOSED = system_text(
        "supervisor_closed", gettext_noop("%(agent)s (supervisor) closed the conversation.")
    )
    SUPERVISOR_BARGED_IN = system_text(
        "supervisor_barged_in",
        gettext_noop("%(agent)s (supervisor) joined the conversation and writes to the customer."),
    )
