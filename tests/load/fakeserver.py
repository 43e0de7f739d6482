"""A tiny OpenAI-compatible server whose misbehaviour is chosen by the request's `model`.

Run as `python tests/load/fakeserver.py --port 0 --ready-file F [--log FILE] [--seed N]`.
Each request's `model` picks what happens (`ok`, `hang`, `reset`, `cut`, `http500`, ...), so one
server and one workload with one class per behaviour exercise every failure kind in one run.
With `--log`, every request it answered is appended as a JSON line (the server-side truth the
tests compare the load's records with: what arrived, with which request id, what delay was applied).

`dist` answers after a known latency: lognormal (median `--delay-median-s`, shape `--delay-sigma`),
drawn at random, or with `--delay-strata N` taken from blocks of the N quantile midpoints
((i + 0.5) / N), each block shuffled: any whole number of blocks holds the distribution's
quantiles exactly, so the truth a test compares with is the formula, not a sample.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import socket
import statistics
import struct
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from gameday.serving import serve

GAMEDAY_HEADERS = {
    "x-gameday-model": "served-model",
    "x-gameday-provider": "prov-a",
    "x-gameday-route": "primary",
    "x-gameday-attempts": "2",
    "x-gameday-fallback": "upstream_5xx",
    "x-gameday-cost-usd": "0.00125",
}
WORDS = ["alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta ", "eta ", "theta "]


class State:
    def __init__(self, args: argparse.Namespace) -> None:
        self.rng = random.Random(args.seed)
        log: Path | None = Path(args.log) if args.log else None
        self.log = log.open("a", encoding="utf-8") if log else None
        self.count = 0
        self.stall_s = args.stall_s
        self.stall_start_s = args.stall_start_s
        self.stall_until: float | None = None
        self.delay_median_s = args.delay_median_s
        self.delay_sigma = args.delay_sigma
        self.delay_strata = args.delay_strata
        self.block: list[float] = []

    def next_delay(self) -> float:
        if self.delay_strata <= 0:
            return self.rng.lognormvariate(0.0, self.delay_sigma) * self.delay_median_s
        if not self.block:
            self.block = [
                lognormal_quantile((i + 0.5) / self.delay_strata, self.delay_median_s, self.delay_sigma)
                for i in range(self.delay_strata)
            ]
            self.rng.shuffle(self.block)
        return self.block.pop()

    def write(self, row: dict[str, Any]) -> None:
        if self.log is not None:
            self.log.write(json.dumps(row) + "\n")
            self.log.flush()


def lognormal_quantile(q: float, median: float, sigma: float) -> float:
    """The q-quantile of a lognormal with this median and shape (the truth calibration is judged against)."""
    return median * math.exp(sigma * statistics.NormalDist().inv_cdf(q))


def chunk(content: str | None = None, finish: str | None = None, model: str = "served-model") -> bytes:
    delta = {"content": content} if content is not None else {}
    data = {"id": "c1", "object": "chat.completion.chunk", "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
    return f"data: {json.dumps(data)}\n\n".encode()


def completion(text: str, model: str = "served-model", extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "c1",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }
    body.update(extra or {})
    return body


def rst(request: web.Request) -> None:
    """Close with a TCP reset (SO_LINGER 0), the way a crashed peer or Toxiproxy's reset_peer does."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def answer(
    request: web.Request, state: State, body: dict[str, Any], headers: dict[str, str]
) -> web.StreamResponse:
    stream = bool(body.get("stream"))
    tokens = 5
    if stream:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **headers})
        await response.prepare(request)
        for i in range(tokens):
            await response.write(chunk(WORDS[i % len(WORDS)], model=headers.get("x-body-model", "served-model")))
        await response.write(chunk(None, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"id": "c1", "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": tokens}}
            await response.write(f"data: {json.dumps(usage)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
    return web.json_response(completion("".join(WORDS[:tokens])), headers=headers)


async def chat(request: web.Request) -> web.StreamResponse:
    state: State = request.app["state"]
    received = time.monotonic()
    state.count += 1
    raw = await request.read()
    row: dict[str, Any] = {"event": "arrived", "task": request.headers.get("x-gameday-task"),
                           "tier": request.headers.get("x-gameday-tier"), "at": received,
                           "id": request.headers.get("x-gameday-request-id")}  # fmt: skip
    try:
        body = json.loads(raw)
        model = str(body.get("model", "ok"))
    except (ValueError, AttributeError, RecursionError):  # the malformed corpus: refused, never a crash
        state.write({**row, "model": None})
        return web.json_response({"error": {"message": "bad json", "type": "invalid_request_error"}}, status=400)
    row.update(model=model, stream=bool(body.get("stream")))
    state.write(row)
    done: dict[str, Any] = {"event": "done", "model": model, "at": received, "id": row["id"]}
    try:
        return await behave(request, state, body, model, done, received)
    finally:
        done["handler_s"] = time.monotonic() - received
        state.write(done)


async def behave(
    request: web.Request, state: State, body: dict[str, Any], model: str, row: dict[str, Any], received: float
) -> Any:
    stream = bool(body.get("stream"))
    if model == "ok":
        return await answer(request, state, body, GAMEDAY_HEADERS)
    if model == "plain":  # an OpenAI-style server: no gateway headers, the body names the model
        return await answer(request, state, body, {"x-body-model": "plain-served"} if stream else {})
    if model == "custom":  # another gateway: its own headers and a cost in the body
        headers = {"x-alt-model": "alt-served", "x-alt-provider": "alt-prov", "x-alt-cost": "0.5"}
        return web.json_response(completion("hello there", extra={"meta": {"route": "r9"}}), headers=headers)
    if model == "hang":
        await asyncio.sleep(30)
    if model == "reset":
        rst(request)
        return web.Response()
    if model == "cut":
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(chunk("half "))
        await response.write(chunk("an "))
        await asyncio.sleep(0.05)
        rst(request)
        return response
    if model == "truncated":  # a streamed body that ends cleanly but without a finish or [DONE]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(chunk("half "))
        await response.write_eof()
        return response
    if model.startswith("http"):
        status = int(model[4:])
        return web.json_response({"error": {"message": model, "type": "test", "param": None, "code": None}},
                                 status=status, headers={"x-gameday-model": "err-model"})  # fmt: skip
    if model == "badbody":
        return web.Response(body=b"this is not json", content_type="application/json")
    if model == "badchunk":
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(chunk("fine "))
        await response.write(b'data: {"choices": [ {"delta": \n\n')
        await response.write(chunk(None, "stop"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
    if model == "sseerror":
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(chunk("starting "))
        await response.write(b'event: error\ndata: {"error": {"message": "upstream died", "type": "server_error"}}\n\n')
        await response.write_eof()
        return response
    if model == "dist":  # a known latency distribution, counted from the request's arrival; both are logged
        delay = state.next_delay()
        await asyncio.sleep(max(0.0, delay - (time.monotonic() - received)))
        row["planned_s"] = delay
        row["delay_s"] = time.monotonic() - received
        return web.json_response(completion("measured"), headers=GAMEDAY_HEADERS)
    if model.startswith("sleep"):  # `sleep0.1`: a fixed delay
        await asyncio.sleep(float(model[5:]))
        return web.json_response(completion("slept"), headers=GAMEDAY_HEADERS)
    if model == "stall":  # the first request opens a stall window; everything arriving in it waits it out
        now = time.monotonic()
        if state.stall_until is None:
            state.stall_until = now + state.stall_start_s + state.stall_s
            state.write({"event": "stall", "from": state.stall_until - state.stall_s, "until": state.stall_until})
        if now < state.stall_until - state.stall_s:
            pass
        elif now < state.stall_until:
            await asyncio.sleep(state.stall_until - now)
        return web.json_response(completion("ok"), headers=GAMEDAY_HEADERS)
    if model == "fast":  # zero latency, minimal work: for capacity benchmarks
        return await answer(request, state, body, {})
    return web.json_response({"error": {"message": f"unknown model {model}", "type": "test"}}, status=404)


async def count(request: web.Request) -> web.Response:
    return web.json_response({"count": request.app["state"].count})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file")
    parser.add_argument("--log")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stall-s", type=float, default=1.0)
    parser.add_argument("--delay-median-s", type=float, default=0.2)
    parser.add_argument("--delay-sigma", type=float, default=0.5)
    parser.add_argument("--delay-strata", type=int, default=0)
    parser.add_argument("--stall-start-s", type=float, default=0.3)
    args = parser.parse_args()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app["state"] = State(args)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/count", count)
    serve(app, args.host, args.port, "fakeserver", args.ready_file, None)


if __name__ == "__main__":
    main()
