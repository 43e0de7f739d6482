"""Time to detect and time to recover, per faulted phase.

Detection: the first answer the gateway steered away after the fault was injected, at that
answer's completion (what a user saw), minus the injection instant. Steered = the record says
fallback, or it was served by a provider that served less than 5% of its class and tier in the
baseline phase. Only answers completed while the fault was active count.

Recovery: from the fault's removal, windows of `window_s` slide forward by `step_s` over the
requests sent in them; the first window holding at least `min_requests` whose E2E P95 is within
10% of the baseline's and whose error rate is at most 5 points above the baseline's marks
recovery, at the send time of the window's first request. The default window is a quarter of the baseline phase, between
1 and 5 seconds, so short CI runs (time-scaled) still have windows that fit.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Sequence

from gameday.measure.events import Event, PhaseWindow
from gameday.measure.plan import RunPlan
from gameday.measure.record import RequestRecord
from gameday.measure.result import FaultObservation

__all__ = ["RECOVERY_ERROR_SLACK", "RECOVERY_P95_TOLERANCE", "nearest_rank", "observe_faults"]

RECOVERY_P95_TOLERANCE = 0.10
RECOVERY_ERROR_SLACK = 0.05
_USUAL_SHARE = 0.05


def nearest_rank(values: Sequence[float], percentile: float) -> float:
    """The value at rank round(p/100 * n) (at least 1) of the sorted values, as HdrHistogram ranks."""
    ordered = sorted(values)
    rank = max(1, int(percentile * len(ordered) / 100 + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def _usual_providers(baseline: Sequence[RequestRecord]) -> dict[tuple[str, str], set[str]]:
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in baseline:
        if r.served and r.provider is not None:
            counts[(r.task, r.tier)][r.provider] += 1
    return {
        key: {p for p, c in counter.items() if c >= _USUAL_SHARE * sum(counter.values())}
        for key, counter in counts.items()
    }


def _steered(r: RequestRecord, usual: dict[tuple[str, str], set[str]]) -> bool:
    if r.fallback:
        return True
    providers = usual.get((r.task, r.tier))
    return bool(r.served and r.provider is not None and providers and r.provider not in providers)


def observe_faults(
    plan: RunPlan,
    events: Sequence[Event],
    records: Sequence[RequestRecord],
    windows: Sequence[PhaseWindow],
    baseline_phase: str | None,
    window_s: float | None = None,
    step_s: float = 0.25,
    min_requests: int = 5,
) -> list[FaultObservation]:
    normal = sorted((r for r in records if not r.expected_4xx), key=lambda r: r.t)
    baseline = [r for r in normal if r.phase == baseline_phase] if baseline_phase else []
    usual = _usual_providers(baseline)
    base_lat = [r.e2e_corrected_s for r in baseline if r.e2e_corrected_s is not None]
    base_p95 = nearest_rank(base_lat, 95) if base_lat else None
    base_err = sum(1 for r in baseline if r.failed) / len(baseline) if baseline else None
    base_window = next((w for w in windows if w.name == baseline_phase), None)
    if window_s is None:
        window_s = min(5.0, max(1.0, (base_window.duration_s if base_window else 20.0) / 4))
    run_end = max((r.t for r in normal), default=0.0)

    out = []
    for w in windows:
        injects = [e for e in events if e.event == "fault_inject" and e.phase == w.name]
        removes = [e for e in events if e.event == "fault_remove" and e.phase == w.name]
        planned = plan.phase(w.name)
        if not injects and not (planned and planned.faults):
            continue
        planned_faults = planned.faults if planned is not None else []
        labels = [_label(e) for e in injects] or [f.label for f in planned_faults]
        targets = sorted({e.target for e in injects if e.target} | {f.target for f in planned_faults if f.target})
        inject_t = min((e.t for e in injects), default=w.start_s)
        remove_t = max((e.t for e in removes), default=w.end_s if w.ended else None)
        obs = FaultObservation(
            phase=w.name,
            faults=labels,
            targets=targets,
            inject_t=inject_t,
            remove_t=remove_t,
            baseline_e2e_p95_s=base_p95,
            recovery_window_s=window_s,
        )
        active_end = remove_t if remove_t is not None else math.inf
        steered = [r for r in normal if inject_t <= r.done_t <= active_end and _steered(r, usual)]
        obs.steered = len(steered)
        obs.steered_to = dict(
            Counter(f"{r.provider or '?'}/{r.model or '?'}" for r in steered if r.served).most_common()
        )
        fallbacks = [r.done_t for r in steered if r.fallback]
        obs.first_fallback_t = min(fallbacks) if fallbacks else None
        if steered:
            obs.detected_t = min(r.done_t for r in steered)
            obs.time_to_detect_s = obs.detected_t - inject_t
        elif not baseline and not any(r.fallback for r in normal):
            obs.detect_note = (
                "not observed: no fallback was recorded and there is no baseline phase to compare providers with"
            )
        else:
            obs.detect_note = "not observed: no request was steered away while the fault was active"

        _recovery(obs, normal, base_p95, base_err, window_s, step_s, min_requests, run_end)
        out.append(obs)
    return out


def _recovery(
    obs: FaultObservation,
    normal: Sequence[RequestRecord],
    base_p95: float | None,
    base_err: float | None,
    window_s: float,
    step_s: float,
    min_requests: int,
    run_end: float,
) -> None:
    if obs.remove_t is None:
        obs.recover_note = "the fault was never removed (the run stopped first)"
        return
    if base_p95 is None or base_err is None:
        obs.recover_note = "no baseline phase with latencies to compare with"
        return
    limit = base_p95 * (1 + RECOVERY_P95_TOLERANCE)
    sent = [r.t for r in normal]  # `normal` is sorted by send time
    start = obs.remove_t
    k = 0
    while start + window_s <= run_end + 1e-9:
        inside = normal[bisect.bisect_left(sent, start) : bisect.bisect_left(sent, start + window_s)]
        lat = [r.e2e_corrected_s for r in inside if r.e2e_corrected_s is not None]
        if len(lat) >= min_requests:
            err = sum(1 for r in inside if r.failed) / len(inside)
            if nearest_rank(lat, 95) <= limit and err <= base_err + RECOVERY_ERROR_SLACK:
                # Recovery is the first request of that window, not its edge, which may sit in a gap.
                obs.recovered_t = inside[0].t
                obs.time_to_recover_s = max(0.0, inside[0].t - obs.remove_t)
                return
        k += 1
        start = obs.remove_t + k * step_s
    after = max(0.0, run_end - obs.remove_t)
    obs.recover_note = (
        f"not recovered by the end of the run: no {window_s:g} s window in the {after:.1f} s after the fault "
        f"ended had E2E P95 within {RECOVERY_P95_TOLERANCE:.0%} of the baseline's {base_p95:.3f} s"
    )


def _label(e: Event) -> str:
    name = e.fault or "fault"
    return f"{name} on {e.target}" if e.target else name
