"""`POST /v1/chat/completions`: read, refuse or admit, generate, then bill and count what happened.

The order is fixed: body checks (400/404), the request's plan (seeded draws), injected errors,
rate limits, then a slot (waiting in the queue, or 429/503/529 when it is full). Once a slot is
held the request is charged for its prompt and every token it sent, at the price of its start.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from gameday.mocks.chat_request import ChatRequest, parse_chat_request
from gameday.mocks.controls import Price
from gameday.mocks.generation import Generation, Outcome
from gameday.mocks.plan import Plan, make_plan
from gameday.mocks.rejections import injected_error, overloaded, rate_limited
from gameday.mocks.slots import ClientGone, Overloaded
from gameday.mocks.state import MockState, ModelRuntime
from gameday.mocks.tokens import count_messages
from gameday.mocks.wire import ApiError

__all__ = ["chat_completions", "read_json"]

RESPONSE_ERRORS = {"stream_cut", "sse_error", "truncated_body", "client_gone"}


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"We could not parse the JSON body of your request ({exc}). Send a JSON object "
            "with Content-Type: application/json.",
            code="invalid_json",
        ) from None


def _model(state: MockState, req: ChatRequest) -> ModelRuntime:
    runtime = state.models.get(req.model)
    if runtime is None:
        served = ", ".join(sorted(state.models))
        raise ApiError(
            404,
            f"The model {req.model!r} does not exist or you do not have access to it. "
            f"{state.provider} serves: {served}.",
            param="model",
            code="model_not_found",
        )
    return runtime


def _check_context(runtime: ModelRuntime, req: ChatRequest, prompt_tokens: int) -> None:
    window = runtime.profile.context_window
    wanted = prompt_tokens + (req.max_tokens or 0)
    if prompt_tokens >= window or wanted > window:
        completion = f", {req.max_tokens} in the completion" if req.max_tokens else ""
        raise ApiError(
            400,
            f"This model's maximum context length is {window} tokens. However, you requested {wanted} tokens "
            f"({prompt_tokens} in the messages{completion}). Please reduce the length of the messages or completion.",
            param="messages",
            code="context_length_exceeded",
        )


def _count_error(state: MockState, model: str, err: ApiError, kind: str) -> None:
    labels = state.metrics.label(model)
    state.metrics.errors.inc(*labels, kind)
    state.metrics.requests.inc(*labels, str(err.status))


def _rate_headers(runtime: ModelRuntime) -> dict[str, str]:
    if runtime.limiter is None:
        return {}
    headers = {}
    for name, (limit, remaining) in runtime.limiter.remaining().items():
        headers[f"x-ratelimit-limit-{name}"] = str(limit)
        headers[f"x-ratelimit-remaining-{name}"] = str(remaining)
    return headers


async def chat_completions(request: web.Request, state: MockState) -> web.StreamResponse:
    task = asyncio.current_task()
    if task is None:  # pragma: no cover - aiohttp always runs handlers in a task
        return await _chat_completions(request, state)
    state.in_flight.add(task)
    try:
        return await _chat_completions(request, state)
    finally:
        state.in_flight.discard(task)


async def _read_request(request: web.Request, state: MockState) -> tuple[ChatRequest, ModelRuntime, int]:
    """The body, its model and its prompt's tokens; 400/404 (counted) when they are wrong."""
    body = None
    try:
        body = await read_json(request)
        req = parse_chat_request(body)
        runtime = _model(state, req)
    except ApiError as err:
        named = body.get("model") if isinstance(body, dict) else None
        label = named if isinstance(named, str) and named in state.models else "unknown"
        _count_error(state, label, err, err.code if err.code == "model_not_found" else "invalid_request")
        raise
    prompt_tokens = count_messages(req.contents)
    try:
        _check_context(runtime, req, prompt_tokens)
    except ApiError as err:
        _count_error(state, runtime.name, err, "context_length_exceeded")
        raise
    return req, runtime, prompt_tokens


async def _admit(request: web.Request, state: MockState, runtime: ModelRuntime, req: ChatRequest, plan: Plan,
                 prompt_tokens: int) -> None:  # fmt: skip
    """Injected error, rate limit, then a slot (waiting in the queue); raises the refusal, counted."""
    name = runtime.name
    if plan.error is not None:
        err = injected_error(plan.error, name)
        _count_error(state, name, err, f"injected_{err.status}")
        raise err
    if runtime.limiter is not None:
        limited = runtime.limiter.admit(prompt_tokens + (req.max_tokens or round(runtime.profile.output_tokens.mean)))
        if limited is not None:
            err = rate_limited(limited, name)
            _count_error(state, name, err, "rate_limited")
            raise err
    try:
        await state.capacity.pools[name].acquire(lambda: request.transport is None or request.transport.is_closing())
    except Overloaded as exc:
        err = overloaded(runtime.profile.capacity.overload_status, name, exc.running, exc.waiting)
        _count_error(state, name, err, "overloaded")
        raise err from None


async def _chat_completions(request: web.Request, state: MockState) -> web.StreamResponse:
    loop = asyncio.get_running_loop()
    arrived = loop.time()
    req, runtime, prompt_tokens = await _read_request(request, state)
    name = runtime.name
    plan = make_plan(state, runtime, req, prompt_tokens)
    price = state.prices.current(name)  # the price in effect when the request started
    try:
        await _admit(request, state, runtime, req, plan, prompt_tokens)
    except ClientGone:
        state.metrics.errors.inc(*state.metrics.label(name), "client_gone")
        return web.Response(status=499)
    admitted = loop.time()
    pool = state.capacity.pools[name]
    gen = Generation(plan, runtime.profile.capacity, pool, prompt_tokens, name, int(state.wall_clock()))
    reserved = prompt_tokens + len(plan.tokens)  # KV cache held while running: prompt and answer
    state.metrics.kv_tokens[name] += reserved
    outcome: Outcome = "client_gone"
    response: web.StreamResponse | None = None
    try:
        if req.stream:
            outcome = await gen.stream(request, req.include_usage, _rate_headers(runtime))
            response = gen.response
        else:
            response, outcome = await gen.whole(request, _rate_headers(runtime))
    except (ClientGone, ConnectionError):
        outcome = "client_gone"
        response = gen.response  # a response already begun must be the one returned
    finally:
        pool.release()
        state.metrics.kv_tokens[name] -= reserved
        _account(state, name, gen, price, prompt_tokens, outcome, arrived, admitted, loop.time())
    return response if response is not None else web.Response(status=499)


def _account(
    state: MockState,
    model: str,
    gen: Generation,
    price: Price,
    prompt_tokens: int,
    outcome: Outcome,
    arrived: float,
    admitted: float,
    ended: float,
) -> None:
    m = state.metrics
    labels = m.label(model)
    usd = state.bill.charge(model, price, prompt_tokens, gen.sent)
    m.spend.inc(*labels, amount=usd)
    m.prompt_tokens.inc(*labels, amount=prompt_tokens)
    m.output_tokens.inc(*labels, amount=gen.sent)
    m.queue.observe(admitted - arrived, *labels)
    m.requests.inc(*labels, "200")
    if gen.first_token_at is not None:
        m.ttft.observe(gen.first_token_at - arrived, *labels)
    for gap in gen.gaps:
        m.itl.observe(gap, *labels)
    if outcome in RESPONSE_ERRORS:
        m.errors.inc(*labels, outcome)
        m.success.inc(*labels, "abort")
    else:
        m.success.inc(*labels, gen.plan.finish_reason)
        m.e2e.observe(ended - arrived, *labels)
