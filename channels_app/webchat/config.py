"""The effective configuration of a chat entry point: its WebChatSettings row or the defaults."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext

from ..models import EntryPoint, PreChatField, WebChatSettings

PRECHAT_FIELDS = ("name", "email", "phone", "question")


def parse_origins(text: str) -> list[str]:
    """Origins one per line (or separated by spaces/commas); ``*`` means any site."""
    origins = []
    for raw in text.replace(",", " ").split():
        if raw == "*":
            origins.append(raw)
            continue
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(
                gettext("'%(origin)s' is not an origin like https://www.example.com")
                % {"origin": raw}
            )
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


@dataclass(frozen=True)
class ChatConfig:
    entry_point_id: int
    slug: str
    title: str
    greeting: str
    prechat_enabled: bool
    prechat: dict[str, str]
    allowed_origins: list[str]
    offline_form_enabled: bool
    web_calls: bool
    inactivity_timeout_seconds: int
    max_message_length: int

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.allowed_origins or origin.lower() in self.allowed_origins

    def frame_ancestors(self) -> str:
        """The CSP ``frame-ancestors`` source list: who may put the chat page in an iframe."""
        if "*" in self.allowed_origins:
            return "*"
        return " ".join(["'self'", *self.allowed_origins])

    def public(self) -> dict:
        """What the widget needs to know (sent to the browser)."""
        return {
            "title": self.title,
            "greeting": self.greeting,
            "prechat": self.prechat if self.prechat_enabled else {},
            "offline_form": self.offline_form_enabled,
            "calls": self.web_calls,
            "max_length": self.max_message_length,
            "inactivity_seconds": self.inactivity_timeout_seconds,
        }


def chat_config(entry_point: EntryPoint) -> ChatConfig:
    row = WebChatSettings.objects.filter(entry_point=entry_point).first()
    if row is None:
        row = WebChatSettings(entry_point=entry_point)
    prechat = {
        name: getattr(row, f"prechat_{name}")
        for name in PRECHAT_FIELDS
        if getattr(row, f"prechat_{name}") != PreChatField.HIDDEN
    }
    try:
        origins = parse_origins(row.allowed_origins)
    except ValueError:
        origins = []
    return ChatConfig(
        entry_point_id=entry_point.pk,
        slug=entry_point.address,
        title=row.title or entry_point.name,
        greeting=row.greeting,
        prechat_enabled=row.prechat_enabled and bool(prechat),
        prechat=prechat,
        allowed_origins=origins,
        offline_form_enabled=row.offline_form_enabled,
        web_calls=row.web_calls,
        inactivity_timeout_seconds=row.inactivity_timeout_seconds
        or settings.WEBCHAT_INACTIVITY_SECONDS,
        max_message_length=row.max_message_length or settings.WEBCHAT_MAX_MESSAGE_LENGTH,
    )
