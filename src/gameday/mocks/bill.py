"""The bill: what the provider says was spent, per model, counted when a response completes.

Each request is charged at the price in effect when it started, for the tokens it actually sent
(a cut stream pays for what went out before the cut).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from gameday.mocks.controls import Price

__all__ = ["Bill", "ModelBill"]

PER_MILLION = 1_000_000


@dataclass
class ModelBill:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0


class Bill:
    def __init__(self, provider: str, models: Iterable[str], clock: Callable[[], float] = time.time) -> None:
        self.provider = provider
        self.model_names = list(models)
        self.clock = clock
        self.models = {name: ModelBill() for name in self.model_names}
        self.since = clock()

    def charge(self, model: str, price: Price, input_tokens: int, output_tokens: int) -> float:
        """Add one completed request; returns its cost in USD."""
        usd = (input_tokens * price.input + output_tokens * price.output) / PER_MILLION
        entry = self.models[model]
        entry.requests += 1
        entry.input_tokens += input_tokens
        entry.output_tokens += output_tokens
        entry.usd += usd
        return usd

    def snapshot(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "models": {name: asdict(entry) for name, entry in self.models.items()},
            "total_usd": sum(entry.usd for entry in self.models.values()),
            "since": self.since,
        }

    def reset(self) -> dict[str, Any]:
        """Start a new bill; returns the one it held."""
        held = self.snapshot()
        self.models = {name: ModelBill() for name in self.model_names}
        self.since = self.clock()
        return held
