"""The mock provider's aiohttp app: the OpenAI-compatible endpoints, `/pricing`, `/metrics`, `/admin/`.

One middleware maps every `ApiError` (and aiohttp's 404/405) to OpenAI's error body, and guards
`/admin/` (loopback, bearer token) before any admin handler runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from gameday.mocks.admin import admin_routes, check_admin_access
from gameday.mocks.completions import chat_completions
from gameday.mocks.state import MockState
from gameday.mocks.wire import ApiError, json_response

__all__ = ["build_app"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
StateHandler = Callable[[web.Request, MockState], Awaitable[web.StreamResponse]]


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


async def list_models(request: web.Request, state: MockState) -> web.StreamResponse:
    created = int(state.started_at)
    data = [
        {
            "id": name,
            "object": "model",
            "created": created,
            "owned_by": state.provider,
            "context_window": runtime.profile.context_window,
            "max_model_len": runtime.profile.context_window,
        }
        for name, runtime in state.models.items()
    ]
    return json_response({"object": "list", "data": data})


async def get_model(request: web.Request, state: MockState) -> web.StreamResponse:
    name = request.match_info["model"]
    if name not in state.models:
        raise ApiError(404, f"The model '{name}' does not exist.", param="model", code="model_not_found")
    created = int(state.started_at)
    return json_response({"id": name, "object": "model", "created": created, "owned_by": state.provider})


async def health(request: web.Request, state: MockState) -> web.StreamResponse:
    return json_response({"status": "ok"})


async def pricing(request: web.Request, state: MockState) -> web.StreamResponse:
    models = {name: {"input": p["input"], "output": p["output"]} for name, p in state.prices.describe().items()}
    return json_response(
        {
            "provider": state.provider,
            "currency": "USD",
            "unit": "per_million_tokens",
            "models": models,
            "updated_at": _iso(state.prices.updated_at),
        }
    )


async def metrics(request: web.Request, state: MockState) -> web.StreamResponse:
    return web.Response(
        body=state.metrics.render().encode(), headers={"Content-Type": state.metrics.registry.content_type}
    )


def _middleware(state: MockState) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if request.path.startswith("/admin/"):
                check_admin_access(request, state)
            return await handler(request)
        except ApiError as err:
            return err.response()
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
            return ApiError(exc.status, f"Invalid URL ({request.method} {request.path}).").response()

    return api_errors


def build_app(state: MockState) -> web.Application:
    app = web.Application(middlewares=[_middleware(state)], client_max_size=64 * 1024 * 1024)
    routes: list[tuple[str, str, StateHandler]] = [
        ("POST", "/v1/chat/completions", chat_completions),
        ("GET", "/v1/models", list_models),
        ("GET", "/v1/models/{model}", get_model),
        ("GET", "/health", health),
        ("GET", "/pricing", pricing),
        ("GET", "/metrics", metrics),
        *admin_routes(),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, _bind(handler, state))

    async def stop_completions(_: web.Application) -> None:
        state.cancel_in_flight()

    app.on_shutdown.append(stop_completions)
    return app


def _bind(handler: StateHandler, state: MockState) -> Handler:
    async def bound(request: web.Request) -> web.StreamResponse:
        return await handler(request, state)

    bound.__name__ = handler.__name__
    return bound
