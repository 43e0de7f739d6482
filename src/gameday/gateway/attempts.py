"""Fallback orchestration: try a plan's candidates until one has produced its first token.

Fall over first, retry after. A pass tries each candidate once, in order, skipping those whose
breaker is open, whose Retry-After has not passed, or whose worst-case cost the budget refuses. A
failure before the first token moves to the next candidate at once. When the pass is over, the
candidates that failed retryably get another pass after a jittered back-off (or their Retry-After,
when it is within the cap), up to `retry_passes` passes and `max_attempts` attempts in all, inside
the request's total deadline. The first candidate that yields its first token (a stream) or a whole
valid body is the one that serves: from then on nothing is retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from gameday.config.policy import Policy
from gameday.gateway.assemble import Assembler
from gameday.gateway.breaker import Breaker
from gameday.gateway.budget import Reservation, SpendBudget, worst_case_usd
from gameday.gateway.chunks import has_token, usage_of
from gameday.gateway.prices import PriceBook
from gameday.gateway.refusals import nothing_left, over_budget
from gameday.gateway.request import ChatRequest
from gameday.gateway.retry import Cooldowns, RetryPolicy, parse_retry_after
from gameday.gateway.router import Candidate, RoutePlan
from gameday.gateway.upstream import Event, Upstream, UpstreamError, UpstreamRequest, UpstreamResponse

__all__ = ["FINAL_STATUSES", "Dispatcher", "Served"]

# Upstream answers that another model would give too (the request itself is at fault): relayed as they are.
FINAL_STATUSES = frozenset({400, 404, 409, 413, 422})
_ERROR_BODY_S = 1.0
_CHEAP_RELEASE = 0.2  # cheapest-first ends this far below `prefer_cheaper_above` (a share of the ceiling)

AttemptHook = Callable[[Candidate, str, float], None]  # (candidate, outcome, seconds): for metrics


@dataclass(slots=True)
class Served:
    """The attempt that serves the request: a whole body, or a stream whose first token has arrived."""

    candidate: Candidate
    response: UpstreamResponse
    attempts: int
    failures: list[str]  # "model:reason" of everything that did not serve, in order
    reservation: Reservation | None
    started_at: float  # the serving attempt's start (clock)
    status: int = 200
    body: bytes | None = None  # a non-streamed answer, or a relayed upstream 4xx
    head: list[Event] = field(default_factory=list)  # a stream's events up to its first token
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens, when known
    first_token_at: float | None = None


@dataclass(slots=True)
class _Failed:
    reason: str  # "http_503", "connect", "ttft", ...
    retryable: bool
    retry_after_s: float | None = None
    timed_out: bool = False


class Dispatcher:
    def __init__(
        self,
        policy: Policy,
        upstream: Upstream,
        breakers: dict[str, Breaker],
        cooldowns: Cooldowns,
        retry: RetryPolicy,
        budget: SpendBudget,
        prices: PriceBook,
        urls: dict[str, str],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_attempt: AttemptHook | None = None,
    ) -> None:
        self.policy = policy
        self.upstream = upstream
        self.breakers = breakers
        self.cooldowns = cooldowns
        self.retry = retry
        self.budget = budget
        self.prices = prices
        self.urls = {p: f"{u.rstrip('/')}/v1/chat/completions" for p, u in urls.items()}
        self.clock = clock
        self.sleep = sleep
        self.on_attempt = on_attempt
        self.cheap_mode = False  # see `_order`

    async def dispatch(self, plan: RoutePlan, request: ChatRequest, deadline: float) -> Served:
        """The serving attempt, or an `ApiError` saying why nothing could serve (429, 502/504, 503)."""
        if not plan.candidates:
            raise nothing_left(self.policy, plan, [])
        failures: list[str] = []
        budget_refused: list[str] = []
        timeouts = 0
        attempts = 0
        pending = self._order(plan, request)
        if pending and pending[0] != plan.candidates[0]:
            failures.append(f"{plan.candidates[0].model}:budget_near_ceiling")  # says why in x-gameday-fallback
        for pass_no in range(self.policy.retry.retry_passes + 1):
            again: list[tuple[Candidate, float]] = []  # (candidate, earliest wait in seconds)
            for candidate in pending:
                if attempts >= self.policy.retry.max_attempts or self.clock() >= deadline:
                    break
                model = candidate.model
                wait = self.cooldowns.wait_s(model)
                if wait > 0:
                    failures.append(f"{model}:retry_after")
                    if self.retry.honours(wait):
                        again.append((candidate, wait))
                    continue
                breaker = self.breakers[model]
                if breaker.state == "open":
                    failures.append(f"{model}:breaker_open")
                    continue
                reservation = self._reserve(candidate, request)
                if reservation is None:
                    failures.append(f"{model}:budget")
                    budget_refused.append(model)
                    if self.policy.budget.on_exceed == "reject":
                        raise over_budget(self.policy, self.budget, plan, budget_refused, attempts)
                    continue
                if not breaker.allow():  # half-open, its probe slots taken
                    self.budget.release(reservation)
                    failures.append(f"{model}:breaker_open")
                    continue
                attempts += 1
                body = orjson.dumps(self._upstream_body(request, model))
                outcome = await self._attempt(candidate, request, body, deadline, reservation, attempts, failures)
                if isinstance(outcome, Served):
                    return outcome
                self.budget.release(reservation)
                failures.append(f"{model}:{outcome.reason}")
                timeouts += outcome.timed_out
                if outcome.retry_after_s is not None:
                    self.cooldowns.hold(model, outcome.retry_after_s)
                if outcome.retryable and (outcome.retry_after_s is None or self.retry.honours(outcome.retry_after_s)):
                    again.append((candidate, outcome.retry_after_s or 0.0))
            if not again or pass_no == self.policy.retry.retry_passes or attempts >= self.policy.retry.max_attempts:
                break
            pause = max(self.retry.backoff_s(pass_no), min(w for _, w in again))
            if self.clock() + pause >= deadline:
                break
            await self.sleep(pause)
            pending = [c for c, _ in again]
        if budget_refused:
            raise over_budget(self.policy, self.budget, plan, budget_refused, attempts)
        raise nothing_left(self.policy, plan, failures, attempts, timed_out=attempts > 0 and timeouts == attempts)

    def _order(self, plan: RoutePlan, request: ChatRequest) -> list[Candidate]:
        """The plan's order, or cheapest first once the budget is nearly spent (`prefer_cheaper_above`).

        With hysteresis: once on, cheapest-first stays on until the share spent and reserved is
        `_CHEAP_RELEASE` below the threshold. Without it, every dip below the threshold lets the dearest
        models back in, and a surge that all-cheap traffic could carry rides up to the ceiling and 429s.
        """
        candidates = list(plan.candidates)
        threshold = self.policy.budget.prefer_cheaper_above
        used = self.budget.used_share() if threshold is not None else None
        if used is None or threshold is None:
            return candidates
        if used >= threshold:
            self.cheap_mode = True
        elif used < threshold - _CHEAP_RELEASE:
            self.cheap_mode = False
        if not self.cheap_mode:
            return candidates

        def worst_case(candidate: Candidate) -> float:
            price = self.prices.price(candidate.provider, candidate.model)
            return worst_case_usd(price, request.input_tokens, request.max_tokens)

        return sorted(candidates, key=worst_case)  # stable: equal prices keep the policy's order

    def _streams_upstream(self, request: ChatRequest) -> bool:
        return request.stream or self.policy.timeouts.stream_upstream

    def _upstream_body(self, request: ChatRequest, model: str) -> dict[str, object]:
        body = {**request.body, "model": model}
        if not request.stream and self.policy.timeouts.stream_upstream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}  # the cost is known only from usage
        return body

    def _reserve(self, candidate: Candidate, request: ChatRequest) -> Reservation | None:
        price = self.prices.price(candidate.provider, candidate.model)
        return self.budget.reserve(worst_case_usd(price, request.input_tokens, request.max_tokens))

    async def _attempt(
        self,
        candidate: Candidate,
        request: ChatRequest,
        body: bytes,
        deadline: float,
        reservation: Reservation,
        attempts: int,
        failures: list[str],
    ) -> Served | _Failed:
        t = self.policy.timeouts
        spec = self.policy.model_spec(candidate.model)
        started = self.clock()
        streamed = self._streams_upstream(request)
        whole_wait = spec.response_s if spec.response_s is not None else t.response_s
        first_wait = (spec.ttft_s if spec.ttft_s is not None else t.ttft_s) if streamed else whole_wait
        first_limit = min(deadline, started + first_wait)
        breaker = self.breakers[candidate.model]
        response: UpstreamResponse | None = None
        try:
            response = await self.upstream.send(
                UpstreamRequest(
                    candidate.provider,
                    candidate.model,
                    self.urls[candidate.provider],
                    body,
                    streamed,
                    min(t.connect_s, max(deadline - started, 0.001)),
                    max(first_limit - started, 0.001),
                )
            )
            if response.status != 200:
                return await self._http_failure(candidate, response, started, attempts, failures, reservation)
            served = Served(candidate, response, attempts, list(failures), reservation, started)
            if streamed:
                await self._first_token(served, first_limit)
                if not request.stream:
                    await self._collect(served, min(deadline, started + whole_wait))
            else:
                await self._whole_body(served, first_limit)
        except UpstreamError as exc:
            if response is not None:
                response.close()
            breaker.record_failure()
            self._hook(candidate, exc.kind, started)
            return _Failed(
                exc.kind,
                exc.kind == "connect" and self.retry.retryable(None, connect_error=True),
                timed_out=exc.kind in ("ttft", "timeout", "stall"),
            )
        except BaseException:  # cancelled: no verdict on the model, and nothing was billed
            if response is not None:
                response.close()
            breaker.release()
            self.budget.release(reservation)
            raise
        if not request.stream:
            breaker.record_success()
        self._hook(candidate, "ok", started)
        return served

    async def _http_failure(
        self,
        candidate: Candidate,
        response: UpstreamResponse,
        started: float,
        attempts: int,
        failures: list[str],
        reservation: Reservation,
    ) -> Served | _Failed:
        status = response.status
        try:
            text = await response.read_body(_ERROR_BODY_S)
        except UpstreamError:
            text = b""
        response.close()
        breaker = self.breakers[candidate.model]
        self._hook(candidate, f"http_{status}", started)
        if status in FINAL_STATUSES:
            breaker.record_success()  # the provider is healthy; it refused this request
            return Served(candidate, response, attempts, list(failures), reservation, started, status, text)
        breaker.record_failure()
        retry_after = parse_retry_after(response.headers)
        return _Failed(f"http_{status}", self.retry.retryable(status), retry_after)

    async def _first_token(self, served: Served, limit: float) -> None:
        """Read events until one carries content, a finish or usage; the stream is then committed."""
        while True:
            try:
                event = await served.response.next_event(max(limit - self.clock(), 0.0))
            except UpstreamError as exc:
                if exc.kind == "stall":  # silence before the first token is a TTFT miss
                    raise UpstreamError("ttft", exc.detail) from None
                raise
            if event is None:
                raise UpstreamError("cut", "the stream ended before its first token")
            served.head.append(event)
            if event[1].strip() == b"[DONE]" and event[0] != "error":
                return
            chunk = _chunk(event)
            if chunk.get("usage") or has_token(chunk):
                served.first_token_at = self.clock()
                return

    async def _collect(self, served: Served, limit: float) -> None:
        """The rest of an upstream stream, for a client that wants one body: still falls over on failure."""
        assembler = Assembler()
        for _, data in served.head:
            if data.strip() != b"[DONE]":
                assembler.feed(orjson.loads(data))
        stall_s = self.policy.timeouts.stall_s
        while True:
            left = limit - self.clock()
            if left <= 0:
                raise UpstreamError("timeout", "the whole answer took longer than the model's response_s")
            try:
                event = await served.response.next_event(min(stall_s, left))
            except UpstreamError as exc:
                if exc.kind == "stall" and self.clock() >= limit:
                    raise UpstreamError("timeout", exc.detail) from None
                raise
            if event is None or (event[1].strip() == b"[DONE]" and event[0] != "error"):
                break
            assembler.feed(_chunk(event))
        if not assembler.complete:
            raise UpstreamError("cut", "the stream ended before its finish_reason")
        served.body = assembler.body(served.candidate.model, int(time.time()))
        served.usage = usage_of({"usage": assembler.usage})
        served.head = []
        served.response.close()

    async def _whole_body(self, served: Served, limit: float) -> None:
        raw = await served.response.read_body(max(limit - self.clock(), 0.0))
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise UpstreamError("bad_body", "a body that is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list) or not data["choices"]:
            raise UpstreamError("bad_body", "a body without choices")
        served.body = raw
        served.first_token_at = self.clock()
        served.usage = usage_of(data)
        served.response.close()

    def _hook(self, candidate: Candidate, outcome: str, started: float) -> None:
        if self.on_attempt is not None:
            self.on_attempt(candidate, outcome, self.clock() - started)


def _chunk(event: Event) -> dict[str, object]:
    """One upstream SSE event as a chunk object; an error event or an error or non-object chunk fails."""
    name, data = event
    if name == "error":
        raise UpstreamError("sse_error", data[:200].decode("utf-8", "replace"))
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamError("bad_body", "a chunk that is not JSON") from None
    if not isinstance(chunk, dict) or chunk.get("error"):
        raise UpstreamError("sse_error", data[:200].decode("utf-8", "replace"))
    return chunk
