"""The refusals a provider answers before generating: injected errors, rate limits, overload.

Each becomes an `ApiError` in the shape the real providers use (529 is Anthropic's `overloaded_error`),
with `Retry-After` (whole seconds, rounded up) and `retry-after-ms` where a client should wait.
"""

from __future__ import annotations

import math

from gameday.mocks.controls import ErrorRule
from gameday.mocks.ratelimit import RateLimited
from gameday.mocks.wire import ApiError

__all__ = ["injected_error", "overloaded", "rate_limited", "retry_headers"]

ANTHROPIC_OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def retry_headers(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(math.ceil(seconds)), "retry-after-ms": str(math.ceil(seconds * 1000))}


def _status_error(status: int, model: str, retry_after_s: float | None) -> ApiError:
    headers = retry_headers(retry_after_s) if retry_after_s is not None else {}
    if status == 429:
        wait = 1.0 if retry_after_s is None else retry_after_s
        return ApiError(
            429,
            f"Rate limit reached for {model}. Please try again in {wait:g}s.",
            type="requests",
            code="rate_limit_exceeded",
            headers=retry_headers(wait),
        )
    if status == 529:
        return ApiError(529, "Overloaded", type="overloaded_error", headers=headers, body=ANTHROPIC_OVERLOADED)
    messages = {
        500: ("The server had an error while processing your request. Sorry about that!", None),
        502: ("Bad gateway.", "bad_gateway"),
        503: ("The engine is currently overloaded, please try again later.", "service_unavailable"),
    }
    message, code = messages[status]
    return ApiError(status, message, type="server_error", code=code, headers=headers)


def injected_error(rule: ErrorRule, model: str) -> ApiError:
    return _status_error(rule.status, model, rule.retry_after_s)


def overloaded(status: int, model: str, running: int, waiting: int) -> ApiError:
    if status == 529:
        return _status_error(529, model, 1.0)
    return ApiError(
        status,
        f"The server is overloaded: {model} has {running} requests running and {waiting} waiting "
        "(its queue is full). Please retry later.",
        type="server_error",
        code="overloaded",
        headers=retry_headers(1.0),
    )


def rate_limited(limit: RateLimited, model: str) -> ApiError:
    if limit.too_large:
        return ApiError(
            429,
            f"Request too large for {model} on tokens per min (TPM): Limit {limit.limit}, "
            f"Requested {limit.requested}. Send fewer tokens (prompt plus max_tokens).",
            type=limit.limit_name,
            code="rate_limit_exceeded",
        )
    unit = "requests per min (RPM)" if limit.limit_name == "requests" else "tokens per min (TPM)"
    return ApiError(
        429,
        f"Rate limit reached for {model} on {unit}: Limit {limit.limit}, Used {limit.limit - limit.remaining}, "
        f"Requested {limit.requested}. Please try again in {limit.retry_after_s:.3f}s.",
        type=limit.limit_name,
        code="rate_limit_exceeded",
        headers=retry_headers(limit.retry_after_s),
    )
