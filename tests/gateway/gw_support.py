"""Test support: a scriptable upstream on a real socket, the gateway on a real socket, and policies to vary.

`FakeUpstream` answers OpenAI chat completions for any model, doing per model what its `Script`
says (an error status with Retry-After, a slow first token, a stall or a cut mid-stream), and
records when each request arrived. It stands for a provider, not for one of our components: the
gateway under test is the real one, on its own port, reached over HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import yaml
from aiohttp import web

from gameday.config.policy import Policy
from gameday.gateway.app import build_app
from gameday.gateway.core import Gateway

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "stacks" / "policies" / "reference.yaml"
JSON = {"content-type": "application/json"}


@dataclass
class Script:
    """What the upstream does for one model. `times`: only the first N requests misbehave (None: all)."""

    status: int = 200
    retry_after: str | None = None
    headers_delay_s: float = 0.0  # before the response starts
    first_token_delay_s: float = 0.0  # streams: headers at once, then this long before the first token
    stall_after: int | None = None  # streams: after this many tokens, go silent for stall_s
    stall_s: float = 30.0
    cut_after: int | None = None  # streams: after this many tokens, drop the connection
    tokens: int = 4
    times: int | None = None
    seen: int = 0


@dataclass
class Hit:
    model: str
    at: float
    stream: bool
    body: dict[str, Any] = field(default_factory=dict)


class FakeUpstream:
    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.scripts: dict[str, Script] = {}
        self.hits: list[Hit] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    def script(self, model: str, **kw: Any) -> Script:
        self.scripts[model] = Script(**kw)
        return self.scripts[model]

    def count(self, model: str) -> int:
        return sum(1 for h in self.hits if h.model == model)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/pricing", self._pricing)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _pricing(self, request: web.Request) -> web.Response:
        return web.json_response({"provider": self.name, "currency": "USD", "models": {}})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        model = body["model"]
        stream = bool(body.get("stream"))
        self.hits.append(Hit(model, time.monotonic(), stream, body))
        script = self.scripts.get(model, Script())
        script.seen += 1
        faulty = script.times is None or script.seen <= script.times
        if not faulty:
            script = Script(tokens=script.tokens)
        if script.headers_delay_s:
            await asyncio.sleep(script.headers_delay_s)
        if script.status != 200:
            headers = {"Retry-After": script.retry_after} if script.retry_after else None
            error = {
                "error": {"message": f"scripted {script.status}", "type": "api_error", "param": None, "code": None}
            }
            return web.json_response(error, status=script.status, headers=headers)
        prompt = sum(len(str(m.get("content", ""))) for m in body["messages"]) // 4 + 3
        usage = {"prompt_tokens": prompt, "completion_tokens": script.tokens, "total_tokens": prompt + script.tokens}
        if not stream:
            return web.json_response(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "ok " * script.tokens},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
            return b"data: " + orjson.dumps(data) + b"\n\n"

        await response.write(chunk({"role": "assistant", "content": ""}))
        if script.first_token_delay_s:
            await asyncio.sleep(script.first_token_delay_s)
        for i in range(script.tokens):
            if script.stall_after is not None and i == script.stall_after:
                await asyncio.sleep(script.stall_s)
            if script.cut_after is not None and i == script.cut_after:
                request.transport.close()  # type: ignore[union-attr]
                return response
            await response.write(chunk({"content": f"tok{i} "}))
        await response.write(chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            final = {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            await response.write(b"data: " + orjson.dumps(final) + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def policy_data(**changes: Any) -> dict[str, Any]:
    """The reference policy as a dict, with top-level sections updated (`timeouts={"ttft_s": 0.3}` merges)."""
    data = yaml.safe_load(REFERENCE.read_text())
    for provider in data["providers"]:  # the tests set deadlines in `timeouts`: no model's own may win
        for model in provider["models"]:
            model.pop("ttft_s", None)
            model.pop("response_s", None)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def make_policy(**changes: Any) -> Policy:
    """A fast-failing reference policy (short timeouts, no feeds polling noise) with `changes` applied."""
    base: dict[str, Any] = {
        "timeouts": {"connect_s": 0.5, "ttft_s": 0.5, "stall_s": 0.5, "response_s": 2.0, "total_s": 10.0},
        "retry": {"backoff_base_s": 0.01, "backoff_cap_s": 0.05},
        "budget": {"ceiling_usd": None},
        "cache": {"ttl_s": 0},
        "prices": {"poll_feeds": False},
    }
    for key, value in changes.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) and key in base else value
    return Policy.model_validate(policy_data(**base))


@dataclass
class Running:
    url: str
    gateway: Gateway
    session: aiohttp.ClientSession

    async def chat(
        self, tier: str = "high", task: str = "chat", stream: bool = False, **body: Any
    ) -> tuple[int, dict[str, str], Any]:
        """POST a chat completion; returns status, headers, and the JSON body (or the SSE text for streams)."""
        payload = {"model": "auto", "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 16}
        payload.update(body)
        if stream:
            payload["stream"] = True
        headers = {**JSON, "x-gameday-tier": tier, "x-gameday-task": task}
        async with self.session.post(f"{self.url}/v1/chat/completions", json=payload, headers=headers) as reply:
            text = await reply.read()
            data: Any = text.decode() if stream and reply.status == 200 else orjson.loads(text)
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, data


@asynccontextmanager
async def running_gateway(
    policy: Policy, urls: dict[str, str], admin_token: str | None = None, **kw: Any
) -> AsyncIterator[Running]:
    gateway = Gateway(policy, upstream_urls=urls, **kw)
    runner = web.AppRunner(build_app(gateway, admin_token), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            yield Running(url, gateway, session)
        finally:
            await runner.cleanup()


def all_to(url: str) -> dict[str, str]:
    """Every provider of the reference policy at `url`."""
    return {"premium": url, "efficient": url, "local-vllm": url}


def run(test: Callable[[], Awaitable[None]], timeout: float = 30.0) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


def sse_chunks(text: str) -> list[Any]:
    """The JSON payloads of an SSE body ([DONE] as the string)."""
    out: list[Any] = []
    for line in text.splitlines():
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else orjson.loads(data))
    return out
