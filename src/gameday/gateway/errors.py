"""The gateway's errors and the one function that maps any error to an HTTP status and OpenAI's error body.

    GamedayError
    ├── ConfigError
    │   └── InvalidRequest        400: the body or a header is wrong (`param` names the field)
    │       ├── PayloadTooLarge   413
    │       └── UnsupportedMedia  415
    └── ApiError                  an answer the gateway chose to give
        ├── NotFound              404
        ├── BudgetExceeded        429: the spend ceiling would break and no cheaper model may serve
        ├── TierEscalation        503: no model allowed for the tier can serve; never a quiet downgrade
        └── UpstreamFailed        502 (504 when every attempt timed out)

Anything else reaching `to_http` is a bug; it still becomes a 500 in OpenAI's shape, never a traceback.
"""

from __future__ import annotations

from typing import Any

from gameday.errors import ConfigError, GamedayError

__all__ = [
    "ApiError",
    "BudgetExceeded",
    "InvalidRequest",
    "NotFound",
    "PayloadTooLarge",
    "TierEscalation",
    "UnsupportedMedia",
    "UpstreamFailed",
    "to_http",
]


class InvalidRequest(ConfigError):
    """The request is wrong; `param` names the field (`messages[0].content`)."""

    status = 400
    type = "invalid_request_error"

    def __init__(self, message: str, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class PayloadTooLarge(InvalidRequest):
    status = 413


class UnsupportedMedia(InvalidRequest):
    status = 415


class ApiError(GamedayError):
    """An answer other than success that the gateway decided on."""

    status = 500
    type = "api_error"
    code = "internal_error"
    param: str | None = None

    def __init__(self, message: str, *, route: str | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.route = route
        self.attempts = attempts
        self.retry_after_s: float | None = None


class NotFound(ApiError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class BudgetExceeded(ApiError):
    status = 429
    type = "insufficient_quota"
    code = "budget_exceeded"


class TierEscalation(ApiError):
    status = 503
    type = "api_error"
    code = "tier_escalation"


class UpstreamFailed(ApiError):
    status = 502
    type = "api_error"
    code = "upstream_failed"

    def __init__(self, message: str, *, route: str | None = None, attempts: int = 0, timed_out: bool = False) -> None:
        super().__init__(message, route=route, attempts=attempts)
        if timed_out:
            self.status = 504
            self.code = "upstream_timeout"


def to_http(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """Status and OpenAI-shaped body (`{"error": {message, type, param, code}}`) for any error."""
    if isinstance(exc, InvalidRequest | ApiError):
        status, kind, param, code = exc.status, exc.type, exc.param, exc.code
        message = str(exc)
    else:
        status, kind, param, code = 500, "api_error", None, "internal_error"
        message = f"internal error in the gateway ({type(exc).__name__}); this is a bug, please report it"
    return status, {"error": {"message": message, "type": kind, "param": param, "code": code}}
