"""Rolling numbers for the progress line: last few seconds of requests, nothing kept beyond that."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from gameday.measure.record import RequestRecord
from gameday.runner.progress import Snapshot

__all__ = ["LiveStats"]


class LiveStats:
    """Counts since the start, and a latency window of the last `window` requests for p95."""

    def __init__(self, window: int = 500, rate_window_s: float = 5.0) -> None:
        self.errors = 0
        self.fallbacks = 0
        self.recorded = 0
        self.claimed_usd = 0.0
        self._latencies: deque[float] = deque(maxlen=window)
        self._sent_times: deque[float] = deque()
        self._rate_window_s = rate_window_s
        self._lock = threading.Lock()

    def feed(self, record: RequestRecord) -> None:
        with self._lock:
            self.recorded += 1
            self.errors += record.error is not None
            self.fallbacks += record.fallback
            if record.cost_usd:
                self.claimed_usd += record.cost_usd
            if record.e2e_s is not None and record.error is None:
                self._latencies.append(record.e2e_s)
            self._sent_times.append(record.t)

    def snapshot(self, phase: Any, phase_elapsed: float, run_elapsed: float, run_total: float, sent: int) -> Snapshot:
        with self._lock:
            while self._sent_times and self._sent_times[0] < run_elapsed - self._rate_window_s:
                self._sent_times.popleft()
            rate = len(self._sent_times) / min(self._rate_window_s, max(run_elapsed, 1e-3))
            ordered = sorted(self._latencies)
            p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else None
            return Snapshot(
                phase=phase.name,
                phase_elapsed_s=phase_elapsed,
                phase_duration_s=phase.duration_s,
                run_elapsed_s=run_elapsed,
                run_duration_s=run_total,
                req_per_s=rate,
                p95_s=p95,
                errors=self.errors,
                fallbacks=self.fallbacks,
                sent=sent,
                spend_usd=self.claimed_usd if self.claimed_usd else None,
            )
