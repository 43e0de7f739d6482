"""Everything one mock provider process holds: its profile, seeded generators, controls, bill, metrics.

No globals: the app gets one `MockState`, and tests can build as many as they like. Every request
draws from its own generator, seeded from the process seed and the request's arrival number, so
the same requests in the same order get the same answers, latencies, errors and faults.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from gameday.config.profile import ModelProfile, ProviderProfile
from gameday.mocks.bill import Bill
from gameday.mocks.controls import CapacityBook, ErrorRules, FaultRules, PriceBook
from gameday.mocks.latency import LogNormal
from gameday.mocks.metrics import MockMetrics
from gameday.mocks.ratelimit import RateLimiter

__all__ = ["DEFAULT_KV_TOKENS_PER_SLOT", "MockState", "ModelRuntime"]

DEFAULT_KV_TOKENS_PER_SLOT = 2048  # KV capacity when the profile does not say: 2k tokens per slot


@dataclass
class ModelRuntime:
    name: str
    profile: ModelProfile
    ttft: LogNormal
    itl: LogNormal
    limiter: RateLimiter | None


class MockState:
    def __init__(
        self,
        profile: ProviderProfile,
        seed: int = 0,
        admin_token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.profile = profile
        self.provider = profile.provider
        self.seed = seed
        self.admin_token = admin_token or None
        self.clock = clock
        self.wall_clock = wall_clock
        self.models = {
            name: ModelRuntime(
                name,
                m,
                LogNormal.from_quantiles(m.ttft),
                LogNormal.from_quantiles(m.itl),
                RateLimiter(m.rate_limits, clock) if m.rate_limits else None,
            )
            for name, m in profile.models.items()
        }
        self.errors = ErrorRules()
        self.faults = FaultRules()
        self.prices = PriceBook(profile, wall_clock)
        self.capacity = CapacityBook(profile)
        self.bill = Bill(profile.provider, profile.models, wall_clock)
        kv = {
            name: m.capacity.kv_cache_tokens or m.capacity.max_concurrency * DEFAULT_KV_TOKENS_PER_SLOT
            for name, m in profile.models.items()
        }
        self.metrics = MockMetrics(profile.flavor, self.capacity, kv)
        self.arrivals = 0
        self.started_at = wall_clock()
        self.in_flight: set[asyncio.Task[object]] = set()  # completions being answered, cancelled on shutdown

    def request_rng(self) -> random.Random:
        """The generator of the next request to arrive (string seeds hash the same in every process)."""
        self.arrivals += 1
        return random.Random(f"{self.seed}:{self.arrivals}")

    def cancel_in_flight(self) -> None:
        """Stop every completion still running (a stall can last an hour; shutdown must not wait for it)."""
        for task in list(self.in_flight):
            task.cancel()

    def reset_controls(self) -> None:
        """`POST /admin/reset`: error rates, faults, price and capacity overrides go; the bill stays."""
        self.errors.clear()
        self.faults.clear()
        self.prices.restore()
        self.capacity.restore()
