"""The admin API over real HTTP on loopback, in front of a small stand-in for the gateway object.

`FakeGateway` stands for the gateway (another module); the admin routes, the budget and the price
book under it are the real ones.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gameday.errors import ConfigError
from gameday.gateway.admin import admin_routes
from gameday.gateway.budget import SpendBudget
from gameday.gateway.cache import ResponseCache
from gameday.gateway.prices import PriceBook

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Route:
    name: str


@dataclass
class Policy:
    routes: list[Route] = field(default_factory=lambda: [Route("high"), Route("medium"), Route("low")])
    model_names: list[str] = field(default_factory=lambda: ["frontier-large", "swift-mini", "tiny"])
    baseline_model: str | None = "swift-mini"


class Breaker:
    def __init__(self, state: str) -> None:
        self.state = state

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state, "failures": 3}


class FakeGateway:
    def __init__(self) -> None:
        self.policy = Policy()
        self.kill_switch: str | None = None
        self.route_overrides: dict[str, str] = {}
        self.budget = SpendBudget(2.0, 60.0)
        self.breakers = {"frontier-large": Breaker("open"), "swift-mini": Breaker("closed")}
        self.prices = PriceBook({("premium", "frontier-large"): (3.0, 15.0)}, {}, refresh_s=5.0)
        self.cache = ResponseCache(30.0)
        self.reloads = 0
        self.reload_error: Exception | None = None

    def set_kill_switch(self, model: str | None) -> None:
        self.kill_switch = model

    async def set_route_override(self, route: str, model: str | None) -> None:  # async on purpose: both work
        if model is None:
            self.route_overrides.pop(route, None)
        else:
            self.route_overrides[route] = model

    async def reload_policy(self) -> dict[str, Any]:
        if self.reload_error is not None:
            raise self.reload_error
        self.reloads += 1
        return {"policy": "reference"}


@asynccontextmanager
async def admin_server(
    gateway: FakeGateway, token: str | None = TOKEN, host: str = "127.0.0.1"
) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    app = web.Application()
    app.add_routes(admin_routes(gateway, token=token) if token is not None else admin_routes(gateway))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        try:
            yield f"http://{host}:{port}", session
        finally:
            await runner.cleanup()


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout=30))


async def call(
    session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str] | None = AUTH, **kw: Any
) -> tuple[int, Any]:
    async with session.request(method, url, headers=headers, **kw) as reply:
        return reply.status, await reply.json()


def test_kill_switch_on_with_a_model_or_the_policy_baseline_and_off() -> None:
    async def main() -> None:
        gateway = FakeGateway()
        async with admin_server(gateway) as (base, s):
            assert await call(s, "POST", f"{base}/admin/kill-switch", json={"model": "tiny"}) == (
                200,
                {"kill_switch": "tiny"},
            )
            assert gateway.kill_switch == "tiny"
            assert await call(s, "DELETE", f"{base}/admin/kill-switch") == (200, {"kill_switch": None})
            assert gateway.kill_switch is None
            # no body: the policy's baseline model
            assert await call(s, "POST", f"{base}/admin/kill-switch") == (200, {"kill_switch": "swift-mini"})
            gateway.policy.baseline_model = None
            status, body = await call(s, "POST", f"{base}/admin/kill-switch", json={})
            assert (status, body["error"]["param"]) == (400, "model")

    run(main)


def test_route_override_set_and_cleared_and_unknown_names_refused_with_the_valid_ones() -> None:
    async def main() -> None:
        gateway = FakeGateway()
        async with admin_server(gateway) as (base, s):
            status, body = await call(s, "POST", f"{base}/admin/routes/high/override", json={"model": "frontier-large"})
            assert (status, body) == (200, {"route_overrides": {"high": "frontier-large"}})
            status, body = await call(s, "POST", f"{base}/admin/routes/nope/override", json={"model": "tiny"})
            assert status == 404
            assert body["error"]["param"] == "route"
            assert "high, medium, low" in body["error"]["message"]
            status, body = await call(s, "POST", f"{base}/admin/routes/low/override", json={"model": "gpt-9"})
            assert status == 400
            assert "frontier-large, swift-mini, tiny" in body["error"]["message"]
            assert await call(s, "DELETE", f"{base}/admin/routes/high/override") == (200, {"route_overrides": {}})
            assert gateway.route_overrides == {}

    run(main)


def test_reset_turns_the_kill_switch_and_every_override_off() -> None:
    async def main() -> None:
        gateway = FakeGateway()
        async with admin_server(gateway) as (base, s):
            await call(s, "POST", f"{base}/admin/kill-switch", json={"model": "tiny"})
            await call(s, "POST", f"{base}/admin/routes/high/override", json={"model": "frontier-large"})
            await call(s, "POST", f"{base}/admin/routes/low/override", json={"model": "tiny"})
            assert await call(s, "POST", f"{base}/admin/reset") == (200, {"kill_switch": None, "route_overrides": {}})
            assert (gateway.kill_switch, gateway.route_overrides) == (None, {})
            await call(s, "POST", f"{base}/admin/kill-switch", json={"model": "tiny"})
            status, _ = await call(s, "POST", f"{base}/admin/reset", headers=None)
            assert status == 401
            assert gateway.kill_switch == "tiny", "an unauthenticated reset must change nothing"

    run(main)


@pytest.mark.parametrize(
    ("data", "param"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b'"tiny"', "body"),
        (b'{"model": 3}', "model"),
        (b'{"model": ""}', "model"),
        (b'{"model": "   "}', "model"),
        (b'{"model": null}', "model"),
        (b'{"model": "tiny", "modle": "x"}', "modle"),
        (b"{}", "model"),
    ],
)
def test_bad_bodies_get_a_400_naming_the_field(data: bytes, param: str) -> None:
    async def main() -> None:
        gateway = FakeGateway()
        async with admin_server(gateway) as (base, s):
            headers = {**AUTH, "content-type": "application/json"}
            status, body = await call(s, "POST", f"{base}/admin/routes/high/override", headers=headers, data=data)
            assert status == 400
            assert body["error"]["param"] == param
            assert body["error"]["message"].startswith(param)
            assert gateway.route_overrides == {}

    run(main)


def test_policy_reload_and_a_bad_policy_file_keeps_the_old_one() -> None:
    async def main() -> None:
        gateway = FakeGateway()
        async with admin_server(gateway) as (base, s):
            assert await call(s, "POST", f"{base}/admin/policy/reload") == (
                200,
                {"reloaded": True, "policy": "reference"},
            )
            gateway.reload_error = ConfigError("reference.yaml:12: routes.0.primary: 'x' is not a model")
            status, body = await call(s, "POST", f"{base}/admin/policy/reload")
            assert status == 422
            assert "the running one stays" in body["error"]["message"]
            assert "reference.yaml:12" in body["error"]["message"]
            assert gateway.reloads == 1

    run(main)


def test_reads_budget_breakers_prices_and_the_whole_state() -> None:
    async def main() -> None:
        gateway = FakeGateway()
        reservation = gateway.budget.reserve(0.5)
        assert reservation is not None
        gateway.budget.settle(reservation, 0.25)
        gateway.kill_switch = "tiny"
        gateway.route_overrides["low"] = "tiny"
        async with admin_server(gateway) as (base, s):
            status, budget = await call(s, "GET", f"{base}/admin/budget")
            assert status == 200
            assert budget["ceiling"] == 2.0
            assert budget["spent_in_window"] == pytest.approx(0.25)
            assert budget["left"] == pytest.approx(1.75)
            assert await call(s, "GET", f"{base}/admin/breakers") == (
                200,
                {"frontier-large": {"state": "open", "failures": 3}, "swift-mini": {"state": "closed", "failures": 3}},
            )
            status, prices = await call(s, "GET", f"{base}/admin/prices")
            assert prices["prices"]["premium"]["frontier-large"]["source"] == "static"
            status, refreshed = await call(s, "POST", f"{base}/admin/prices/refresh")
            assert (status, refreshed["prices"]) == (200, prices["prices"])
            status, state = await call(s, "GET", f"{base}/admin/state")
            assert status == 200
            assert state["kill_switch"] == "tiny"
            assert state["route_overrides"] == {"low": "tiny"}
            assert state["budget"]["spent_in_window"] == pytest.approx(0.25)
            assert state["breakers"]["frontier-large"]["state"] == "open"
            assert state["prices"]["prices"]["premium"]["frontier-large"]["input"] == 3.0
            assert state["cache"]["entries"] == 0

    run(main)


@pytest.mark.parametrize(
    "headers",
    [None, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}],
)
def test_a_missing_or_wrong_token_gets_401_and_changes_nothing(headers: dict[str, str] | None) -> None:
    async def main() -> None:
        gateway = FakeGateway()
        async with admin_server(gateway) as (base, s):
            status, body = await call(s, "POST", f"{base}/admin/kill-switch", headers=headers, json={"model": "tiny"})
            assert status == 401
            assert "GAMEDAY_ADMIN_TOKEN" in body["error"]["message"]
            assert gateway.kill_switch is None

    run(main)


def test_without_a_token_in_the_environment_the_api_says_how_to_enable_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GAMEDAY_ADMIN_TOKEN", raising=False)

    async def main() -> None:
        gateway = FakeGateway()
        async with admin_server(gateway, token=None) as (base, s):
            for headers in (AUTH, None):
                status, body = await call(s, "GET", f"{base}/admin/state", headers=headers)
                assert status == 503
                assert "GAMEDAY_ADMIN_TOKEN is not set" in body["error"]["message"]

    run(main)


def test_the_token_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMEDAY_ADMIN_TOKEN", "from-env")

    async def main() -> None:
        async with admin_server(FakeGateway(), token=None) as (base, s):
            assert (await call(s, "GET", f"{base}/admin/budget"))[0] == 401
            ok = {"Authorization": "Bearer from-env"}
            assert (await call(s, "GET", f"{base}/admin/budget", headers=ok))[0] == 200

    run(main)


def _non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (no packet is sent: UDP connect only picks a route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_peers_off_loopback_are_refused_even_with_the_token() -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to call from")

    async def main() -> None:
        gateway = FakeGateway()
        async with admin_server(gateway, host=address) as (base, s):
            status, body = await call(s, "POST", f"{base}/admin/kill-switch", json={"model": "tiny"})
            assert status == 403
            assert "loopback" in body["error"]["message"]
            assert gateway.kill_switch is None

    run(main)
