"""The one I/O seam to the providers: `Upstream.send(UpstreamRequest) -> UpstreamResponse`.

`HttpUpstream` is the real one (a single pooled aiohttp session for every provider). Tests may pass
any object with the same `send`, returning `UpstreamResponse` subclasses of their own. Reads take
their timeout from the caller, who knows which deadline applies (first token, stall, total).
Every transport failure becomes an `UpstreamError` whose `kind` says what happened.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import aiohttp

__all__ = ["HttpUpstream", "Upstream", "UpstreamError", "UpstreamRequest", "UpstreamResponse"]

FailureKind = Literal["connect", "timeout", "ttft", "stall", "cut", "bad_body", "sse_error"]
Event = tuple[str, bytes]  # (SSE event name, data payload)
BIG_BODY = 512 * 1024  # aiohttp wants larger bodies as a stream (it warns about raw bytes past 1 MiB)


class UpstreamError(Exception):
    """A transport-level failure of one attempt (not an HTTP error status, which is a response)."""

    def __init__(self, kind: FailureKind, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    provider: str
    model: str
    url: str  # the provider's chat completions URL
    body: bytes
    stream: bool
    connect_s: float
    headers_s: float  # from sending to response headers


class UpstreamResponse:
    """Status and headers at once; the body is read in pieces, each with the caller's timeout."""

    status: int
    headers: Mapping[str, str]

    async def read_body(self, timeout_s: float) -> bytes:
        raise NotImplementedError

    async def next_event(self, timeout_s: float) -> Event | None:
        """The next SSE event with data; None when the body ended."""
        raise NotImplementedError

    def close(self) -> None:
        """Give the connection back (or drop it when the body was not read to the end)."""


class Upstream(Protocol):
    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...


class _HttpResponse(UpstreamResponse):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers = response.headers
        self._event = ""

    async def read_body(self, timeout_s: float) -> bytes:
        try:
            async with asyncio.timeout(timeout_s):
                return await self._response.read()
        except TimeoutError:
            raise UpstreamError("timeout", f"no whole body within {timeout_s:.3g} s") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise UpstreamError("cut", _describe(exc)) from None

    async def next_event(self, timeout_s: float) -> Event | None:
        content = self._response.content
        data: list[bytes] = []
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    line = await content.readline()
                    if not line:  # end of body: an event still being built is dispatched (WHATWG)
                        return (self._take_event(), b"\n".join(data)) if data else None
                    line = line.rstrip(b"\r\n")
                    if not line:
                        if data:
                            return self._take_event(), b"\n".join(data)
                        continue
                    if line.startswith(b"data:"):
                        data.append(line[6:] if line[5:6] == b" " else line[5:])
                    elif line.startswith(b"event:"):
                        self._event = line[6:].strip().decode("utf-8", "replace")
        except TimeoutError:
            raise UpstreamError("stall", f"no data for {timeout_s:.3g} s") from None
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: a line past the reader's limit
            raise UpstreamError("cut", _describe(exc)) from None

    def _take_event(self) -> str:
        name, self._event = self._event or "message", ""
        return name

    def close(self) -> None:
        self._response.release() if self._response.content.at_eof() else self._response.close()


class HttpUpstream:
    """Every provider through one connection pool; `await close()` when done."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns = session is None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30.0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, skip_auto_headers=("User-Agent",)
            )
        return self._session

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=request.connect_s, connect=request.connect_s)
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream" if request.stream else "*/*"}
        try:
            async with asyncio.timeout(request.headers_s):
                data = io.BytesIO(request.body) if len(request.body) > BIG_BODY else request.body
                response = await self.session.post(request.url, data=data, headers=headers, timeout=timeout)
        except TimeoutError:
            raise UpstreamError(
                "ttft" if request.stream else "timeout", f"no answer within {request.headers_s:.3g} s"
            ) from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise UpstreamError("connect", _describe(exc)) from None
        except aiohttp.ClientError as exc:
            raise UpstreamError("cut", _describe(exc)) from None
        return _HttpResponse(response)

    async def close(self) -> None:
        if self._owns and self._session is not None:
            await self._session.close()
            self._session = None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]
