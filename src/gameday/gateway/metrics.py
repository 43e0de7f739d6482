"""The gateway's Prometheus metrics: requests, latency and TTFT, attempts, fallbacks, breakers, spend, budget.

Counters and histograms are updated as requests end; breaker states, the budget and the cache are
read from the live objects at scrape time (`state` is a callable returning the gateway), so a policy
reload that replaces them is still what `/metrics` shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gameday.gateway.breaker import STATE_VALUES
from gameday.promtext import Registry

__all__ = ["GatewayMetrics"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
P = "gameday_gateway_"


class GatewayMetrics:
    def __init__(self, gateway: Callable[[], Any]) -> None:
        self._gateway = gateway
        r = self.registry = Registry()
        self.requests = r.counter(P + "requests_total", "requests answered", ("route", "model", "status"))
        self.errors = r.counter(P + "errors_total", "requests answered with an error, by code", ("route", "code"))
        self.duration = r.histogram(
            P + "request_duration_seconds", "request received to last byte sent", LATENCY_BUCKETS, ("route", "stream")
        )
        self.ttft = r.histogram(
            P + "ttft_seconds", "request received to first token from the serving model", LATENCY_BUCKETS,
            ("route", "model"),
        )  # fmt: skip
        self.attempts = r.counter(
            P + "upstream_attempts_total", "attempts sent upstream, by outcome", ("provider", "model", "outcome")
        )
        self.attempt_seconds = r.histogram(
            P + "upstream_attempt_seconds", "one attempt, sent to first token or failure", LATENCY_BUCKETS,
            ("provider", "model"),
        )  # fmt: skip
        self.fallbacks = r.counter(
            P + "fallbacks_total", "requests served by another model than the route's first", ("route", "model")
        )
        self.stream_errors = r.counter(
            P + "stream_errors_total", "streams ended with an error event after the first token", ("model", "kind")
        )
        self.spend = r.counter(P + "spend_usd_total", "cost of served requests, from usage", ("provider", "model"))
        self.cache_hits = r.counter(P + "cache_hits_total", "requests answered from the cache", ("route",))
        self.in_flight = r.gauge(P + "in_flight", "requests being handled")
        r.gauge(P + "breaker_state", "0 closed, 1 half-open, 2 open", ("model",), reader=self._breakers)
        r.gauge(P + "budget_left_usd", "spend left in the window (absent: no ceiling)", reader=self._budget("left"))
        r.gauge(P + "budget_spent_usd", "spent in the rolling window", reader=self._budget("spent_in_window"))
        r.gauge(P + "budget_reserved_usd", "reserved by requests in flight", reader=self._budget("reserved"))
        r.gauge(P + "budget_refusals", "reservations refused since start", reader=self._budget("refused"))
        r.gauge(P + "kill_switch", "1 while the kill switch is on", ("model",), reader=self._kill_switch)

    def render(self) -> str:
        return self.registry.render()

    def attempt(self, provider: str, model: str, outcome: str, seconds: float) -> None:
        self.attempts.inc(provider, model, outcome)
        self.attempt_seconds.observe(seconds, provider, model)

    def _breakers(self) -> Iterable[tuple[tuple[str, ...], float]]:
        for name, breaker in sorted(self._gateway().breakers.items()):
            yield (name,), float(STATE_VALUES[breaker.state])

    def _budget(self, field: str) -> Callable[[], Iterable[tuple[tuple[str, ...], float]]]:
        def read() -> Iterable[tuple[tuple[str, ...], float]]:
            value = self._gateway().budget.status().get(field)
            return [((), float(value))] if value is not None else []

        return read

    def _kill_switch(self) -> Iterable[tuple[tuple[str, ...], float]]:
        model = self._gateway().kill_switch
        return [((model,), 1.0)] if model else []
