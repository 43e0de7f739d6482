"""The gateway's admin API under `/admin/`: kill switch, route overrides, policy reload, and what it believes.

Only loopback peers may call it, with `Authorization: Bearer $GAMEDAY_ADMIN_TOKEN`; without that
variable the API answers 503 saying how to enable it. Handlers are thin: check, parse, call the
gateway, serialize. Errors use OpenAI's error shape, like the rest of the gateway.

    POST   /admin/kill-switch              {"model"?}  everything goes to `model` (default: the policy's baseline)
    DELETE /admin/kill-switch
    POST   /admin/routes/{route}/override  {"model"}   the route serves only `model`
    DELETE /admin/routes/{route}/override
    POST   /admin/policy/reload                        re-read the policy file; a bad file leaves the old one
    POST   /admin/reset                                kill switch and every route override off (`gameday reset`)
    POST   /admin/prices/refresh                       poll every /pricing feed now
    GET    /admin/budget | /admin/breakers | /admin/prices | /admin/state
"""

from __future__ import annotations

import hmac
import inspect
import ipaddress
import os
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from gameday.errors import ConfigError, GamedayError

__all__ = ["TOKEN_ENV", "admin_routes"]

TOKEN_ENV = "GAMEDAY_ADMIN_TOKEN"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Refused(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.status = status
        self.param = param
        self.code = code


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(status: int, message: str, param: str | None = None, code: str = "invalid_value") -> web.Response:
    kind = "invalid_request_error" if status < 500 else "api_error"
    return _json({"error": {"message": message, "type": kind, "param": param, "code": code}}, status)


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _guarded(handler: Handler, token: str | None) -> Handler:
    expected = f"Bearer {token}".encode() if token else None

    async def guarded(request: web.Request) -> web.StreamResponse:
        if not _is_loopback(request.remote):
            return _error(403, "the admin API answers loopback peers only; call it via 127.0.0.1", code="forbidden")
        if expected is None:
            return _error(
                503,
                f"the admin API is disabled: {TOKEN_ENV} is not set in the gateway's environment. Restart the "
                f"gateway with {TOKEN_ENV}=<token> (`gameday up` writes one to .gameday/state.json).",
                code="admin_disabled",
            )
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return _error(
                401,
                f"missing or wrong admin token: send `Authorization: Bearer ${TOKEN_ENV}` with the gateway's token",
                code="unauthorized",
            )
        try:
            return await handler(request)
        except _Refused as exc:
            return _error(exc.status, str(exc), exc.param, exc.code)

    return guarded


async def _model_field(request: web.Request, default: str | None = None) -> str:
    """The body's `model`: a non-empty string, or `default` when the body has none and a default exists."""
    raw = await request.read()
    if not raw.strip():
        body: Any = {}
    else:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _Refused(400, 'body: not valid JSON; send {"model": "<model name>"}', "body") from None
    if not isinstance(body, dict):
        raise _Refused(400, 'body: expected a JSON object like {"model": "<model name>"}', "body")
    unknown = sorted(set(body) - {"model"})
    if unknown:
        raise _Refused(400, f"{unknown[0]}: unknown field; the only field is model", unknown[0])
    model = body.get("model", default)
    if model is None:
        raise _Refused(400, 'model: required, e.g. {"model": "swift-mini"}', "model", "missing")
    if not isinstance(model, str) or not model.strip():
        raise _Refused(400, f"model: expected a model name (a non-empty string), got {model!r}", "model")
    return model


async def _call(func: Callable[..., Any], *args: Any, param: str | None = None) -> Any:
    """Call a gateway method (sync or async) and map its refusals to HTTP statuses."""
    try:
        result = func(*args)
        if inspect.isawaitable(result):
            result = await result
    except _Refused:
        raise
    except KeyError as exc:
        what = str(exc.args[0]) if exc.args else "name"
        message = what if " " in what else f"unknown {what!r}"  # KeyError(name) or KeyError("a sentence")
        raise _Refused(404, f"{param or 'name'}: {message}", param, "not_found") from None
    except GamedayError as exc:  # the gateway's own errors may carry their HTTP status
        status = getattr(exc, "status", None)
        status = status if isinstance(status, int) else 400 if isinstance(exc, ConfigError) else 409
        raise _Refused(status, str(exc), getattr(exc, "param", None) or param) from None
    except ValueError as exc:
        raise _Refused(400, str(exc), param) from None
    return result


def _check_names(gateway: Any, route: str | None = None, model: str | None = None) -> None:
    """Refuse unknown routes and models by name, listing the valid ones, when the gateway has a policy."""
    policy = getattr(gateway, "policy", None)
    routes = [r.name for r in getattr(policy, "routes", None) or []]
    models = list(getattr(policy, "model_names", None) or [])
    if route is not None and routes and route not in routes:
        raise _Refused(404, f"route: unknown route {route!r}; routes: {', '.join(routes)}", "route", "not_found")
    if model is not None and models and model not in models:
        raise _Refused(400, f"model: unknown model {model!r}; models: {', '.join(models)}", "model")


def _breakers(gateway: Any) -> dict[str, Any]:
    return {name: breaker.snapshot() for name, breaker in gateway.breakers.items()}


def _state(gateway: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "kill_switch": gateway.kill_switch,
        "route_overrides": dict(gateway.route_overrides),
        "budget": gateway.budget.status(),
        "breakers": _breakers(gateway),
    }
    prices = getattr(gateway, "prices", None)
    if prices is not None:
        state["prices"] = prices.snapshot()
    cache = getattr(gateway, "cache", None)
    if cache is not None:
        state["cache"] = cache.stats()
    return state


def admin_routes(gateway: Any, token: str | None = None) -> list[web.RouteDef]:
    """Routes to add to the gateway's app. `token` defaults to `$GAMEDAY_ADMIN_TOKEN`, read now."""
    token = token if token is not None else os.environ.get(TOKEN_ENV) or None

    async def kill_switch_on(request: web.Request) -> web.Response:
        policy = getattr(gateway, "policy", None)
        model = await _model_field(request, default=getattr(policy, "baseline_model", None))
        _check_names(gateway, model=model)
        await _call(gateway.set_kill_switch, model, param="model")
        return _json({"kill_switch": gateway.kill_switch})

    async def kill_switch_off(request: web.Request) -> web.Response:
        await _call(gateway.set_kill_switch, None)
        return _json({"kill_switch": gateway.kill_switch})

    async def override_on(request: web.Request) -> web.Response:
        route = request.match_info["route"]
        model = await _model_field(request)
        _check_names(gateway, route=route, model=model)
        await _call(gateway.set_route_override, route, model, param="model")
        return _json({"route_overrides": dict(gateway.route_overrides)})

    async def override_off(request: web.Request) -> web.Response:
        route = request.match_info["route"]
        _check_names(gateway, route=route)
        await _call(gateway.set_route_override, route, None, param="route")
        return _json({"route_overrides": dict(gateway.route_overrides)})

    async def reset(request: web.Request) -> web.Response:
        # What a killed run's runbook steps may have left: the policy's own routing comes back.
        await _call(gateway.set_kill_switch, None)
        for route in list(gateway.route_overrides):
            await _call(gateway.set_route_override, route, None, param="route")
        return _json({"kill_switch": gateway.kill_switch, "route_overrides": dict(gateway.route_overrides)})

    async def reload_policy(request: web.Request) -> web.Response:
        try:
            result = await _call(gateway.reload_policy)
        except _Refused as exc:
            if exc.status == 400:  # the file is wrong, not this request: the old policy stays
                raise _Refused(422, f"policy not reloaded, the running one stays: {exc}", exc.param) from None
            raise
        return _json({"reloaded": True, **(result if isinstance(result, dict) else {})})

    async def refresh_prices(request: web.Request) -> web.Response:
        prices = getattr(gateway, "prices", None)
        if prices is None:
            raise _Refused(404, "this gateway polls no /pricing feeds (policy prices.poll_feeds is false)")
        return _json(await _call(prices.refresh))

    async def get_prices(request: web.Request) -> web.Response:
        prices = getattr(gateway, "prices", None)
        if prices is None:
            raise _Refused(404, "this gateway polls no /pricing feeds (policy prices.poll_feeds is false)")
        return _json(prices.snapshot())

    async def get_budget(request: web.Request) -> web.Response:
        return _json(gateway.budget.status())

    async def get_breakers(request: web.Request) -> web.Response:
        return _json(_breakers(gateway))

    async def get_state(request: web.Request) -> web.Response:
        return _json(_state(gateway))

    table: list[tuple[str, str, Handler]] = [
        ("POST", "/admin/kill-switch", kill_switch_on),
        ("DELETE", "/admin/kill-switch", kill_switch_off),
        ("POST", "/admin/routes/{route}/override", override_on),
        ("DELETE", "/admin/routes/{route}/override", override_off),
        ("POST", "/admin/policy/reload", reload_policy),
        ("POST", "/admin/reset", reset),
        ("POST", "/admin/prices/refresh", refresh_prices),
        ("GET", "/admin/prices", get_prices),
        ("GET", "/admin/budget", get_budget),
        ("GET", "/admin/breakers", get_breakers),
        ("GET", "/admin/state", get_state),
    ]
    return [web.route(method, path, _guarded(handler, token)) for method, path, handler in table]
