"""One admitted request producing its answer on the wire: paced tokens, and the faults that strike it.

Tokens are due at the first-token time, then one gap apart; a gap is the planned inter-token time
stretched by the batch running now (re-read for every token, so a burst slows streams already in
progress). When the loop falls behind, the tokens already due go out together in one chunk, as a
loaded server packs them. `sent` always says how many tokens went out (or were generated, for a
whole body), which is what the bill charges.
"""

from __future__ import annotations

import asyncio
import math

import orjson
from aiohttp import web

from gameday.config.profile import Capacity
from gameday.mocks.latency import first_token_s, per_token_factor
from gameday.mocks.plan import Plan
from gameday.mocks.slots import ClientGone, SlotPool
from gameday.mocks.wire import ChunkFormat, completion_body

__all__ = ["BOUNDARY_FAULTS", "KEEP_ALIVE_S", "Generation", "Outcome"]

KEEP_ALIVE_S = 1.0  # how often a stalled stream sends `: keep-alive`
WATCH_S = 0.25  # how often a long wait checks that the client is still there
WHOLE_BODY_SLICE_S = 0.02  # a whole body's generation sleeps in slices at least this long
BOUNDARY_FAULTS = ("stall", "malformed_chunk", "sse_error", "stream_cut")  # their order at one boundary
SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}

Outcome = str  # "complete", "stream_cut", "sse_error", "truncated_body", "client_gone"


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


class Generation:
    def __init__(
        self, plan: Plan, capacity: Capacity, pool: SlotPool, prompt_tokens: int, model: str, created: int
    ) -> None:
        self.plan = plan
        self.capacity = capacity
        self.pool = pool
        self.prompt_tokens = prompt_tokens
        self.model = model
        self.created = created
        self.sent = 0
        self.first_token_at: float | None = None
        self.gaps: list[float] = []  # seconds between token writes, one per token after the first
        self.response: web.StreamResponse | None = None  # once prepared, the handler must return this one
        throttle = plan.faults.get("token_throttle")
        self.min_gap = 1.0 / plan.param("token_throttle", "tokens_per_s") if throttle else 0.0

    def first_token_wait(self) -> float:
        wait = first_token_s(self.plan.ttft_base_s, self.capacity, self.pool.running, self.prompt_tokens)
        if "first_token_delay" in self.plan.faults:
            wait += self.plan.param("first_token_delay", "delay_s")
        return wait

    def gap(self, index: int) -> float:
        return max(
            self.plan.itl_s[index] * per_token_factor(self.capacity, self.pool.running, self.pool.max_concurrency),
            self.min_gap,
        )

    async def _wait(self, request: web.Request, seconds: float) -> None:
        """Sleep, noticing within WATCH_S a client that hung up."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            await asyncio.sleep(min(left, WATCH_S))
            if _client_gone(request):
                raise ClientGone()

    # -- streamed --------------------------------------------------------------------------------
    def _boundaries(self, count: int) -> dict[int, list[str]]:
        at: dict[int, list[str]] = {}
        for kind in BOUNDARY_FAULTS:
            if kind in self.plan.faults:
                after = int(self.plan.faults[kind].params.get("after_tokens", 0))
                at.setdefault(min(after, count), []).append(kind)
        return at

    async def stream(self, request: web.Request, include_usage: bool, headers: dict[str, str] | None = None) -> Outcome:
        fmt = ChunkFormat(self.plan.completion_id, self.created, self.model)
        tokens = self.plan.tokens
        count = len(tokens)
        boundaries = self._boundaries(count)
        loop = asyncio.get_running_loop()
        response = self.response = web.StreamResponse(headers={**SSE_HEADERS, **(headers or {})})
        await response.prepare(request)
        await self._wait(request, self.first_token_wait())
        await response.write(fmt.role())
        last_write = self.first_token_at = loop.time()
        due = last_write
        index = 0
        while True:
            for kind in boundaries.get(index, ()):
                outcome = await self._strike(kind, request, response, fmt)
                if outcome is not None:
                    return outcome
                due = max(due, loop.time())
            if index >= count:
                break
            if (delay := due - loop.time()) > 0:
                await asyncio.sleep(delay)
            end = index + 1
            # Tokens already overdue go out in the same chunk, up to the next fault boundary.
            while end < count and end not in boundaries and (nxt := due + self.gap(end)) <= loop.time():
                due, end = nxt, end + 1
            await response.write(fmt.content("".join(tokens[index:end])))
            now = loop.time()
            new_gaps = end - index - (1 if index == 0 else 0)  # the first token's wait is the TTFT
            if new_gaps:
                self.gaps.extend([(now - last_write) / new_gaps] * new_gaps)
            last_write, self.sent, index = now, end, end
            if index < count:
                due += self.gap(index)
        await response.write(fmt.finish(self.plan.finish_reason))
        if include_usage:
            await response.write(fmt.usage(self.prompt_tokens, self.sent))
        await response.write(fmt.done())
        await response.write_eof()
        return "complete"

    async def _strike(
        self, kind: str, request: web.Request, response: web.StreamResponse, fmt: ChunkFormat
    ) -> Outcome | None:
        if kind == "stall":
            stall_s = self.plan.param("stall", "stall_s")
            beats = max(math.ceil(stall_s / KEEP_ALIVE_S), 1)
            for beat in range(beats):
                await response.write(fmt.keep_alive())
                await self._wait(request, min(KEEP_ALIVE_S, stall_s - beat * KEEP_ALIVE_S))
            return None
        if kind == "malformed_chunk":
            await response.write(fmt.malformed())
            return None
        if kind == "sse_error":
            await response.write(fmt.error_event("The server had an error while generating the response."))
            await response.write_eof()
            return "sse_error"
        # stream_cut: close the connection without the last chunk; the client sees a body cut short.
        if request.transport is not None:
            request.transport.close()
        return "stream_cut"

    # -- whole body ------------------------------------------------------------------------------
    async def whole(
        self, request: web.Request, headers: dict[str, str] | None = None
    ) -> tuple[web.StreamResponse, Outcome]:
        loop = asyncio.get_running_loop()
        await self._wait(request, self.first_token_wait())
        self.first_token_at = loop.time()
        count = len(self.plan.tokens)
        self.sent = min(count, 1)
        pending = 0.0
        for index in range(1, count):
            gap = self.gap(index)
            self.gaps.append(gap)
            pending += gap
            if pending >= WHOLE_BODY_SLICE_S:
                await self._wait(request, pending)
                pending = 0.0
            self.sent = index + 1
        if "stall" in self.plan.faults:
            pending += self.plan.param("stall", "stall_s")
        await self._wait(request, pending)
        body = orjson.dumps(
            completion_body(
                self.plan.completion_id,
                self.created,
                self.model,
                "".join(self.plan.tokens),
                self.plan.finish_reason,
                self.prompt_tokens,
                self.sent,
            )
        )
        if "truncated_body" not in self.plan.faults:
            return web.Response(body=body, content_type="application/json", headers=headers), "complete"
        keep = int(len(body) * self.plan.param("truncated_body", "keep_fraction"))
        response = self.response = web.StreamResponse(headers={"Content-Type": "application/json", **(headers or {})})
        response.content_length = len(body)  # the full length: the client sees a short read
        await response.prepare(request)
        await response.write(body[:keep])
        if request.transport is not None:
            request.transport.close()
        return response, "truncated_body"
