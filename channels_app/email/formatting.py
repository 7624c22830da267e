"""The composer's simple formatting, as text and as safe HTML.

Agents type plain text with a few marks: ``**bold**``, ``_italic_``, lines starting with ``- ``
for a list; web addresses become links. The text part of the email is what they typed; the
HTML part is built from it with everything escaped first, so nothing they paste becomes markup.
"""

import re

from django.utils.html import escape

BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
ITALIC = re.compile(r"(?<![\w*])_(?=\S)(.+?)(?<=\S)_(?!\w)")
URL = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


def _inline(text: str) -> str:
    html = escape(text)
    html = BOLD.sub(r"<strong>\1</strong>", html)
    html = ITALIC.sub(r"<em>\1</em>", html)
    return URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', html)


def text_to_html(text: str) -> str:
    """HTML of the composer's text: paragraphs, line breaks, lists, bold, italic, links."""
    blocks: list[str] = []
    items: list[str] = []
    lines: list[str] = []

    def flush_lines() -> None:
        if lines:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in lines) + "</p>")
            lines.clear()

    def flush_items() -> None:
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    for line in (text or "").replace("\r\n", "\n").split("\n"):
        if line.lstrip().startswith(("- ", "* ")):
            flush_lines()
            items.append(line.lstrip()[2:])
        elif not line.strip():
            flush_lines()
            flush_items()
        else:
            flush_items()
            lines.append(line)
    flush_lines()
    flush_items()
    return "\n".join(blocks)


def quote_text(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in (text or "").split("\n"))
