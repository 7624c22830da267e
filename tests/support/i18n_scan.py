"""Scan rendered pages for English left on a page shown in Spanish.

The English side is the message catalogue itself (``locale/es/LC_MESSAGES/django.po``): every
msgid whose Spanish translation differs from it must not be on a Spanish page. A page's visible
text is its text nodes (scripts and styles left out), the attributes people see or hear
(``title``, ``placeholder``, ``aria-label``, ``alt``, ``label``, button values, the ``data-*``
texts scripts show) and the string values of its JSON blocks (``json_script``: the texts scripts
show). Customer data the test created is removed first.

Three checks per piece of text:

- it is not, as a whole, an English msgid (placeholders match anything);
- it does not contain an English msgid of several words or a capitalized one (word-bounded);
- it has no English function words ("the", "you", "with"...): that catches text that was never
  marked for translation and so is in no catalogue.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from . import po

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "es" / "LC_MESSAGES" / "django.po"

VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label", "data-confirm"}
SKIPPED_ELEMENTS = {"script", "style", "code"}
# Words of English that Spanish never uses (so no false alarms on Spanish text).
ENGLISH_WORDS = {
    "the", "and", "you", "your", "is", "are", "was", "were", "this", "that", "with", "have",
    "of", "to", "for", "please", "not", "by", "from", "will", "be", "it", "its", "an", "or",
    "which", "there", "what", "when", "yet", "nobody", "agent", "customer", "message", "messages",
    "contact", "contacts", "conversation", "conversations", "send", "sent", "here", "now",
}  # fmt: skip
_PLACEHOLDER = re.compile(r"%\(\w+\)0?\d*[sd]")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


@dataclass(frozen=True)
class EnglishText:
    msgid: str
    spanish: str
    whole: re.Pattern
    inside: re.Pattern | None


def _pattern(text: str) -> str:
    parts, position = [], 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(re.escape(text[position : match.start()].replace("%%", "%")))
        parts.append(r".+?")
        position = match.end()
    parts.append(re.escape(text[position:].replace("%%", "%")))
    return "".join(parts)


@lru_cache(maxsize=1)
def english_texts() -> tuple[EnglishText, ...]:
    """Every English msgid (and plural) of the catalogue that Spanish says differently."""
    found: dict[str, EnglishText] = {}
    for entry in po.parse(CATALOGUE):
        if entry.is_header or entry.obsolete:
            continue
        translations = entry.translations
        for index, english in enumerate(filter(None, [entry.msgid, entry.msgid_plural])):
            spanish = translations[min(index, len(translations) - 1)] if translations else ""
            literal = _PLACEHOLDER.sub("", english)
            if english in found or english == spanish or not re.search(r"[A-Za-z]{2}", literal):
                continue
            body = _pattern(english.strip())
            several_words = " " in literal.strip() or english[:1].isupper()
            inside = None
            if several_words:
                start = r"(?<![\w])" if re.match(r"\w", english.strip()) else ""
                end = r"(?![\w])" if re.search(r"\w$", english.strip()) else ""
                inside = re.compile(start + body + end)
            found[english] = EnglishText(
                msgid=english,
                spanish=spanish,
                whole=re.compile(body, re.DOTALL),
                inside=inside,
            )
    return tuple(found.values())


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.json_blocks: list[str] = []
        self._skip: list[str] = []
        self._json: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            shown = name in VISIBLE_ATTRIBUTES or re.fullmatch(r"data-[\w-]*-text", name)
            if value and shown:
                self.texts.append(value)
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.texts.append(attributes.get("value") or "")
        if tag == "script" and attributes.get("type") == "application/json":
            self._json = []
        if tag in SKIPPED_ELEMENTS:
            self._skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._json is not None:
            self.json_blocks.append("".join(self._json))
            self._json = None
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if self._json is not None:
            self._json.append(data)
        elif not self._skip:
            self.texts.append(data)


def _json_strings(value: object) -> list[str]:
    """String values (not keys: keys are codes, or the stored English a script looks up)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _json_strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _json_strings(item)]
    return []


def visible_texts(html: str) -> list[str]:
    """The pieces of text of a page a person sees or hears, and those its scripts will show."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    texts = list(collector.texts)
    for block in collector.json_blocks:
        texts.extend(_json_strings(json.loads(block)))
    return texts


def _normalize(text: str, data: tuple[str, ...]) -> str:
    for item in data:
        if item:
            text = re.sub(rf"(?<![\w]){re.escape(item)}(?![\w])", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def english_on_page(texts: list[str], *, data: tuple[str, ...] = ()) -> list[str]:
    """Findings: each piece of text that is or holds English, and why. Empty when clean."""
    problems = []
    data = tuple(sorted(data, key=len, reverse=True))
    for raw in texts:
        text = _normalize(raw, data)
        if not text or not re.search(r"[A-Za-z]", text):
            continue
        for english in english_texts():
            if english.whole.fullmatch(text):
                problems.append(f"{text!r} is the English msgid {english.msgid!r}")
                break
            if english.inside and english.inside.search(text):
                problems.append(f"{text!r} contains the English msgid {english.msgid!r}")
                break
        else:
            words = {word.lower() for word in _WORD.findall(text)}
            english_words = sorted(words & ENGLISH_WORDS)
            if english_words:
                problems.append(f"{text!r} has English words {english_words}")
    return problems


def spanish_found(texts: list[str], *, data: tuple[str, ...] = ()) -> set[str]:
    """The catalogue's Spanish texts (without placeholders) that appear on the page."""
    joined = " | ".join(_normalize(text, data) for text in texts)
    return {
        english.spanish
        for english in english_texts()
        if not _PLACEHOLDER.search(english.spanish) and english.spanish in joined
    }
