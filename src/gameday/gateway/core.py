"""The gateway, composed in one place: read the request, classify, route, dispatch, account, answer.

`Gateway.complete(raw, headers)` is the one domain method the HTTP front calls. It returns a
`Reply` (a whole body) or a `StreamReply` (headers now, then `pump(write)` relays the rest), or
raises an error that `errors.to_http` maps. Whatever the outcome, the budget reservation is settled
or released, the breaker of the serving model hears how it went, and the metrics count it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.config.policy import Policy
from gameday.config.yamlio import load_model
from gameday.errors import ConfigError
from gameday.gateway.attempts import Dispatcher, Served
from gameday.gateway.breaker import Breaker
from gameday.gateway.budget import SpendBudget, cost_usd
from gameday.gateway.cache import CachedResponse, ResponseCache
from gameday.gateway.classify import Classifier
from gameday.gateway.headers import fallback_reason, served_headers
from gameday.gateway.metrics import GatewayMetrics
from gameday.gateway.prices import Price, PriceBook
from gameday.gateway.request import ChatRequest, parse_body, parse_hints, parse_leniently
from gameday.gateway.retry import Cooldowns, RetryPolicy
from gameday.gateway.router import RouteFacts, RoutePlan, Router
from gameday.gateway.stream import relay
from gameday.gateway.upstream import HttpUpstream, Upstream

__all__ = ["Gateway", "Reply", "StreamReply"]


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(slots=True)
class StreamReply:
    headers: dict[str, str]
    pump: Callable[[Callable[[bytes], Awaitable[None]]], Awaitable[None]] = field(repr=False)


class Gateway:
    """Holds the live state (breakers, budget, prices, cache, kill switch, overrides) across policy reloads."""

    def __init__(
        self,
        policy: Policy,
        *,
        policy_path: Path | str | None = None,
        upstream_urls: Mapping[str, str] | None = None,
        seed: int = 0,
        upstream: Upstream | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.policy_path = Path(policy_path) if policy_path is not None else None
        self.upstream_urls = dict(upstream_urls or {})
        self.upstream = upstream if upstream is not None else HttpUpstream()
        self.clock = clock
        self.sleep = sleep
        self.rng = random.Random(seed)
        self.cooldowns = Cooldowns(clock)
        self.breakers: dict[str, Breaker] = {}
        self.kill_switch: str | None = None
        self.route_overrides: dict[str, str] = {}
        self.metrics = GatewayMetrics(lambda: self)
        self.budget: SpendBudget
        self.prices: PriceBook
        self.cache: ResponseCache | None
        self._started = False
        self._background: set[asyncio.Task[None]] = set()
        self._apply(policy, first=True)

    # -- lifecycle and admin -------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._started = True
        await self.prices.start()

    async def stop(self) -> None:
        self._started = False
        await self.prices.stop()
        close = getattr(self.upstream, "close", None)
        if close is not None:
            await close()

    def set_kill_switch(self, model: str | None) -> None:
        if model is not None and model not in self.policy.model_names:
            raise KeyError(f"unknown model {model!r}; models: {', '.join(self.policy.model_names)}")
        self.kill_switch = model

    def set_route_override(self, route: str, model: str | None) -> None:
        """The route serves only `model` (still only for the tiers that model may serve); None lifts it."""
        self.policy.route(route)  # KeyError names an unknown route
        if model is None:
            self.route_overrides.pop(route, None)
            return
        if model not in self.policy.model_names:
            raise KeyError(f"unknown model {model!r}; models: {', '.join(self.policy.model_names)}")
        self.route_overrides[route] = model

    async def reload_policy(self) -> dict[str, Any]:
        """Re-read the policy file; a bad file raises `ConfigError` and the running policy stays."""
        if self.policy_path is None:
            raise ConfigError("this gateway was started without a policy file; nothing to reload")
        policy = await asyncio.to_thread(load_model, self.policy_path, Policy)
        self._check_urls(policy)
        restarted = self._apply(policy, first=False)
        if restarted and self._started:
            await self.prices.start()
        return {"policy": policy.name, "routes": [r.name for r in policy.routes], "models": policy.model_names}

    def _apply(self, policy: Policy, first: bool) -> bool:
        """Install `policy`; keeps breakers, budget and prices where their settings did not change."""
        self._check_urls(policy)
        old = None if first else self.policy
        self.policy = policy
        self.models = frozenset(policy.model_names)
        self.classifier = Classifier(policy.classifier)
        self.router = Router(policy)
        self.breakers = {
            m: self.breakers[m] if m in self.breakers else Breaker(m, policy.breaker, self.clock)
            for m in policy.model_names
        }
        for breaker in self.breakers.values():
            breaker.settings = policy.breaker
        if old is None or old.budget != policy.budget:
            # A changed ceiling or window starts a fresh budget (its spend history does not carry over).
            self.budget = SpendBudget(policy.budget.ceiling_usd, policy.budget.window_s, self.clock)
        if old is None or old.cache != policy.cache:
            c = policy.cache
            self.cache = ResponseCache(c.ttl_s, c.max_entries, self.clock) if c.ttl_s > 0 else None
        self.route_overrides = {r: m for r, m in self.route_overrides.items() if r in {x.name for x in policy.routes}}
        if self.kill_switch not in self.models:
            self.kill_switch = None
        urls = self.urls(policy)
        restart_prices = old is None or old.providers != policy.providers or old.prices != policy.prices
        if restart_prices:
            previous = None if old is None else self.prices
            static = {
                (p.name, m.name): (m.input_usd_per_mtok, m.output_usd_per_mtok)
                for p in policy.providers
                for m in p.models
            }
            feeds = urls if policy.prices.poll_feeds else {}
            self.prices = PriceBook(static, feeds, policy.prices.refresh_s)
            if previous is not None:  # its poller stops in the background; keep a reference until it has
                task = asyncio.get_running_loop().create_task(previous.stop())
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        self.dispatcher = Dispatcher(
            policy, self.upstream, self.breakers, self.cooldowns, RetryPolicy(policy.retry, self.rng), self.budget,
            self.prices, urls, self.clock, self.sleep, self._on_attempt,
        )  # fmt: skip
        return restart_prices and old is not None

    def urls(self, policy: Policy) -> dict[str, str]:
        return {p.name: self.upstream_urls.get(p.name, p.base_url) for p in policy.providers}

    def _check_urls(self, policy: Policy) -> None:
        names = [p.name for p in policy.providers]
        unknown = sorted(set(self.upstream_urls) - set(names))
        if unknown:
            raise ConfigError(
                f"--upstream names {', '.join(unknown)}, not a provider of the policy ({', '.join(names)})"
            )

    def _on_attempt(self, candidate: Any, outcome: str, seconds: float) -> None:
        self.metrics.attempt(candidate.provider, candidate.model, outcome, seconds)

    # -- the request path ----------------------------------------------------------------------------------------
    async def complete(self, raw: bytes, headers: Mapping[str, str]) -> Reply | StreamReply:
        started = self.clock()
        hints = parse_hints(headers)
        guardrails = self.policy.guardrails
        if guardrails.validate_requests:
            request = parse_body(raw, guardrails, self.models)
        else:
            request = parse_leniently(raw, guardrails, self.models)
        found = self.classifier.classify(request.prompt, hints.task, hints.tier)
        facts = RouteFacts(
            found.task, found.tier, request.input_tokens, request.max_tokens, hints.latency_budget_ms, request.model
        )
        plan = self.router.plan(facts, self.route_overrides, self.kill_switch)
        key = self._cache_key(request, plan)
        if key is not None and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.metrics.cache_hits.inc(plan.route)
                return Reply(
                    200,
                    hit.body,
                    served_headers(plan, hit.model or "", hit.provider or "", 0, None, 0.0)
                    | {"x-gameday-cache": "hit"},
                )
        served = await self.dispatcher.dispatch(plan, request, started + self.policy.timeouts.total_s)
        if request.stream and served.status == 200:
            return self._stream_reply(plan, request, served, started)
        cost = self._settle(served, request)
        headers = served_headers(plan, served.candidate.model, served.candidate.provider, served.attempts,
                                fallback_reason(plan, served), cost)  # fmt: skip
        if key is not None and self.cache is not None and served.status == 200 and served.body is not None:
            self.cache.put(key, CachedResponse(served.body, {}, 200, served.candidate.model, served.candidate.provider))
        self._count(plan, served, started, stream=False)
        return Reply(served.status, served.body or b"", headers)

    def _stream_reply(self, plan: RoutePlan, request: ChatRequest, served: Served, started: float) -> StreamReply:
        price = self._charged(served)
        reserved = served.reservation.usd if served.reservation is not None else 0.0
        headers = served_headers(plan, served.candidate.model, served.candidate.provider, served.attempts,
                                fallback_reason(plan, served), reserved)  # fmt: skip
        headers["x-gameday-cost-basis"] = "reserved"  # the real cost is in the final usage chunk

        async def pump(write: Callable[[bytes], Awaitable[None]]) -> None:
            outcome = None
            try:
                outcome = await relay(
                    served,
                    write,
                    wants_usage=request.wants_usage,
                    stall_s=self.policy.timeouts.stall_s,
                    deadline=started + self.policy.timeouts.total_s,
                    cost_of=lambda p, c: cost_usd(price, p, c),
                    clock=self.clock,
                )
            finally:
                breaker = self.breakers.get(served.candidate.model)
                if outcome is not None and outcome.error not in (None, "client_gone"):
                    self.metrics.stream_errors.inc(served.candidate.model, outcome.error)
                    if breaker is not None:
                        breaker.record_failure()
                elif outcome is not None and outcome.completed and breaker is not None:
                    breaker.record_success()
                elif breaker is not None:
                    breaker.release()
                if outcome is not None and outcome.usage is not None:
                    served.usage = outcome.usage
                tokens = outcome.tokens if outcome is not None else 0
                self._settle(served, request, streamed_tokens=tokens)
                self._count(plan, served, started, stream=True)

        return StreamReply(headers, pump)

    # -- accounting ------------------------------------------------------------------------------------------------
    def _charged(self, served: Served) -> Price:
        """The price the provider charges this request: the one in effect when it was sent (as the mocks bill)."""
        c = served.candidate
        if served.reservation is None:
            return self.prices.price(c.provider, c.model)
        return self.prices.price_at(c.provider, c.model, served.reservation.taken_at)

    def _settle(self, served: Served, request: ChatRequest, streamed_tokens: int | None = None) -> float:
        """The cost of what was served; settles (or releases) the reservation."""
        if served.reservation is None:
            return 0.0
        if served.status != 200:
            self.budget.release(served.reservation)
            return 0.0
        c = served.candidate
        price = self._charged(served)
        if served.usage is not None:
            cost = cost_usd(price, *served.usage)
        elif streamed_tokens is not None:  # cut short: what was sent so far, prompt included
            cost = cost_usd(price, request.input_tokens, streamed_tokens)
        else:
            cost = served.reservation.usd
        self.budget.settle(served.reservation, cost)
        self.metrics.spend.inc(c.provider, c.model, amount=cost)
        return cost

    def _count(self, plan: RoutePlan, served: Served, started: float, stream: bool) -> None:
        m = self.metrics
        now = self.clock()
        m.requests.inc(plan.route, served.candidate.model, str(served.status))
        m.duration.observe(now - started, plan.route, "true" if stream else "false")
        if served.first_token_at is not None:
            m.ttft.observe(served.first_token_at - started, plan.route, served.candidate.model)
        if plan.primary is not None and served.candidate.model != plan.primary:
            m.fallbacks.inc(plan.route, served.candidate.model)

    def count_error(self, exc: BaseException, seconds: float) -> None:
        """An answer that is an error (called by the front, which maps it)."""
        route = getattr(exc, "route", None) or "-"
        code = getattr(exc, "code", None) or "internal_error"
        status = getattr(exc, "status", 500)
        self.metrics.requests.inc(route, "-", str(status))
        self.metrics.errors.inc(route, str(code))
        self.metrics.duration.observe(seconds, route, "-")

    def _cache_key(self, request: ChatRequest, plan: RoutePlan) -> str | None:
        if self.cache is None or request.stream or not plan.candidates:
            return None
        return self.cache.key(request.body, scope=f"{plan.route}|{plan.tier}|{plan.candidates[0].model}")
