"""Domain errors. Each has a machine-readable code (English) and a human message (Chinese).

The kind says what went wrong in transport-free terms; the HTTP and socket layers map it to a
status once, in one place."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    kind: ClassVar[str] = "invalid"
    default_code: ClassVar[str] = "invalid"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        field: str | None = None,
        details: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        # more than one thing wrong at once (an import's refused rows): machine-readable too
        self.details = details

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.details:
            body.update(self.details)
        return body


class Invalid(DomainError):
    kind = "invalid"
    default_code = "invalid"


class Unauthenticated(DomainError):
    kind = "unauthenticated"
    default_code = "unauthenticated"


class Forbidden(DomainError):
    kind = "forbidden"
    default_code = "forbidden"


class NotFound(DomainError):
    kind = "not_found"
    default_code = "not_found"


class Conflict(DomainError):
    kind = "conflict"
    default_code = "conflict"


class Locked(DomainError):
    kind = "locked"
    default_code = "account_locked"


class RateLimited(DomainError):
    kind = "rate_limited"
    default_code = "rate_limited"


class Gone(DomainError):
    """What was asked for existed and is no longer served (410): events moved to the archive."""

    kind = "gone"
    default_code = "gone"


class Unavailable(DomainError):
    """A service the server depends on is missing or failing (503)."""

    kind = "unavailable"
    default_code = "unavailable"
