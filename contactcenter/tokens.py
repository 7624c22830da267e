"""API tokens: created (the key is returned once and only its hash kept), checked, revoked."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from .exceptions import ValidationError
from .models import ApiToken, Scope

KEY_PREFIX = "cc_"
#: last_used_at is written at most this often per token (not on every request).
LAST_USED_RESOLUTION = timedelta(seconds=60)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _valid_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise ValidationError(
            gettext("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}, field="scopes"
        )
    if not scopes:
        raise ValidationError(gettext("Choose at least one scope."), field="scopes")
    return [scope for scope in Scope.values if scope in scopes]


def api_token_create(
    *,
    user: AbstractBaseUser,
    name: str,
    scopes: list[str],
    created_by: AbstractBaseUser | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it and its key (the only time the key is known)."""
    scopes = _valid_scopes(list(scopes))
    name = (name or "").strip()
    if not name:
        raise ValidationError(gettext("Give the token a name."), field="name")
    for _attempt in range(5):
        key = _new_key()
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    name=name[:120],
                    prefix=key[: ApiToken.PREFIX_LENGTH],
                    key_hash=hash_key(key),
                    scopes=scopes,
                    created_by=created_by,
                    expires_at=expires_at,
                )
        except IntegrityError:  # the prefix is taken (astronomically unlikely): draw again
            continue
        return token, key
    raise RuntimeError("could not draw a unique token prefix")


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The active token with this key, or None. Notes when it was last used (once a minute)."""
    if not key or len(key) > 200 or len(key) < ApiToken.PREFIX_LENGTH:
        return None
    token = (
        ApiToken.objects.select_related("user").filter(prefix=key[: ApiToken.PREFIX_LENGTH]).first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, hash_key(key)):
        return None
    if not token.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
