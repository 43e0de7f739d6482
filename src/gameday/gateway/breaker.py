"""A circuit breaker per upstream model: rolling failure rate, minimum volume, open interval, half-open probes.

closed -> open      when, over the last `window_s`, at least `min_requests` attempts were seen and the
                    share that failed is at least `failure_rate`;
open -> half_open   once `open_s` has passed: up to `half_open_probes` attempts are let through;
half_open -> closed when that many probes succeeded (the window starts afresh);
half_open -> open   at the first failed probe.

The clock is injected; nothing here sleeps or awaits.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from gameday.config.policy import BreakerSettings

__all__ = ["STATE_VALUES", "Breaker", "State"]

State = Literal["closed", "open", "half_open"]
STATE_VALUES: dict[str, int] = {"closed": 0, "half_open": 1, "open": 2}  # the /metrics gauge


class Breaker:
    def __init__(self, name: str, settings: BreakerSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.settings = settings
        self._clock = clock
        self._state: State = "closed"
        self._events: deque[tuple[float, bool]] = deque()  # (instant, failed)
        self._failures = 0
        self._opened_at = 0.0
        self._probes_out = 0
        self._probes_ok = 0
        self.transitions = 0
        self.last_change: float | None = None

    @property
    def state(self) -> State:
        if self._state == "open" and self._clock() - self._opened_at >= self.settings.open_s:
            self._move("half_open")
        return self._state

    def allow(self) -> bool:
        """May an attempt go to this model now? In half-open, each True takes one of the probe slots."""
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        if self._probes_out + self._probes_ok >= self.settings.half_open_probes:
            # a probe that never reported (its request vanished) must not wedge the breaker half-open
            if not (self._probes_out and self._clock() - (self.last_change or 0.0) > self.settings.open_s):
                return False
            self._probes_out = 0
            self.last_change = self._clock()
        self._probes_out += 1
        return True

    def record_success(self) -> None:
        if self._state == "half_open":
            self._probes_out = max(0, self._probes_out - 1)
            self._probes_ok += 1
            if self._probes_ok >= self.settings.half_open_probes:
                self._move("closed")
            return
        self._add(False)

    def record_failure(self) -> None:
        if self._state == "half_open":
            self._move("open")
            return
        if self._state == "open":
            return  # a straggler from before it opened; the open interval already counts
        self._add(True)
        s = self.settings
        if len(self._events) >= s.min_requests and self._failures >= s.failure_rate * len(self._events):
            self._move("open")

    def release(self) -> None:
        """An allowed attempt that ended without a verdict (cancelled): give its probe slot back."""
        if self._state == "half_open":
            self._probes_out = max(0, self._probes_out - 1)

    def snapshot(self) -> dict[str, Any]:
        state = self.state
        self._roll(self._clock())
        total = len(self._events)
        return {
            "name": self.name,
            "state": state,
            "requests_in_window": total,
            "failures_in_window": self._failures,
            "failure_rate": round(self._failures / total, 4) if total else 0.0,
            "open_for_s": round(max(0.0, self.settings.open_s - (self._clock() - self._opened_at)), 3)
            if state == "open"
            else 0.0,
            "transitions": self.transitions,
        }

    def _add(self, failed: bool) -> None:
        now = self._clock()
        self._roll(now)
        self._events.append((now, failed))
        self._failures += failed

    def _roll(self, now: float) -> None:
        horizon = now - self.settings.window_s
        events = self._events
        while events and events[0][0] <= horizon:
            self._failures -= events.popleft()[1]

    def _move(self, state: State) -> None:
        self._state = state
        self.transitions += 1
        self.last_change = self._clock()
        self._probes_out = self._probes_ok = 0
        if state == "open":
            self._opened_at = self.last_change
        if state == "closed":
            self._events.clear()
            self._failures = 0
