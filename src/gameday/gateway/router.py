"""Which route a request takes and which models may serve it, in order.

Pure: a policy and the request's facts in, a `RoutePlan` out. The plan keeps the models it left
out and why (tier, context window), so a refusal can say exactly what happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gameday.config.policy import Policy, Route
from gameday.gateway.errors import InvalidRequest
from gameday.gateway.request import AUTO

__all__ = ["KILL_SWITCH_ROUTE", "Candidate", "RouteFacts", "RoutePlan", "Router"]

KILL_SWITCH_ROUTE = "kill-switch"


@dataclass(frozen=True, slots=True)
class Candidate:
    model: str
    provider: str


@dataclass(frozen=True, slots=True)
class RouteFacts:
    """What routing looks at."""

    task: str
    tier: str
    input_tokens: int
    max_tokens: int
    latency_budget_ms: int | None = None
    model: str = AUTO  # `auto`, or the model the caller pinned


@dataclass(slots=True)
class RoutePlan:
    route: str
    task: str
    tier: str
    candidates: list[Candidate]
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (model, why it may not serve)
    steered: str | None = None  # "kill_switch" | "route_override" | "pinned": who changed the policy's order

    @property
    def primary(self) -> str | None:
        return self.candidates[0].model if self.candidates else None


class Router:
    """`plan(facts, overrides, kill_switch)`; overrides map a route name or task class to a model."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._provider = {m.name: p.name for p in policy.providers for m in p.models}
        self._context = {m.name: m.context_tokens for p in policy.providers for m in p.models}
        # tiers per (route, model), worked out once: routing runs on every request
        self._route_tiers = {
            (route.name, model): tuple(policy.tiers_for(route, model))
            for route in policy.routes
            for model in policy.model_names
        }

    def match(self, facts: RouteFacts) -> Route:
        for route in self.policy.routes:
            m = route.match
            if m.tasks is not None and facts.task not in m.tasks:
                continue
            if m.tiers is not None and facts.tier not in m.tiers:
                continue
            if m.min_input_tokens is not None and facts.input_tokens < m.min_input_tokens:
                continue
            if m.max_input_tokens is not None and facts.input_tokens > m.max_input_tokens:
                continue
            if m.max_latency_budget_ms is not None and (
                facts.latency_budget_ms is None or facts.latency_budget_ms > m.max_latency_budget_ms
            ):
                continue
            return route
        return self.policy.route(self.policy.default_route)

    def plan(
        self, facts: RouteFacts, overrides: Mapping[str, str] | None = None, kill_switch: str | None = None
    ) -> RoutePlan:
        if kill_switch is not None:
            # The operator's emergency brake: everything to one model, whatever the tier (headers say so).
            return RoutePlan(
                KILL_SWITCH_ROUTE, facts.task, facts.tier, [self._candidate(kill_switch)], [], "kill_switch"
            )
        route = self.match(facts)
        order = route.models
        steered = None
        override = (overrides or {}).get(route.name) or (overrides or {}).get(facts.task)
        if override is not None:
            order = [override]  # the operator's pin: only that model, and only for the tiers it may serve
            steered = "route_override"
        elif facts.model != AUTO:
            allowed = self._tiers(route, facts.model)
            if facts.tier not in allowed:
                raise InvalidRequest(
                    f"model: {facts.model} may not serve tier {facts.tier} (it serves {', '.join(allowed)}); "
                    "use `auto` or a model allowed for that tier",
                    "model",
                    "model_not_allowed_for_tier",
                )
            order = [facts.model, *(m for m in order if m != facts.model)]
            steered = "pinned"
        candidates: list[Candidate] = []
        excluded: list[tuple[str, str]] = []
        needed = facts.input_tokens + facts.max_tokens
        for model in order:
            tiers = self._tiers(route, model)
            if facts.tier not in tiers:
                excluded.append((model, f"not allowed for tier {facts.tier}"))
            elif self._context[model] < needed:
                excluded.append((model, f"context window {self._context[model]} < {needed} tokens"))
            else:
                candidates.append(self._candidate(model))
        return RoutePlan(route.name, facts.task, facts.tier, candidates, excluded, steered)

    def _tiers(self, route: Route, model: str) -> tuple[str, ...]:
        return self._route_tiers[(route.name, model)]

    def _candidate(self, model: str) -> Candidate:
        return Candidate(model, self._provider[model])
