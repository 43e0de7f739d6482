"""When to try an upstream again, and how long to wait: exponential back-off with full jitter, and Retry-After.

`RetryPolicy` answers three questions: is this failure worth a retry, how long to back off before
pass N, and what an upstream's Retry-After asks for. `Cooldowns` remembers those Retry-After
instants per model, so every request (not only the one that was told) leaves the model alone
until then. Clock and random generator are injected.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from gameday.config.policy import RetrySettings

__all__ = ["Cooldowns", "RetryPolicy", "parse_retry_after"]


def parse_retry_after(
    headers: Mapping[str, str], now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """Seconds asked by `retry-after-ms` or `retry-after` (seconds or an HTTP date); None if absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        value = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now()).total_seconds())
    return value if math.isfinite(value) and value >= 0 else None


class RetryPolicy:
    def __init__(self, settings: RetrySettings, rng: random.Random) -> None:
        self.settings = settings
        self._rng = rng
        self._statuses = frozenset(settings.retry_statuses)

    def retryable(self, status: int | None, connect_error: bool = False) -> bool:
        """Statuses the policy lists, and refused/unreachable connections when it says so."""
        if connect_error:
            return self.settings.retry_connect_errors
        return status is not None and status in self._statuses

    def backoff_s(self, pass_no: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**pass_no)] (pass_no from 0)."""
        s = self.settings
        ceiling = min(s.backoff_cap_s, s.backoff_base_s * (2 ** min(pass_no, 30)))
        return self._rng.uniform(0.0, ceiling)

    def honours(self, retry_after_s: float) -> bool:
        """Retry-After longer than the cap is not waited for: the model is skipped instead."""
        return retry_after_s <= self.settings.retry_after_cap_s


class Cooldowns:
    """model -> the instant before which it should not be asked again (from its Retry-After)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[str, float] = {}

    def hold(self, model: str, seconds: float) -> None:
        until = self._clock() + seconds
        if until > self._until.get(model, 0.0):
            self._until[model] = until

    def wait_s(self, model: str) -> float:
        """Seconds until `model` may be asked again (0 when it may now)."""
        until = self._until.get(model)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._until[model]
            return 0.0
        return left

    def snapshot(self) -> dict[str, float]:
        return {m: round(self.wait_s(m), 3) for m in list(self._until) if self.wait_s(m) > 0}
