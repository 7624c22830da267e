"""Texts the system itself writes into conversations (system lines, its own delivery errors).

They are stored in the site's language (``settings.LANGUAGE_CODE``): the API, exports, search and
transcripts see that sentence. Pages show them in the reader's language: a stored sentence is
matched against the registered msgids (in the site's language) and rendered again, with the same
parameters, in the active language. A text that matches no registered msgid (rows written before
a wording changed, a provider's own error text) is shown as stored.

Every msgid is marked with ``gettext_noop`` where it is defined and registered once at start-up
(``conversations`` registers its own below; ``channels_app`` registers its own in
``AppConfig.ready()``). Only ``%(name)s`` placeholders are supported.
"""

import re
from functools import lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_msgids: dict[str, None] = {}


def stored_text_register(*msgids: str) -> None:
    """Make these msgids known to :func:`stored_text` and :func:`stored_text_display`."""
    for msgid in msgids:
        _msgids[msgid] = None
    _patterns.cache_clear()


def stored_text(msgid: str, **params: object) -> str:
    """``msgid`` with ``params``, in the site's language: the text a row stores."""
    if msgid not in _msgids:
        raise LookupError(f"Register this stored text first: {msgid!r}")
    with translation.override(settings.LANGUAGE_CODE):
        text = gettext(msgid)
    return text % params if params else text


def stored_text_display(text: str) -> str:
    """``text`` (as stored) in the active language, when it is a registered stored text."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if not text or language == settings.LANGUAGE_CODE:
        return text
    for msgid, pattern in _patterns(settings.LANGUAGE_CODE):
        match = pattern.fullmatch(text)
        if match:
            params = match.groupdict()
            translated = gettext(msgid)
            return translated % params if params else translated
    return text


def stored_text_fixed_translations() -> dict[str, str]:
    """Stored texts without parameters, as stored -> in the active language (for scripts that
    receive a stored text in an event and show it)."""
    fixed = {}
    for msgid in _msgids:
        if not _PLACEHOLDER.search(msgid):
            fixed[stored_text(msgid)] = gettext(msgid)
    return fixed


@lru_cache(maxsize=8)
def _patterns(language: str) -> list[tuple[str, re.Pattern]]:
    """Each msgid as a pattern of its site-language sentence, the most specific first."""
    patterns = []
    with translation.override(language):
        for msgid in _msgids:
            sentence = gettext(msgid)
            parts, seen, position = [], set(), 0
            for match in _PLACEHOLDER.finditer(sentence):
                parts.append(re.escape(sentence[position : match.start()]))
                name = match.group(1)
                parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
                seen.add(name)
                position = match.end()
            parts.append(re.escape(sentence[position:]))
            fixed = len(_PLACEHOLDER.sub("", sentence))
            patterns.append((fixed, msgid, re.compile("".join(parts), re.DOTALL)))
    patterns.sort(key=lambda item: -item[0])
    return [(msgid, pattern) for _, msgid, pattern in patterns]


class SystemLine:
    """The system lines ``conversations`` writes into a timeline."""

    JOINED = gettext_noop("%(agent)s joined the conversation.")
    TRANSFER_NOT_ACCEPTED = gettext_noop("The transfer was not accepted.")
    TRANSFERRED_TO_SERVICE = gettext_noop("%(agent)s transferred the conversation to %(service)s.")
    ASKED_TO_TAKE_OVER = gettext_noop("%(agent)s asked %(target)s to take over.")
    INVITED_TO_CONFERENCE = gettext_noop("%(agent)s invited %(target)s to join.")
    CONFERENCE_DECLINED = gettext_noop("%(target)s did not join.")
    LEFT = gettext_noop("%(agent)s left the conversation.")
    LEFT_HANDING_OVER = gettext_noop("%(agent)s left the conversation; %(target)s continues.")
    WRAP_UP_TIMED_OUT = gettext_noop(
        "After-call work timed out; the conversation was closed without a disposition."
    )
    SUPERVISOR_MONITORING = gettext_noop("%(agent)s (supervisor) is monitoring the conversation.")
    SUPERVISOR_ASSIGNED = gettext_noop("%(agent)s (supervisor) assigned it to %(target)s.")
    SUPERVISOR_CLOSED = gettext_noop("%(agent)s (supervisor) closed the conversation.")
    SUPERVISOR_BARGED_IN = gettext_noop(
        "%(agent)s (supervisor) joined the conversation and writes to the customer."
    )
    MOVED = gettext_noop(
        "Moved from contact #%(from_id)s (%(from_name)s) to contact #%(to_id)s (%(to_name)s) "
        "by %(user)s."
    )


stored_text_register(
    *(value for name, value in vars(SystemLine).items() if not name.startswith("_"))
)
