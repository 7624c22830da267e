"""Token scopes: ``read`` for safe methods and ``write`` for the others unless a view says
otherwise (``token_scopes = {"GET": ("read", "cti"), "POST": ("cti", "write")}``: any of them).
Session-authenticated requests (the desktop) are not scoped."""

from django.utils.translation import gettext
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from ..models import ApiToken


def required_scopes(view: object, method: str) -> tuple[str, ...]:
    declared = getattr(view, "token_scopes", None) or {}
    if method in declared:
        return tuple(declared[method])
    if method in SAFE_METHODS:
        return tuple(declared.get("GET", ("read",)))
    return ("write",)


class TokenHasScope(BasePermission):
    message = ""

    def has_permission(self, request: Request, view: object) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        scopes = required_scopes(view, request.method)
        if any(token.has_scope(scope) for scope in scopes):
            return True
        self.message = gettext("This token needs the %(scopes)s scope.") % {
            "scopes": " or ".join(f"'{scope}'" for scope in scopes)
        }
        return False
