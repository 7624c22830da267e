"""A small reader of gettext .po files (enough for the catalogue tests; no dependency).

Understands comments and flags (``#, fuzzy``), ``msgctxt``, ``msgid``, ``msgid_plural``,
``msgstr`` and ``msgstr[n]``, multi-line strings and their escapes. Obsolete entries (``#~``)
are kept apart so a test can refuse them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is not None:
            return [self.msgstr_plural[n] for n in sorted(self.msgstr_plural)]
        return [self.msgstr]

    @property
    def translated(self) -> bool:
        return bool(self.translations) and all(self.translations)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def _unquote(text: str) -> str:
    text = text.strip()
    if not (text.startswith('"') and text.endswith('"')):
        raise ValueError(f"not a quoted string: {text!r}")
    return ast.literal_eval(text)


def parse(path: str | Path) -> list[Entry]:
    """Every entry of the file, the header (msgid "") included, in file order."""
    entries: list[Entry] = []
    entry = Entry()
    seen_msgstr = False
    target: tuple[str, int | None] | None = None

    def finish() -> None:
        nonlocal entry, seen_msgstr, target
        if target is not None:
            entries.append(entry)
        entry, seen_msgstr, target = Entry(), False, None

    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if seen_msgstr:
                finish()
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if line.startswith('"'):
            if target is None:
                raise ValueError(f"{path}:{number}: a string without a keyword")
            _append(entry, target, _unquote(line))
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and seen_msgstr:
            finish()
        if target is None:
            entry.line = number
        entry.obsolete = entry.obsolete or obsolete
        if keyword.startswith("msgstr["):
            index = int(keyword[len("msgstr[") : -1])
            target = ("msgstr_plural", index)
            entry.msgstr_plural[index] = ""
            seen_msgstr = True
        elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            target = (keyword, None)
            if keyword in ("msgctxt", "msgid_plural"):
                setattr(entry, keyword, "")
            seen_msgstr = seen_msgstr or keyword == "msgstr"
        else:
            raise ValueError(f"{path}:{number}: unexpected {line!r}")
        _append(entry, target, _unquote(rest))
    finish()
    return entries


def _append(entry: Entry, target: tuple[str, int | None], text: str) -> None:
    name, index = target
    if name == "msgstr_plural":
        entry.msgstr_plural[index] += text
    else:
        setattr(entry, name, (getattr(entry, name) or "") + text)


def catalogue(path: str | Path) -> dict:
    """What a compiled .mo holds for this .po: {msgid: msgstr}, {(msgid, n): msgstr} for
    plurals, ``context\\x04msgid`` keys for contexts; untranslated, fuzzy and obsolete entries
    left out, as msgfmt does, and the header (metadata, not a message) too."""
    result: dict = {}
    for entry in parse(path):
        if entry.is_header or entry.obsolete or entry.fuzzy or not entry.translated:
            continue
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is not None:
            for index, text in entry.msgstr_plural.items():
                result[(key, index)] = text
        else:
            result[key] = entry.msgstr
    return result
