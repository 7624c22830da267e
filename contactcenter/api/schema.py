"""The OpenAPI schema (drf-spectacular): token authentication, the ``Idempotency-Key`` header of
every creating POST, and the error responses every operation can answer, in the one error
shape."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from .idempotency import PARAMETER as IDEMPOTENCY_PARAMETER
from .idempotency import is_idempotent

ERROR_COMPONENT = "Error"

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx/5xx answer of the API.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable machine-readable code, e.g. `invalid`, `not_found`, "
                    "`not_authenticated`, `permission_denied`, `method_not_allowed`, "
                    "`conflict`, `invalid_state`, `idempotency_key_reused`, `throttled`.",
                },
                "message": {"type": "string", "description": "Human-readable, translated."},
                "fields": {
                    "type": "object",
                    "description": "Each offending input (e.g. `identities[0].value`, or a "
                    "header name) with its messages; empty when no field is to blame.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
    "example": {
        "error": {
            "code": "invalid",
            "message": "body: This field may not be blank.",
            "fields": {"body": ["This field may not be blank."]},
        }
    },
}

ALWAYS = {
    "400": "Invalid input (query or body); `fields` names what to fix.",
    "401": "No valid token or session: send `Authorization: Token <key>`.",
    "403": "The token lacks the scope, or the user the permission, for this operation.",
    "404": "No such object, or not visible to this token's user (never 403 for an object).",
    "406": "Only `application/json` is served.",
    "429": "Too many requests for this token or address; retry after `Retry-After` seconds.",
}
WRITES = {
    "409": "Conflicts with the current state (e.g. an identity owned by another contact).",
    "415": "Send `application/json` (or a form encoding).",
}
IDEMPOTENT_POST = {"422": "This `Idempotency-Key` was already used with another request body."}


class ApiAutoSchema(AutoSchema):
    """Adds the ``Idempotency-Key`` header to creating POSTs (the decorated handlers)."""

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        handler = getattr(self.view, self.method.lower(), None)
        if self.method == "POST" and is_idempotent(handler):
            parameters.append(IDEMPOTENCY_PARAMETER)
        return parameters

    def get_tags(self) -> list[str]:
        tags = getattr(self.view, "schema_tags", None)
        if tags:
            return list(tags)
        return super().get_tags()


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "contactcenter.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: an API token from admin -> API tokens, shown once when "
            "created. Scopes: read, write, cti, webhooks.",
        }


def add_error_responses(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: every operation documents the errors it can answer."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            codes = dict(ALWAYS)
            if method != "get":
                codes.update(WRITES)
            if any(
                p.get("name") == IDEMPOTENCY_PARAMETER.name for p in operation.get("parameters", [])
            ):
                codes.update(IDEMPOTENT_POST)
            for code, description in codes.items():
                existing = responses.get(code)
                if existing is None:
                    responses[code] = {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    }
                elif "content" not in existing:
                    existing["content"] = {"application/json": {"schema": reference}}
    return result
