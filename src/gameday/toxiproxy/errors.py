"""Toxiproxy's API errors: a message and a status, written as `{"error": ..., "status": ...}`."""

from __future__ import annotations

__all__ = [
    "ApiError",
    "bad_request_body",
    "invalid_stream",
    "invalid_toxic_type",
    "missing_field",
    "proxy_exists",
    "proxy_not_found",
    "server_error",
    "toxic_exists",
    "toxic_not_found",
]


class ApiError(Exception):
    """An error the API answers with; `message` is exactly what Toxiproxy says."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def body(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}


def bad_request_body(detail: str) -> ApiError:
    return ApiError(f"bad request body: {detail}", 400)


def missing_field(detail: str) -> ApiError:
    return ApiError(f"missing required field: {detail}", 400)


def proxy_not_found() -> ApiError:
    return ApiError("proxy not found", 404)


def proxy_exists() -> ApiError:
    return ApiError("proxy already exists", 409)


def invalid_stream() -> ApiError:
    return ApiError("stream was invalid, can be either upstream or downstream", 400)


def invalid_toxic_type() -> ApiError:
    return ApiError("invalid toxic type", 400)


def toxic_exists() -> ApiError:
    return ApiError("toxic already exists", 409)


def toxic_not_found() -> ApiError:
    return ApiError("toxic not found", 404)


def server_error(message: str) -> ApiError:
    """Anything else (a taken port, a bad listen address): 500 with the raw error text."""
    return ApiError(message, 500)
