"""Which signals moved during a fault, when they first crossed a threshold, and the alert to set.

A signal moved when the faulted phase differs from the baseline phase by more than its noise
floor. The recommended alert threshold is halfway between the baseline and the fault's level (so
it fires on this fault with margin), and never below the baseline's worst bin (so it stays quiet
on a normal day). "When" is the first timeline bin after injection whose value crosses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gameday.measure.result import FaultObservation, SliceResult
from gameday.measure.timeline import Bin
from gameday.verdict.wording import fmt_value

__all__ = ["Signal", "moved_signals"]


@dataclass(frozen=True)
class Signal:
    metric: str
    label: str
    baseline: float
    during: float
    rises: bool
    threshold: float
    first_crossed_s: float | None  # seconds after injection; None when no bin crossed
    per_second: bool = True  # False: only measured per phase, so there is no crossing time

    @property
    def change(self) -> str:
        return f"{fmt_value(self.metric, self.baseline)} -> {fmt_value(self.metric, self.during)}"

    @property
    def alert(self) -> str:
        op = ">" if self.rises else "<"
        return f"{self.metric} {op} {fmt_value(self.metric, self.threshold)}"


BinValue = Callable[[Bin], float | None]


@dataclass(frozen=True)
class _Spec:
    metric: str
    label: str
    rises: bool
    floor: float  # smallest absolute change that counts
    rel: float  # smallest relative change that counts
    per_bin: BinValue | None


_SPECS = (
    _Spec("error_rate", "error rate", True, 0.01, 0.0, lambda b: b.error_rate),
    _Spec("e2e_p95_s", "end-to-end P95", True, 0.05, 0.2, lambda b: b.e2e.get("p95")),
    _Spec("ttft_p95_s", "time-to-first-token P95", True, 0.05, 0.2, lambda b: b.ttft.get("p95")),
    _Spec("fallback_rate", "fallback rate", True, 0.01, 0.0, lambda b: b.fallback_rate),
    _Spec("task_success_rate", "task success rate", False, 0.01, 0.0, lambda b: b.success_rate),
    _Spec("fallback_correctness", "fallback correctness", False, 0.01, 0.0, None),
    # Spend is noisy over short phases (the bill counts answers as they complete): only a 50% move counts.
    _Spec("spend_per_min_usd", "billed spend per minute", True, 0.0001, 0.5, None),
)


def _moved(spec: _Spec, base: float, during: float) -> bool:
    delta = during - base
    if spec.metric == "spend_per_min_usd":
        return abs(delta) >= spec.floor and abs(delta) >= spec.rel * abs(base)
    if not spec.rises:
        delta = -delta
    return delta >= spec.floor and delta >= spec.rel * abs(base)


def moved_signals(
    fault: FaultObservation,
    phase: SliceResult,
    baseline: SliceResult | None,
    bins: Sequence[Bin],
) -> list[Signal]:
    if baseline is None:
        return []
    out = []
    for spec in _SPECS:
        base, during = baseline.overall.get(spec.metric), phase.overall.get(spec.metric)
        if base is None or during is None or not _moved(spec, base, during):
            continue
        rises = spec.rises if spec.metric != "spend_per_min_usd" else during > base
        threshold = base + (during - base) / 2
        base_bins = [v for b in bins if baseline.start_s <= b.t0 < baseline.end_s and (v := _v(spec, b)) is not None]
        if base_bins and spec.per_bin is not None:
            worst = max(base_bins) if rises else min(base_bins)
            if (rises and threshold <= worst < during) or (not rises and during < worst <= threshold):
                threshold = worst
        crossed = None
        if spec.per_bin is not None:
            end = fault.remove_t if fault.remove_t is not None else phase.end_s
            for b in bins:
                if b.t1 <= fault.inject_t or b.t0 > end:
                    continue
                v = spec.per_bin(b)
                if v is not None and (v > threshold if rises else v < threshold):
                    crossed = max(0.0, b.t0 - fault.inject_t)
                    break
        out.append(Signal(spec.metric, spec.label, base, during, rises, threshold, crossed, spec.per_bin is not None))
    return out


def _v(spec: _Spec, b: Bin) -> float | None:
    return spec.per_bin(b) if spec.per_bin is not None else None
