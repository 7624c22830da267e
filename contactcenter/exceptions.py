"""Domain exceptions. Services raise these; one place (``contactcenter.api`` and
``contactcenter.http``) maps them to HTTP responses, always in the one error shape
``{"error": {"code", "message", "fields"}}``."""


class DomainError(Exception):
    """Base class. ``field`` names the offending input when there is one."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    def as_dict(self) -> dict:
        """The API's error shape: ``fields`` maps each offending input to its messages; extra
        keyword arguments (e.g. ``contact_id`` of a conflicting contact) sit next to them."""
        error: dict = {
            "code": self.code,
            "message": self.message,
            "fields": {self.field: [self.message]} if self.field else {},
        }
        error.update(self.extra)
        return {"error": error}


class ValidationError(DomainError):
    status_code = 400
    code = "invalid"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidState(DomainError):
    status_code = 409
    code = "invalid_state"


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"


class IdempotencyKeyReused(DomainError):
    """The same ``Idempotency-Key`` came with another request body."""

    status_code = 422
    code = "idempotency_key_reused"
