"""``Authorization: Token <key>`` (or ``Bearer <key>``) for integrations: an :class:`ApiToken`."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from .. import tokens

KEYWORDS = (b"token", b"bearer")


class TokenAuthentication(BaseAuthentication):
    """Authenticates as the token's user; ``request.auth`` is the token (its scopes are checked
    by :class:`contactcenter.api.permissions.TokenHasScope`)."""

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = tokens.api_token_authenticate(key=key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"
