"""What the admin API changes at run time: error rates, protocol faults, price and capacity overrides.

Each is a small object with set / clear / describe; requests consult them through `draw`, which
uses the request's own seeded generator so a run with the same seed draws the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from gameday.config.profile import ProviderProfile
from gameday.mocks.admin_bodies import STREAM_ONLY_FAULTS, WHOLE_BODY_FAULTS, ErrorsBody, FaultBody, PriceBody
from gameday.mocks.slots import SlotPool

__all__ = ["CapacityBook", "ErrorRule", "ErrorRules", "FaultRule", "FaultRules", "PriceBook"]


@dataclass(frozen=True)
class ErrorRule:
    status: int
    rate: float
    retry_after_s: float | None
    model: str | None


class ErrorRules:
    """One rule per (status, model); setting a rate of 0 removes the rule."""

    def __init__(self) -> None:
        self.rules: dict[tuple[int, str | None], ErrorRule] = {}

    def set(self, body: ErrorsBody) -> None:
        key = (body.status, body.model)
        if body.rate == 0:
            self.rules.pop(key, None)
        else:
            self.rules[key] = ErrorRule(body.status, body.rate, body.retry_after_s, body.model)

    def clear(self) -> None:
        self.rules.clear()

    def draw(self, model: str, rng: random.Random) -> ErrorRule | None:
        for rule in self.rules.values():
            if rule.model in (None, model) and rng.random() < rule.rate:
                return rule
        return None

    def describe(self) -> list[dict[str, Any]]:
        return [asdict(rule) for rule in self.rules.values()]


@dataclass(frozen=True)
class FaultRule:
    id: str
    kind: str
    rate: float
    model: str | None
    params: dict[str, Any] = field(default_factory=dict)

    def applies_to(self, model: str, stream: bool) -> bool:
        if self.model not in (None, model):
            return False
        if stream:
            return self.kind not in WHOLE_BODY_FAULTS
        return self.kind not in STREAM_ONLY_FAULTS


class FaultRules:
    """Faults by id (`f1`, `f2`...); ids are never reused within a process, so a stale id stays unknown."""

    def __init__(self) -> None:
        self.rules: dict[str, FaultRule] = {}
        self._next = 1

    def add(self, body: FaultBody) -> FaultRule:
        rule = FaultRule(f"f{self._next}", body.kind, body.rate, body.model, body.params())
        self._next += 1
        self.rules[rule.id] = rule
        return rule

    def remove(self, fault_id: str) -> bool:
        return self.rules.pop(fault_id, None) is not None

    def clear(self) -> None:
        self.rules.clear()

    def draw(self, model: str, stream: bool, rng: random.Random) -> dict[str, FaultRule]:
        """The faults that strike this request: at most one per kind (the first one drawn)."""
        struck: dict[str, FaultRule] = {}
        for rule in self.rules.values():
            if rule.applies_to(model, stream) and rule.kind not in struck and rng.random() < rule.rate:
                struck[rule.kind] = rule
        return struck

    def describe(self) -> list[dict[str, Any]]:
        return [{"id": r.id, "kind": r.kind, "rate": r.rate, "model": r.model, **r.params} for r in self.rules.values()]


@dataclass(frozen=True)
class Price:
    input: float
    output: float


class PriceBook:
    """The profile's prices, with overrides; `updated_at` moves whenever a price does."""

    def __init__(self, profile: ProviderProfile, clock: Callable[[], float] = time.time) -> None:
        self.base = {name: Price(m.price.input, m.price.output) for name, m in profile.models.items()}
        self.overrides: dict[str, Price] = {}
        self.clock = clock
        self.updated_at = clock()

    def current(self, model: str) -> Price:
        return self.overrides.get(model, self.base[model])

    def set(self, body: PriceBody) -> None:
        price = Price(body.input, body.output)
        if price == self.base.get(body.model):
            self.overrides.pop(body.model, None)  # the profile's price again: nothing is overridden any more
        else:
            self.overrides[body.model] = price
        self.updated_at = self.clock()

    def restore(self) -> None:
        if self.overrides:
            self.overrides.clear()
            self.updated_at = self.clock()

    def describe(self) -> dict[str, dict[str, Any]]:
        return {name: {**asdict(self.current(name)), "overridden": name in self.overrides} for name in self.base}


class CapacityBook:
    """One slot pool per model, resizable; `restore` puts the profile's sizes back."""

    def __init__(self, profile: ProviderProfile) -> None:
        self.base = {name: (m.capacity.max_concurrency, m.capacity.max_queue) for name, m in profile.models.items()}
        self.pools = {name: SlotPool(*sizes) for name, sizes in self.base.items()}
        self.overridden: set[str] = set()

    def set(self, model: str, max_concurrency: int | None, max_queue: int | None) -> None:
        pool = self.pools[model]
        pool.resize(
            pool.max_concurrency if max_concurrency is None else max_concurrency,
            pool.max_queue if max_queue is None else max_queue,
        )
        self.overridden.add(model)

    def restore(self) -> None:
        for name in self.overridden:
            self.pools[name].resize(*self.base[name])
        self.overridden.clear()

    def describe(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "max_concurrency": pool.max_concurrency,
                "max_queue": pool.max_queue,
                "running": pool.running,
                "waiting": pool.waiting,
                "overridden": name in self.overridden,
            }
            for name, pool in self.pools.items()
        }
