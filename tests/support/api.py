"""API clients for tests: a DRF APIClient authenticated with a fresh API token of a user."""

from __future__ import annotations

from rest_framework.test import APIClient

from contactcenter.models import Scope
from contactcenter.tokens import api_token_create

ALL_SCOPES = list(Scope.values)


def api_for(user, scopes: list[str] | None = None) -> APIClient:
    """A client sending ``Authorization: Token <key>`` of a new token of ``user``."""
    _token, key = api_token_create(user=user, name="test", scopes=scopes or ALL_SCOPES)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.token_key = key
    return client


def error_of(response) -> dict:
    """The ``error`` object of an API error answer (asserting the one error shape)."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "fields"} <= set(error), error
    assert isinstance(error["fields"], dict), error
    return error
