"""Domain exceptions. Services raise these; one place (``contactcenter.api`` and
``contactcenter.http``) maps them to HTTP responses."""


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
        data: dict = {"error": self.code, "detail": self.message}
        if self.field:
            data["field"] = self.field
        data.update(self.extra)
        return data


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
