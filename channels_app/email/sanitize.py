"""HTML email made inert with ``nh3``: stored sanitized, shown sandboxed.

Received HTML is cleaned once when stored (no scripts, no event handlers, no ``javascript:``
links, no forms or frames, only harmless inline styles). When shown, it is cleaned again with
remote images removed unless the agent asked for them, and inline images (``cid:``) replaced by
``data:`` URIs; the page that serves it adds a Content-Security-Policy and a sandbox.
"""

import base64
from collections.abc import Callable

import nh3

TAGS = set(nh3.ALLOWED_TAGS) | {"font", "center", "tfoot"}
ATTRIBUTES = {
    **{tag: set(values) for tag, values in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"style", "dir", "lang", "title"},
    "font": {"color", "face", "size"},
    "table": {"width", "border", "cellpadding", "cellspacing", "align", "summary"},
    "td": {"width", "height", "valign", "align", "colspan", "rowspan"},
    "th": {"width", "height", "valign", "align", "colspan", "rowspan", "scope"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font-weight",
    "font-style",
    "font-size",
    "font-family",
    "text-align",
    "text-decoration",
    "vertical-align",
    "line-height",
    "margin",
    "margin-left",
    "margin-right",
    "margin-top",
    "margin-bottom",
    "padding",
    "padding-left",
    "padding-right",
    "padding-top",
    "padding-bottom",
    "border",
    "border-collapse",
    "width",
    "height",
    "white-space",
}
CLEAN_CONTENT = {"script", "style", "title", "head", "noscript", "template", "iframe", "object"}


def _clean(html: str, attribute_filter: Callable | None = None) -> str:
    return nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags=CLEAN_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes=URL_SCHEMES,
        filter_style_properties=STYLE_PROPERTIES,
        link_rel="noopener noreferrer nofollow",
    )


def sanitize_email_html(html: str) -> str:
    """What is stored of a received HTML part."""
    return _clean(html or "")


def is_remote(url: str) -> bool:
    return url.strip().lower().startswith(("http:", "https:", "//"))


def email_html_for_display(
    stored: str, *, remote_images: bool, inline_images: dict[str, tuple[str, bytes]]
) -> str:
    """The sanitized HTML to show: ``cid:`` images from ``inline_images`` (content id ->
    (content type, data)) as data URIs, remote images dropped unless ``remote_images``."""

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            if value.lower().startswith("cid:"):
                found = inline_images.get(value[4:].strip("<>"))
                if found is None:
                    return None
                content_type, data = found
                return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"
            if is_remote(value) and not remote_images:
                return None
        if attribute == "style" and "url(" in value.lower():
            return None
        return value

    return _clean(stored or "", attribute_filter)


def has_remote_images(stored: str) -> bool:
    found = []

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and is_remote(value):
            found.append(value)
        return value

    _clean(stored or "", attribute_filter)
    return bool(found)
