"""Signed visitor tokens: how a browser proves, without any login, that it is the same visitor.

A token is ``django.core.signing`` over ``{"e": entry point id, "v": visitor id}`` with a timestamp,
so it cannot be forged without SECRET_KEY, is bound to one entry point and expires after
``WEBCHAT_TOKEN_MAX_AGE_SECONDS``. Each hello re-issues it (sliding expiry).
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SALT = "channels_app.webchat.visitor"


class InvalidToken(Exception):
    """Forged, tampered with, for another entry point, or expired."""


@dataclass(frozen=True)
class Visitor:
    entry_point_id: int
    visitor_id: str
    token: str


def new_visitor_id() -> str:
    return secrets.token_hex(16)


def visitor_token_issue(*, entry_point_id: int, visitor_id: str | None = None) -> Visitor:
    visitor_id = visitor_id or new_visitor_id()
    token = signing.dumps({"e": entry_point_id, "v": visitor_id}, salt=SALT)
    return Visitor(entry_point_id=entry_point_id, visitor_id=visitor_id, token=token)


def visitor_token_read(token: str, *, entry_point_id: int) -> Visitor:
    """The visitor the token names; InvalidToken unless it is genuine, fresh and for this entry
    point."""
    if not isinstance(token, str) or not token or len(token) > 500:
        raise InvalidToken("missing token")
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.WEBCHAT_TOKEN_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise InvalidToken("expired token") from exc
    except signing.BadSignature as exc:
        raise InvalidToken("bad signature") from exc
    if not isinstance(data, dict) or data.get("e") != entry_point_id:
        raise InvalidToken("token for another entry point")
    visitor_id = data.get("v")
    if not isinstance(visitor_id, str) or not visitor_id.isalnum() or len(visitor_id) > 64:
        raise InvalidToken("bad visitor id")
    return Visitor(entry_point_id=entry_point_id, visitor_id=visitor_id, token=token)
