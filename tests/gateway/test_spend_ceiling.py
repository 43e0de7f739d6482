"""The spend ceiling holds on the bill: 64 concurrent clients, a price tripled mid-run, real mocks and gateway.

The mocks count what they charge (`GET /admin/bill`), at the price in effect when each request
started; the ceiling is judged on the sum of their bills, never on the gateway's own estimate. The
window is longer than the run, so the whole bill falls in one window: it may exceed the ceiling by
at most the most expensive single request's cost.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import requests
import yaml

from gameday.faults.mock_admin import MockAdminClient
from support.procs import REPO, Service

TOKEN = "spend-ceiling-test-token"
ENV = {"GAMEDAY_ADMIN_TOKEN": TOKEN}
CEILING_USD = 0.06
WINDOW_S = 600.0  # longer than the run: everything billed is in one window
MAX_TOKENS = 24
CLIENTS = 64
TRIPLE_AT = 0.25  # share of the ceiling billed when the premium prices triple
AFTER_TRIPLE_S = 4.0  # load continues this long after the prices tripled
HARD_STOP_S = 40.0
PROMPT = "Tell me about the weather on the coast this weekend, briefly."
CHEAP = {"swift-mini", "tiny"}


@dataclass
class Outcomes:
    statuses: Counter[int] = field(default_factory=Counter)
    served_by: Counter[tuple[str, str]] = field(default_factory=Counter)  # (tier, model)
    budget_fallbacks: int = 0  # served by a later candidate because an earlier one did not fit the budget
    refusals: list[dict[str, Any]] = field(default_factory=list)  # 429 error bodies
    claimed_usd: float = 0.0
    after_triple: Counter[int] = field(default_factory=Counter)


def _policy(tmp_path: Path) -> Path:
    data = yaml.safe_load((REPO / "stacks" / "policies" / "reference.yaml").read_text())
    data["budget"] = {"ceiling_usd": CEILING_USD, "window_s": WINDOW_S, "on_exceed": "cheaper"}
    data["prices"] = {"refresh_s": 0.1, "poll_feeds": True}
    data["cache"] = {"ttl_s": 0}  # every request goes upstream
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _tier(client: int) -> str:
    return ("high", "medium", "medium", "low")[client % 4]


async def _client(
    n: int, session: aiohttp.ClientSession, url: str, out: Outcomes, stop: asyncio.Event, tripled: asyncio.Event
) -> None:
    tier = _tier(n)
    stream = n % 2 == 1
    body: dict[str, Any] = {
        "model": "auto",
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": MAX_TOKENS,
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    headers = {"x-gameday-task": "chat", "x-gameday-tier": tier, "content-type": "application/json"}
    data = orjson.dumps(body)
    while not stop.is_set():
        after = tripled.is_set()
        async with session.post(f"{url}/v1/chat/completions", data=data, headers=headers) as reply:
            raw = await reply.read()  # a stream is read to its end: it is billed when it completes
            out.statuses[reply.status] += 1
            if after:
                out.after_triple[reply.status] += 1
            if reply.status == 200:
                model = reply.headers["x-gameday-model"]
                out.served_by[(tier, model)] += 1
                out.claimed_usd += float(reply.headers.get("x-gameday-cost-usd", "0"))
                if "budget" in reply.headers.get("x-gameday-fallback", ""):
                    out.budget_fallbacks += 1
            elif reply.status == 429:
                out.refusals.append(orjson.loads(raw)["error"])
                await asyncio.sleep(0.2)  # refused at once: do not spin
            else:
                await asyncio.sleep(0.2)


async def _drive(gateway: str, admins: dict[str, MockAdminClient]) -> tuple[Outcomes, float]:
    """Run the load; triple the premium prices once a quarter of the ceiling is billed. Returns when it tripled."""
    out = Outcomes()
    stop, tripled = asyncio.Event(), asyncio.Event()

    def billed() -> float:
        return sum(a.bill().total_usd for a in admins.values())

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        clients = [asyncio.create_task(_client(n, session, gateway, out, stop, tripled)) for n in range(CLIENTS)]
        started = time.monotonic()
        tripled_at, triple_time = -1.0, 0.0
        try:
            while time.monotonic() - started < HARD_STOP_S:
                await asyncio.sleep(0.05)
                if any(c.done() for c in clients):
                    break  # a client failed: its exception is raised below
                if not tripled.is_set() and await asyncio.to_thread(billed) >= TRIPLE_AT * CEILING_USD:
                    premium = admins["premium"]
                    for model, price in (await asyncio.to_thread(premium.prices)).items():
                        await asyncio.to_thread(premium.set_price, model, price.input * 3, price.output * 3)
                    tripled_at = await asyncio.to_thread(billed)
                    tripled.set()
                    triple_time = time.monotonic()
                if tripled.is_set() and time.monotonic() - triple_time >= AFTER_TRIPLE_S:
                    break
        finally:
            stop.set()
            await asyncio.gather(*clients)  # in-flight requests finish: the bill is read after them
    return out, tripled_at


def _probe_at_the_edge(gateway: str, input_tokens: int) -> tuple[requests.Response, requests.Response, dict[str, Any]]:
    """With the load over: a high-tier request too dear for what is left, and a medium one only swift-mini fits.

    The medium route tries frontier-alt first; `max_tokens` is picked so that swift-mini's worst case fits in
    what the gateway says is left while frontier-alt's (about 16 times dearer) does not.
    """
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status = requests.get(f"{gateway}/admin/budget", headers=auth, timeout=10).json()
    assert status["reserved"] == 0, status
    left = status["left"]
    swift_in, swift_out, alt_out = 0.15e-6, 0.6e-6, 10e-6
    fits = max(1, int((0.9 * left - input_tokens * swift_in) / swift_out))
    assert left < 5e-6 or fits * alt_out > left, status

    def ask(tier: str, max_tokens: int) -> requests.Response:
        body = {"model": "auto", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": max_tokens}
        headers = {"x-gameday-task": "chat", "x-gameday-tier": tier}
        return requests.post(f"{gateway}/v1/chat/completions", json=body, headers=headers, timeout=30)

    high = ask("high", 4096)  # frontier-large or -alt, 4096 tokens out: over any ceiling left
    medium = ask("medium", fits)
    return high, medium, status


@pytest.mark.timeout(120)
def test_ceiling_holds_on_the_bill_under_64_concurrent_clients_and_a_tripled_price(
    tmp_path: Path, service_factory: Callable[..., Service]
) -> None:
    mocks = {
        name: service_factory(["mock", "--profile", f"mocks/{name}.yaml", "--seed", "3"], name=name, env=ENV)
        for name in ("premium", "efficient", "local-vllm")
    }
    upstreams = [arg for name, svc in mocks.items() for arg in ("--upstream", f"{name}={svc.url}")]
    gateway = service_factory(["gateway", "--policy", str(_policy(tmp_path)), *upstreams], name="gateway", env=ENV)
    admins = {name: MockAdminClient(svc.url, TOKEN) for name, svc in mocks.items()}
    try:
        original = admins["premium"].prices()
        out, billed_at_triple = asyncio.run(_drive(gateway.url, admins))
        bills_after_load = {name: admin.bill() for name, admin in admins.items()}
        per_request_input = max(
            m.input_tokens // m.requests for b in bills_after_load.values() for m in b.models.values() if m.requests
        )
        high, medium, gateway_budget = _probe_at_the_edge(gateway.url, per_request_input)
        bills = {name: admin.bill() for name, admin in admins.items()}
    finally:
        for admin in admins.values():
            admin.close()

    total = sum(b.total_usd for b in bills.values())
    left = gateway_budget["left"]
    # The most expensive single request: the priciest model at its tripled price, all of max_tokens out.
    dearest = max((per_request_input * p.input * 3 + MAX_TOKENS * p.output * 3) / 1e6 for p in original.values())
    summary = (
        f"bill {total:.5f} USD (ceiling {CEILING_USD}, one request <= {dearest:.5f}); "
        f"tripled when billed {billed_at_triple:.5f}; "
        f"statuses {dict(out.statuses)}; after tripling {dict(out.after_triple)}; served {dict(out.served_by)}; "
        f"budget fallbacks {out.budget_fallbacks}; gateway claimed {out.claimed_usd:.5f} USD; "
        f"gateway budget {gateway_budget}; " + "; ".join(f"{n}: {b.total_usd:.5f}" for n, b in bills.items())
    )

    print(summary)  # shown with -s, and on failure
    assert billed_at_triple >= 0, f"the bill never reached {TRIPLE_AT:.0%} of the ceiling: {summary}"
    assert total <= CEILING_USD + dearest, summary
    # The gateway's own count follows the bill: requests in flight when the price tripled were charged their
    # start price, and counting them at the new one would stop the gateway short of the ceiling for nothing.
    counted, billed = gateway_budget["spent_in_window"], sum(b.total_usd for b in bills_after_load.values())
    assert abs(counted - billed) <= max(0.1 * billed, dearest), (
        f"the gateway counts {counted:.5f} USD spent, the bill says {billed:.5f}: settle each request at the price "
        f"it was charged (PriceBook.price_at(provider, model, reservation.taken_at)), not the price now. {summary}"
    )
    # Not vacuous: the load used the ceiling.
    assert total >= 0.9 * CEILING_USD, f"the load never pressed on the ceiling: {summary}"
    # Requests that would break it were refused with a reason, or served by a cheaper model their tier allows.
    assert out.refusals, summary
    for error in out.refusals:
        assert error["code"] == "budget_exceeded", error
        assert "spend ceiling" in error["message"], error
    assert high.status_code == 429, high.text
    assert high.json()["error"]["code"] == "budget_exceeded"
    assert out.budget_fallbacks > 0, f"no request was moved to a cheaper model for the budget: {summary}"
    # At the edge a medium request gets swift-mini when it fits in what is left, else a 429.
    assert medium.status_code == 200 if left >= 5e-6 else medium.status_code in (200, 429), medium.text
    if medium.status_code == 200:
        assert medium.headers["x-gameday-model"] == "swift-mini", dict(medium.headers)
        assert "frontier-alt:budget" in medium.headers["x-gameday-fallback"], dict(medium.headers)
    else:
        assert medium.json()["error"]["code"] == "budget_exceeded", medium.text
    # Tiers are a promise, also under budget pressure; and nothing broke.
    assert not any(tier == "high" and model in CHEAP for (tier, model) in out.served_by), summary
    assert not any(status >= 500 and status != 503 for status in out.statuses), summary
    assert out.after_triple[200] > 0, f"nothing was served after the prices tripled: {summary}"
