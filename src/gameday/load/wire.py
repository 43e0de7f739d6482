"""The load's one I/O seam: a transport sends a request and hands back a readable response.

The real one is `gameday.load.client.GeventTransport` (geventhttpclient sockets, streaming
reads); tests of the request logic use a handler-based fake. Every failure below HTTP is
mapped, at the transport, to one `TransportError` kind:

- `connect`: no connection (refused, unreachable, connect timeout, bad address);
- `timeout`: the network stayed silent longer than allowed;
- `reset`: the connection broke (RST, EPIPE, closed before any response);
- `cut`: the connection ended in the middle of a response body;
- `protocol`: what came back is not HTTP, or a body is larger than allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

__all__ = ["Response", "Transport", "TransportError", "TransportKind"]

TransportKind = Literal["connect", "timeout", "reset", "cut", "protocol"]


class TransportError(Exception):
    def __init__(self, kind: TransportKind, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind: TransportKind = kind
        self.detail = detail


class Response(Protocol):
    """A response whose head has arrived; the body is read on demand."""

    status: int
    headers: Mapping[str, str]  # names in lower case

    def readline(self) -> bytes:
        """The next line of the body with its newline; b"" once the body has ended."""
        ...

    def read_all(self, limit: int) -> bytes:
        """The rest of the body; `TransportError("protocol")` past `limit` bytes."""
        ...

    def close(self) -> None:
        """Done with it: a finished response leaves its connection for reuse, an unfinished one closes it."""
        ...


class Transport(Protocol):
    def open(self, path: str, headers: Sequence[tuple[str, str]], body: bytes) -> Response:
        """POST `body` to `path`; returns once the response head has arrived."""
        ...
