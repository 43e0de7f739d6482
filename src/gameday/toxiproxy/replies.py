"""HTTP replies shaped like the Go server's: JSON bodies, error bodies, request ids, plain-text 404."""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

from aiohttp import web

from gameday.toxiproxy.errors import ApiError
from gameday.toxiproxy.gojson import dumps

__all__ = [
    "REQUEST_ID_HEADER",
    "error_reply",
    "json_reply",
    "method_not_allowed",
    "no_content",
    "not_found",
    "request_id",
    "text_error",
]

REQUEST_ID_HEADER = "X-Toxiproxy-Request-Id"
_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"
_MACHINE = os.urandom(5)
_COUNTER = itertools.count(int.from_bytes(os.urandom(3), "big"))


def request_id() -> str:
    """A 20-character id in the shape Toxiproxy's (xid) uses: time, machine, counter, in base32hex."""
    raw = int(time.time()).to_bytes(4, "big") + _MACHINE + (next(_COUNTER) % (1 << 24)).to_bytes(3, "big")
    number = int.from_bytes(raw, "big") << 4  # 96 bits padded to 100 = 20 five-bit digits
    return "".join(_BASE32HEX[(number >> shift) & 31] for shift in range(95, -1, -5))


def json_reply(value: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=dumps(value), headers={"Content-Type": "application/json"})


def no_content() -> web.Response:
    return web.Response(status=204)


def text_error(message: str, status: int) -> web.Response:
    """What Go's `http.Error` writes: the message, a newline, plain text, nosniff."""
    return web.Response(
        status=status,
        body=(message + "\n").encode(),
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
    )


def error_reply(error: ApiError) -> web.Response:
    return text_error(dumps(error.body()).decode(), error.status)


def not_found() -> web.Response:
    return text_error("404 page not found", 404)


def method_not_allowed() -> web.Response:
    return web.Response(status=405)
