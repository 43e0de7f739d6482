"""One chat completion, start to finish, and what happened to it.

`ChatCaller.call(plan, out, t0)` sends the plan through a `Transport`, reads the answer (SSE line
by line, or the whole JSON body), and fills `out`: status, error kind, TTFT at the first content
chunk, end-to-end at the last byte, tokens, and what the adapter reads. It never raises for
anything the server or the network did; the caller of `call` turns `out` into exactly one record.

Error kinds (the record's `error`): no response head -> `connect` / `timeout` / `reset`
(`bad_body` if what came back is not HTTP); a head with 4xx / 5xx -> `http_4xx` / `http_5xx`
(other non-2xx: `bad_body`); a 2xx whose body breaks off, ends without `[DONE]` or a finish
reason, or carries an SSE error -> `stream_cut` (`timeout` if the deadline passed first); a 2xx
whose body does not parse as a completion (or one malformed chunk) -> `bad_body`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import orjson

from gameday.config.load import Adapter
from gameday.load.adapters import AdapterReader, Served
from gameday.load.mix import RequestPlan
from gameday.load.sse import CompletionFacts, SseDecoder, read_body, read_chunk
from gameday.load.wire import Response, Transport, TransportError

__all__ = ["REQUEST_ID_HEADER", "ChatCaller", "Outcome", "RequestTimeout", "no_deadline"]

# `WORKER-N`: the N-th request of that load process, so a gateway's or a provider's logs can be
# matched with the load's records (and a test can prove each request was sent and recorded once).
REQUEST_ID_HEADER = "x-gameday-request-id"

MAX_BODY = 16 * 1024 * 1024
MAX_ERROR_BODY = 64 * 1024
MAX_LINES = 2_000_000


class RequestTimeout(Exception):
    """The whole-request deadline passed (raised by the deadline guard)."""


@dataclass
class Outcome:
    """What one request did, filled in as it goes (a killed request keeps what it had)."""

    status: int = 0
    error: str | None = None
    ttft_s: float | None = None
    e2e_s: float | None = None
    in_tokens: int = 0
    out_tokens: int = 0
    served: Served = field(default_factory=Served)


def no_deadline(seconds: float) -> AbstractContextManager[None]:
    """A guard that never fires (tests with fake transports; the real one is a gevent.Timeout)."""
    return contextlib.nullcontext()


def _status_error(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    if 400 <= status < 500:
        return "http_4xx"
    if 500 <= status < 600:
        return "http_5xx"
    return "bad_body"


def _transport_error(kind: str, status: int) -> str:
    if status == 0:
        return {"connect": "connect", "timeout": "timeout", "reset": "reset", "cut": "reset"}.get(kind, "bad_body")
    return {"timeout": "timeout", "reset": "stream_cut", "cut": "stream_cut"}.get(kind, "bad_body")


def _is_event_stream(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"


class ChatCaller:
    def __init__(
        self,
        transport: Transport,
        adapter: Adapter,
        *,
        clock: Callable[[], float],
        timeout_s: float,
        path: str = "/v1/chat/completions",
        headers: Sequence[tuple[str, str]] = (),
        guard: Callable[[float], AbstractContextManager[object]] = no_deadline,
        chars_per_token: float = 4.0,
    ) -> None:
        self.transport = transport
        self.adapter = adapter
        self.clock = clock
        self.timeout_s = timeout_s
        self.path = path
        self.extra_headers = list(headers)
        self.guard = guard
        self.chars_per_token = chars_per_token

    def headers_for(self, plan: RequestPlan, request_id: str | None = None) -> list[tuple[str, str]]:
        accept = "text/event-stream" if plan.stream else "application/json"
        headers = [
            ("Content-Type", plan.content_type),
            ("Accept", accept),
            ("x-gameday-task", plan.task),
            ("x-gameday-tier", plan.tier),
        ]
        if request_id is not None:
            headers.append((REQUEST_ID_HEADER, request_id))
        return [*headers, *self.extra_headers]

    def call(self, plan: RequestPlan, out: Outcome, t0: float, request_id: str | None = None) -> None:
        reader = AdapterReader(self.adapter)
        facts = CompletionFacts()
        response: Response | None = None
        out.in_tokens = plan.in_tokens
        try:
            with self.guard(self.timeout_s):
                response = self.transport.open(self.path, self.headers_for(plan, request_id), plan.body)
                out.status = response.status
                reader.headers(response.headers)
                status_error = _status_error(response.status)
                if status_error is not None:
                    out.error = status_error
                    self._error_body(response, reader)
                elif plan.stream and _is_event_stream(response.headers):
                    self._stream(response, facts, reader)
                else:
                    read_body(facts, response.read_all(MAX_BODY), self.clock(), reader.body)
                if out.error is None:
                    out.error = facts.error or (None if facts.done or facts.finished else "stream_cut")
        except RequestTimeout:
            out.error = out.error or "timeout"
        except TransportError as exc:
            out.error = out.error or _transport_error(exc.kind, out.status)
        finally:
            out.e2e_s = max(0.0, self.clock() - t0)
            if response is not None:
                response.close()
            if facts.first_content_at is not None:
                out.ttft_s = max(0.0, facts.first_content_at - t0)
            if facts.prompt_tokens is not None:
                out.in_tokens = facts.prompt_tokens
            out.out_tokens = facts.out_tokens(self.chars_per_token)
            out.served = reader.served()

    def _stream(self, response: Response, facts: CompletionFacts, reader: AdapterReader) -> None:
        decoder = SseDecoder()
        for _ in range(MAX_LINES):
            line = response.readline()
            if not line:
                break
            event = decoder.feed(line)
            if event is not None:
                read_chunk(facts, event, self.clock(), reader.body)
        else:
            raise TransportError("protocol", f"more than {MAX_LINES} lines in one stream")
        event = decoder.flush()
        if event is not None:
            read_chunk(facts, event, self.clock(), reader.body)

    def _error_body(self, response: Response, reader: AdapterReader) -> None:
        """An error's body may still name the model or carry the gateway's fields; it must not hang us."""
        try:
            raw = response.read_all(MAX_ERROR_BODY)
        except TransportError:
            return
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        if isinstance(obj, dict):
            reader.body(obj)
