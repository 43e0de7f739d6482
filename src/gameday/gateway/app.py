"""The HTTP front: thin handlers that read, call `Gateway.complete`, and write; errors through `to_http`.

POST /v1/chat/completions   OpenAI-compatible, streamed or not
GET  /v1/models             `auto` and every model of the policy
GET  /healthz               200 while serving, with breakers and the kill switch
GET  /metrics               Prometheus text
/admin/...                  gameday.gateway.admin (loopback, bearer token)
"""

from __future__ import annotations

import logging
import time

import orjson
from aiohttp import web

from gameday.gateway.admin import admin_routes
from gameday.gateway.core import Gateway, StreamReply
from gameday.gateway.errors import PayloadTooLarge, UnsupportedMedia, to_http
from gameday.gateway.headers import error_headers

__all__ = ["build_app"]

log = logging.getLogger(__name__)
JSON = "application/json"
GATEWAY_KEY = web.AppKey("gateway", Gateway)
# aiohttp's own limit stays above the policy's, so that the policy (which may be reloaded) decides.
CLIENT_MAX_SIZE = 1 << 30


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type=JSON, headers=headers)


def error_response(exc: BaseException) -> web.Response:
    status, body = to_http(exc)
    return _json(body, status, error_headers(exc))


def _check_media(request: web.Request) -> None:
    declared = request.headers.get("Content-Type")
    if declared is None:
        return  # curl -d without -H: take it as JSON rather than refuse
    media = request.content_type
    if media != JSON and not media.endswith("+json"):
        raise UnsupportedMedia(
            f"Content-Type {media!r} is not supported; send the body as application/json", None, "unsupported_media"
        )


async def _read(request: web.Request, limit: int) -> bytes:
    length = request.content_length
    if length is not None:
        if length > limit:
            raise PayloadTooLarge(f"the body is {length} bytes, over the limit of {limit}", None, "too_large")
        return await request.read()
    chunks: list[bytes] = []  # chunked upload: stop reading as soon as it passes the limit
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes", None, "too_large")
        chunks.append(chunk)
    return b"".join(chunks)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    gateway = request.app[GATEWAY_KEY]
    started = time.monotonic()
    gateway.metrics.in_flight.inc()
    try:
        try:
            _check_media(request)
            raw = await _read(request, gateway.policy.guardrails.max_body_bytes)
            reply = await gateway.complete(raw, request.headers)
        except Exception as exc:
            if getattr(exc, "status", None) is None:
                log.exception("bug: unexpected error while handling a chat completion")
            gateway.count_error(exc, time.monotonic() - started)
            return error_response(exc)
        if not isinstance(reply, StreamReply):
            return web.Response(body=reply.body, status=reply.status, content_type=JSON, headers=reply.headers)
        response = web.StreamResponse(headers={**reply.headers, "Cache-Control": "no-cache"})
        response.content_type = "text/event-stream"
        try:
            await response.prepare(request)
            write = response.write
        except ConnectionError:
            write = _gone
        await reply.pump(write)  # always pumped: it settles the budget and tells the breaker
        try:
            await response.write_eof()
        except ConnectionError:
            pass
        return response
    finally:
        gateway.metrics.in_flight.dec()


async def _gone(data: bytes) -> None:
    raise ConnectionResetError("the client went away before the stream started")


async def list_models(request: web.Request) -> web.Response:
    policy = request.app[GATEWAY_KEY].policy
    data = [{"id": "auto", "object": "model", "created": 0, "owned_by": "gameday-gateway"}]
    data += [
        {"id": m.name, "object": "model", "created": 0, "owned_by": p.name} for p in policy.providers for m in p.models
    ]
    return _json({"object": "list", "data": data})


async def healthz(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    open_breakers = sorted(name for name, b in gateway.breakers.items() if b.state != "closed")
    return _json(
        {"status": "ok", "policy": gateway.policy.name, "kill_switch": gateway.kill_switch, "breakers": open_breakers}
    )


async def metrics(request: web.Request) -> web.Response:
    text = request.app[GATEWAY_KEY].metrics.render()
    return web.Response(body=text.encode(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def build_app(gateway: Gateway, admin_token: str | None = None) -> web.Application:
    app = web.Application(client_max_size=CLIENT_MAX_SIZE)
    app[GATEWAY_KEY] = gateway
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_routes(admin_routes(gateway, admin_token))

    async def start(app: web.Application) -> None:
        await gateway.start()

    async def stop(app: web.Application) -> None:
        await gateway.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app
