"""Latency models: lognormals fitted from two quantiles, and how load stretches them.

A profile gives p50 and p95 at one request in flight. Under load, per-token time grows with the
number of requests running (continuous batching shares each decode step), and the first token waits
for the prompt's prefill and for the running batch (`gameday.config.profile.Capacity`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from gameday.config.profile import Capacity, LatencyQuantiles

__all__ = ["Z95", "LogNormal", "first_token_s", "per_token_factor"]

Z95 = 1.6448536269514722  # the standard normal's 95th percentile


@dataclass(frozen=True, slots=True)
class LogNormal:
    """exp(N(mu, sigma)); `from_quantiles` puts its median at p50 and its 95th percentile at p95."""

    mu: float
    sigma: float

    @classmethod
    def from_quantiles(cls, q: LatencyQuantiles) -> LogNormal:
        return cls(math.log(q.p50_s), (math.log(q.p95_s) - math.log(q.p50_s)) / Z95)

    def sample(self, rng: random.Random) -> float:
        return rng.lognormvariate(self.mu, self.sigma) if self.sigma > 0 else math.exp(self.mu)

    def quantile(self, z: float) -> float:
        return math.exp(self.mu + self.sigma * z)


def per_token_factor(capacity: Capacity, running: int, slots: int | None = None) -> float:
    """How much longer each token takes with `running` requests generating than with one.

    Without an explicit knee the batch is "full" at the live number of slots (`slots`, after an
    admin capacity change), else at the profile's max_concurrency.
    """
    knee = capacity.knee or slots or capacity.max_concurrency
    n = max(running, 1)
    factor = 1.0 + capacity.batching_slowdown * min(n, knee) / knee
    if n > knee:
        factor *= (n / knee) ** capacity.past_knee_exponent
    return factor


def first_token_s(base_s: float, capacity: Capacity, running: int, prompt_tokens: int) -> float:
    """Time from admission to the first token: the sampled base, the prompt's prefill, the batch's share."""
    others = max(running - 1, 0)
    return base_s + capacity.prefill_s_per_1k_tokens * prompt_tokens / 1000 + capacity.contention_s * others
