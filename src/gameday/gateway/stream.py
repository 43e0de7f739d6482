"""Relaying a committed stream to the client: chunks through as they come, and a clean end whatever happens.

Once the first token has been written nothing can be retried. Any upstream failure from then on
(a stall longer than `stall_s`, the total deadline, a cut connection, an error event, a chunk that
is not JSON) ends the client's stream with one OpenAI-shaped error chunk, `data: {"error": ...}`,
which the `openai` SDK raises as an `APIError`. The stream never hangs and never ends silently.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from gameday.gateway.attempts import Served
from gameday.gateway.chunks import usage_of
from gameday.gateway.upstream import Event, UpstreamError

__all__ = ["RelayOutcome", "error_event", "relay"]

Write = Callable[[bytes], Awaitable[None]]
DONE = b"data: [DONE]\n\n"

_MESSAGES = {
    "stall": "the upstream model stopped sending mid-stream",
    "timeout": "the request ran past the gateway's total timeout mid-stream",
    "cut": "the upstream connection ended mid-stream",
    "sse_error": "the upstream model reported an error mid-stream",
    "bad_body": "the upstream model sent a malformed chunk mid-stream",
}


@dataclass(slots=True)
class RelayOutcome:
    completed: bool = False  # [DONE] reached the client
    error: str | None = None  # upstream failure kind, or "client_gone"
    usage: tuple[int, int] | None = None
    cost_usd: float | None = None  # from usage, when the upstream gave it
    tokens: int = 0  # content chunks relayed (an estimate of tokens when usage never came)


def error_event(kind: str, model: str) -> bytes:
    message = f"{_MESSAGES.get(kind, 'the upstream failed mid-stream')} ({model}); the answer is incomplete"
    body = {"error": {"message": message, "type": "api_error", "param": None, "code": f"upstream_{kind}"}}
    return b"data: " + orjson.dumps(body) + b"\n\n"


async def relay(
    served: Served,
    write: Write,
    *,
    wants_usage: bool,
    stall_s: float,
    deadline: float,
    cost_of: Callable[[int, int], float],
    clock: Callable[[], float] = time.monotonic,
) -> RelayOutcome:
    """Write the stream's events to `write` until [DONE] or a failure; never raises for upstream trouble."""
    out = RelayOutcome()
    response = served.response
    try:
        try:
            for event in served.head:
                if await _forward(event, write, out, wants_usage, cost_of):
                    return out
            while True:
                left = deadline - clock()
                if left <= 0:
                    raise UpstreamError("timeout", "total deadline")
                event = await response.next_event(min(stall_s, left))
                if event is None:
                    raise UpstreamError("cut", "the body ended without [DONE]")
                if await _forward(event, write, out, wants_usage, cost_of):
                    return out
        except UpstreamError as exc:
            out.error = exc.kind
            await write(error_event(exc.kind, served.candidate.model))
            return out
    except ConnectionError:  # the client went away (aiohttp raises ConnectionResetError subclasses)
        out.error = out.error or "client_gone"
        return out
    finally:
        response.close()


async def _forward(
    event: Event, write: Write, out: RelayOutcome, wants_usage: bool, cost_of: Callable[[int, int], float]
) -> bool:
    """Relay one event; True when the stream is over."""
    name, data = event
    if name == "error":
        raise UpstreamError("sse_error", data[:200].decode("utf-8", "replace"))
    if data.strip() == b"[DONE]":
        await write(DONE)
        out.completed = True
        return True
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamError("bad_body", "a chunk that is not JSON") from None
    if not isinstance(chunk, dict) or chunk.get("error"):
        raise UpstreamError("sse_error", data[:200].decode("utf-8", "replace"))
    usage = usage_of(chunk) if chunk.get("usage") else None
    if usage is not None:
        out.usage = usage
        out.cost_usd = cost_of(*usage)
        if not chunk.get("choices"):
            if not wants_usage:
                return False  # we asked for usage to know the cost; the client did not
            chunk["usage"]["cost_usd"] = round(out.cost_usd, 10)
            data = orjson.dumps(chunk)
    elif chunk.get("choices"):
        out.tokens += 1
    await write(b"data: " + data + b"\n\n")
    return False
