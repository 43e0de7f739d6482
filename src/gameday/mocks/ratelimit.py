"""Rate limits as token buckets (requests and tokens per minute), refilled continuously.

A bucket holds one minute's allowance and refills at allowance/60 per second; a request that does
not fit is refused with the time until it would, which becomes `Retry-After`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from gameday.config.profile import RateLimits

__all__ = ["RateLimited", "RateLimiter", "TokenBucket"]


@dataclass
class TokenBucket:
    per_minute: float
    level: float
    updated: float

    def _refill(self, now: float) -> None:
        self.level = min(self.per_minute, self.level + (now - self.updated) * self.per_minute / 60.0)
        self.updated = now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` fits (0 when it fits now; inf when it never can)."""
        self._refill(now)
        if amount <= self.level:
            return 0.0
        if amount > self.per_minute:
            return math.inf
        return (amount - self.level) * 60.0 / self.per_minute

    def take(self, amount: float) -> None:
        self.level -= amount


@dataclass(frozen=True)
class RateLimited:
    """Why a request was refused: which limit, and when to come back."""

    limit_name: str  # "requests" or "tokens"
    limit: int
    remaining: int
    requested: int
    retry_after_s: float

    @property
    def too_large(self) -> bool:
        return math.isinf(self.retry_after_s)


class RateLimiter:
    def __init__(self, limits: RateLimits, clock: Callable[[], float]) -> None:
        now = clock()
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}
        if limits.requests_per_minute is not None:
            self.buckets["requests"] = TokenBucket(limits.requests_per_minute, limits.requests_per_minute, now)
        if limits.tokens_per_minute is not None:
            self.buckets["tokens"] = TokenBucket(limits.tokens_per_minute, limits.tokens_per_minute, now)

    def admit(self, tokens: int) -> RateLimited | None:
        """Charge one request of `tokens` tokens, or say why not (charging nothing)."""
        now = self.clock()
        cost = {"requests": 1, "tokens": tokens}
        waits = {name: bucket.wait_for(cost[name], now) for name, bucket in self.buckets.items()}
        if waits and (name := max(waits, key=waits.__getitem__)) and waits[name] > 0:
            # The longest wait is when the request fits every bucket (inf: it never will).
            bucket = self.buckets[name]
            return RateLimited(name, int(bucket.per_minute), int(bucket.level), cost[name], waits[name])
        for name, bucket in self.buckets.items():
            bucket.take(cost[name])
        return None

    def remaining(self) -> dict[str, tuple[int, int]]:
        """(limit, remaining) per bucket, for the `x-ratelimit-*` headers."""
        return {name: (int(b.per_minute), max(int(b.level), 0)) for name, b in self.buckets.items()}
