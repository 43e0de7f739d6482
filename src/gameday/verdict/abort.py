"""Live `abort_if`: conditions judged over a sliding window of the records that just ended.

The runner feeds every record as it completes and asks `check(now)` on its clock tick; the first
condition broken gives the reason (a sentence), and the runner aborts. A window is judged only
once it holds `min_requests` records, so one early failure cannot abort a run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from gameday.config.expectations import AbortCondition
from gameday.measure.detect import nearest_rank
from gameday.measure.record import RequestRecord
from gameday.measure.slices import error_kind
from gameday.verdict.wording import fmt_pair

__all__ = ["AbortWatcher", "window_value"]


def window_value(metric: str, records: Sequence[RequestRecord], window_s: float) -> float | None:
    """The metric over the records of one window (None when it cannot be computed from them)."""
    n = len(records)
    if n == 0:
        return None
    if metric == "error_rate":
        return sum(1 for r in records if r.failed) / n
    if metric.startswith("error_rate_"):
        kind = metric.removeprefix("error_rate_")
        return sum(1 for r in records if r.failed and error_kind(r) == kind) / n
    if metric == "fallback_rate":
        return sum(1 for r in records if r.fallback) / n
    if metric == "task_success_rate":
        return sum(1 for r in records if r.succeeded) / n
    if metric == "claimed_spend_per_min_usd":
        return sum(r.cost_usd or 0.0 for r in records) / window_s * 60.0
    series, _, rest = metric.partition("_p")
    pct = float(rest.removesuffix("_s"))
    normal = [r for r in records if not r.expected_4xx]
    if series == "ttft":
        values = [v for r in normal if (v := r.ttft_corrected_s) is not None]
    else:
        values = [v for r in normal if (v := r.e2e_corrected_s) is not None]
    return nearest_rank(values, pct) if values else None


class AbortWatcher:
    """Feed records as they end, check on every tick; thread- and greenlet-safe."""

    def __init__(self, conditions: Sequence[AbortCondition]) -> None:
        self.conditions = list(conditions)
        self.horizon_s = max((c.window_s for c in self.conditions), default=0.0)
        self._records: deque[RequestRecord] = deque()
        self._lock = threading.Lock()
        self.reason: str | None = None

    def feed(self, record: RequestRecord) -> None:
        if not self.conditions:
            return
        with self._lock:
            self._records.append(record)

    def check(self, now: float) -> str | None:
        """The first condition broken over its window ending at `now` (run clock), else None.
        Once one has fired, the same reason is returned again."""
        if self.reason is not None or not self.conditions:
            return self.reason
        with self._lock:
            while self._records and self._records[0].done_t <= now - self.horizon_s:
                self._records.popleft()
            recent = list(self._records)
        for cond in self.conditions:
            inside = [
                r
                for r in recent
                if now - cond.window_s < r.done_t <= now
                and (cond.phase is None or r.phase == cond.phase)
                and (cond.workload_class is None or r.task == cond.workload_class)
            ]
            if len(inside) < cond.min_requests:
                continue
            metric = cond.metric.value
            value = window_value(metric, inside, cond.window_s)
            if value is None:
                continue
            where = "".join(
                (
                    f" in phase {cond.phase}" if cond.phase else "",
                    f" for class {cond.workload_class}" if cond.workload_class else "",
                )
            )
            head = f"abort_if: {metric}{where} over the last {cond.window_s:g} s"
            if cond.max is not None and value > cond.max:
                shown, limit = fmt_pair(metric, value, cond.max)
                self.reason = f"{head} was {shown}, above the bound {limit} ({len(inside)} requests)"
            elif cond.min is not None and value < cond.min:
                shown, limit = fmt_pair(metric, value, cond.min)
                self.reason = f"{head} was {shown}, below the bound {limit} ({len(inside)} requests)"
            if self.reason is not None:
                return self.reason
        return None
