"""One error hierarchy, mapped once to RFC 9457 problem JSON by `api/problems.py`."""

from __future__ import annotations

from typing import Any


class NightowlError(Exception):
    """An error a client can act on: it carries the HTTP status and the offending field."""

    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra or {}


class InvalidInput(NightowlError):
    status = 422
    title = "Invalid input"
    type_slug = "invalid-input"


class NotFound(NightowlError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(NightowlError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class LimitExceeded(NightowlError):
    """A client-controlled bound was passed; `detail` names the limit and its value."""

    status = 413
    title = "Limit exceeded"
    type_slug = "limit-exceeded"


class Unauthorized(NightowlError):
    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"


class Forbidden(NightowlError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class TooManyRequests(NightowlError):
    status = 429
    title = "Too many requests"
    type_slug = "too-many-requests"


class Unavailable(NightowlError):
    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line naming the key, the value and the rule."""

    exit_code = 2


class StartupError(ConfigError):
    """The configuration is valid but the process cannot start with it (port in use, database down...)."""

    exit_code = 1
