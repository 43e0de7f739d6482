"""The admin API under `/admin/`: loopback peers only, `Authorization: Bearer $GAMEDAY_ADMIN_TOKEN`.

Thin handlers: check the body against its model (`admin_bodies`), call the control, answer its
state. `gameday.faults.mock_admin.MockAdminClient` is the client; its bodies are the contract.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from gameday.mocks.admin_bodies import FAULT_BODIES, CapacityBody, ErrorsBody, PriceBody
from gameday.mocks.completions import read_json
from gameday.mocks.state import MockState
from gameday.mocks.wire import ApiError, json_response

__all__ = ["admin_routes", "check_admin_access"]

BodyT = TypeVar("BodyT", bound=BaseModel)
Handler = Callable[[web.Request, MockState], Awaitable[web.StreamResponse]]


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


def check_admin_access(request: web.Request, state: MockState) -> None:
    """403 for a peer off loopback, 503 when no token was set, 401 for a missing or wrong token."""
    if not _is_loopback(request.remote):
        raise ApiError(
            403,
            f"The admin API answers loopback peers only; {request.remote} is not loopback. Call it via 127.0.0.1.",
            type="permission_error",
            code="admin_loopback_only",
        )
    if state.admin_token is None:
        raise ApiError(
            503,
            "The admin API is disabled: this mock was started without GAMEDAY_ADMIN_TOKEN. "
            "Restart it with GAMEDAY_ADMIN_TOKEN set (`gameday up` sets one per stack).",
            type="server_error",
            code="admin_disabled",
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), state.admin_token.encode()):
        raise ApiError(
            401,
            "Admin token missing or wrong. Send `Authorization: Bearer <token>` with the GAMEDAY_ADMIN_TOKEN "
            "the mock was started with (`admin_token` in .gameday/state.json).",
            type="authentication_error",
            code="invalid_admin_token",
            headers={"WWW-Authenticate": "Bearer"},
        )


def _field_error(exc: ValidationError, model: type[BaseModel] | None) -> ApiError:
    first = exc.errors(include_url=False)[0]
    loc = [str(p) for p in first["loc"]]
    if first["type"].startswith("union_tag"):
        loc = ["kind"]
    elif model is None and loc:
        loc = loc[1:]  # a fault's loc starts with its kind tag
    field = ".".join(loc) or "(body)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown field; remove it or fix its spelling"
        if model is not None:
            message += f". Allowed fields: {', '.join(model.model_fields)}"
    elif first["type"] == "missing":
        message = "required field is missing"
    return ApiError(400, f"{field}: {message}.", param=field, code="invalid_admin_body")


def _parse(model: type[BodyT], data: Any) -> BodyT:
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.", code="invalid_admin_body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _field_error(exc, model) from None


def _known_model(state: MockState, model: str | None) -> None:
    if model is not None and model not in state.models:
        raise ApiError(
            400,
            f"model: unknown model {model!r}. Models of {state.provider}: {', '.join(sorted(state.models))}.",
            param="model",
            code="invalid_admin_body",
        )


def _state(state: MockState) -> dict[str, Any]:
    return {
        "provider": state.provider,
        "seed": state.seed,
        "errors": state.errors.describe(),
        "faults": state.faults.describe(),
        "prices": state.prices.describe(),
        "capacity": state.capacity.describe(),
    }


async def get_state(request: web.Request, state: MockState) -> web.StreamResponse:
    return json_response(_state(state))


async def post_errors(request: web.Request, state: MockState) -> web.StreamResponse:
    body = _parse(ErrorsBody, await read_json(request))
    _known_model(state, body.model)
    state.errors.set(body)
    return json_response({"errors": state.errors.describe()})


async def delete_errors(request: web.Request, state: MockState) -> web.StreamResponse:
    state.errors.clear()
    return json_response({"errors": []})


async def post_prices(request: web.Request, state: MockState) -> web.StreamResponse:
    body = _parse(PriceBody, await read_json(request))
    _known_model(state, body.model)
    state.prices.set(body)
    return json_response({"prices": state.prices.describe()})


async def delete_prices(request: web.Request, state: MockState) -> web.StreamResponse:
    state.prices.restore()
    return json_response({"prices": state.prices.describe()})


async def post_capacity(request: web.Request, state: MockState) -> web.StreamResponse:
    body = _parse(CapacityBody, await read_json(request))
    _known_model(state, body.model)
    state.capacity.set(body.model, body.max_concurrency, body.max_queue)
    return json_response({"capacity": state.capacity.describe()})


async def delete_capacity(request: web.Request, state: MockState) -> web.StreamResponse:
    state.capacity.restore()
    return json_response({"capacity": state.capacity.describe()})


async def post_fault(request: web.Request, state: MockState) -> web.StreamResponse:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.", code="invalid_admin_body")
    try:
        body = FAULT_BODIES.validate_python(data)
    except ValidationError as exc:
        raise _field_error(exc, None) from None
    _known_model(state, body.model)
    rule = state.faults.add(body)
    return json_response({"id": rule.id, "fault": state.faults.describe()[-1]}, status=201)


async def delete_fault(request: web.Request, state: MockState) -> web.StreamResponse:
    fault_id = request.match_info["fault_id"]
    if not state.faults.remove(fault_id):
        raise ApiError(404, f"No fault {fault_id!r}: it was removed already, or never added.", code="fault_not_found")
    return json_response({"removed": fault_id})


async def delete_faults(request: web.Request, state: MockState) -> web.StreamResponse:
    state.faults.clear()
    return json_response({"faults": []})


async def get_bill(request: web.Request, state: MockState) -> web.StreamResponse:
    return json_response(state.bill.snapshot())


async def reset_bill(request: web.Request, state: MockState) -> web.StreamResponse:
    return json_response(state.bill.reset())


async def post_reset(request: web.Request, state: MockState) -> web.StreamResponse:
    state.reset_controls()
    return json_response(_state(state))


def admin_routes() -> list[tuple[str, str, Handler]]:
    return [
        ("GET", "/admin/state", get_state),
        ("POST", "/admin/errors", post_errors),
        ("DELETE", "/admin/errors", delete_errors),
        ("POST", "/admin/prices", post_prices),
        ("DELETE", "/admin/prices", delete_prices),
        ("POST", "/admin/capacity", post_capacity),
        ("DELETE", "/admin/capacity", delete_capacity),
        ("POST", "/admin/faults", post_fault),
        ("DELETE", "/admin/faults", delete_faults),
        ("DELETE", "/admin/faults/{fault_id}", delete_fault),
        ("GET", "/admin/bill", get_bill),
        ("POST", "/admin/bill/reset", reset_bill),
        ("POST", "/admin/reset", post_reset),
    ]
