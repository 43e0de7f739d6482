"""From a run's raw material (plan, records, events, bill) to its `RunResult`, metrics filled in.

Records are sliced by the phase the load stamped on them; phase windows (for rates and the bill)
come from the phase events. The whole run is the slice named `run`. Verdicts are not judged
here; `gameday.verdict.judge` adds them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from gameday.measure.bill import BillLedger
from gameday.measure.detect import observe_faults
from gameday.measure.events import Event, PhaseWindow, phase_windows
from gameday.measure.histograms import HistogramSet, Series
from gameday.measure.plan import RunPlan
from gameday.measure.record import RequestRecord
from gameday.measure.result import BillSummary, FaultObservation, Integrity, Metrics, RunResult, SliceResult
from gameday.measure.slices import record_metrics, where_text

__all__ = ["RUN_SLICE", "build_histograms", "compute_result"]

RUN_SLICE = "run"


def build_histograms(records: Sequence[RequestRecord]) -> dict[str, HistogramSet]:
    """One histogram set per phase, plus the whole run (named `run`) as their merge."""
    per_phase: dict[str, HistogramSet] = defaultdict(HistogramSet)
    for r in records:
        per_phase[r.phase].record_request(r)
    run = HistogramSet()
    for hset in per_phase.values():
        run.add(hset)
    return {**per_phase, RUN_SLICE: run}


def compute_result(
    plan: RunPlan,
    records: Sequence[RequestRecord],
    events: Sequence[Event],
    ledger: BillLedger | None = None,
    *,
    sent: int | None = None,
    started_wall: float | None = None,
    histograms: dict[str, HistogramSet] | None = None,
    recovery_window_s: float | None = None,
) -> RunResult:
    ledger = ledger or BillLedger()
    hists = histograms if histograms is not None else build_histograms(records)
    last_t = max((r.done_t for r in records), default=None)
    windows = phase_windows(list(events), plan, last_t)
    known = {w.name for w in windows}
    for name in dict.fromkeys(r.phase for r in records):
        if name not in known:  # stamped with a phase the events never opened: still measure it
            ts = [r.t for r in records if r.phase == name]
            windows.append(PhaseWindow(name=name, start_s=min(ts), end_s=max(ts), ended=False))
    baseline = plan.baseline_phase()
    faults = observe_faults(plan, events, records, windows, baseline, window_s=recovery_window_s)

    by_phase: dict[str, list[RequestRecord]] = defaultdict(list)
    for r in records:
        by_phase[r.phase].append(r)
    phases = [
        _slice(w, by_phase.get(w.name, []), hists.get(w.name, HistogramSet()), plan, ledger, w.name, faults, records)
        for w in windows
    ]
    run_start = min((w.start_s for w in windows), default=0.0)
    run_end = max([w.end_s for w in windows] + ([last_t] if last_t is not None else []), default=run_start)
    run_window = PhaseWindow(name=RUN_SLICE, start_s=run_start, end_s=run_end, ended=all(w.ended for w in windows))
    run = _slice(run_window, list(records), hists.get(RUN_SLICE, HistogramSet()), plan, ledger, None, faults, records)

    integrity = Integrity(sent=sent, recorded=len(records), matches=None if sent is None else sent == len(records))
    if integrity.unrecorded is not None:
        run.overall.values["unrecorded_requests"] = float(integrity.unrecorded)
    else:
        run.overall.values["unrecorded_requests"] = None
        run.overall.notes["unrecorded_requests"] = "the load engine did not say how many requests it sent"

    aborts = [e for e in events if e.event == "abort"]
    return RunResult(
        plan=plan,
        started_wall=started_wall if started_wall is not None else _first_wall(events),
        duration_s=run_window.duration_s,
        aborted=bool(aborts),
        abort_reason=_abort_reason(aborts[0]) if aborts else None,
        baseline_phase=baseline,
        phases=phases,
        run=run,
        faults=faults,
        integrity=integrity,
        bill=BillSummary(
            available=not ledger.empty,
            providers=ledger.providers(),
            snapshots=len(ledger.snapshots),
            errors=ledger.errors(),
        ),
    )


def _slice(
    window: PhaseWindow,
    records: list[RequestRecord],
    hists: HistogramSet,
    plan: RunPlan,
    ledger: BillLedger,
    phase: str | None,
    faults: list[FaultObservation],
    all_records: Sequence[RequestRecord],
) -> SliceResult:
    duration = window.duration_s
    overall = record_metrics(records, hists, plan, duration, phase)
    classes = sorted({r.task for r in records})
    by_class = {
        c: record_metrics([r for r in records if r.task == c], hists, plan, duration, phase, c) for c in classes
    }
    _bill_metrics(overall, by_class, ledger, window, phase, _claimed_completed(all_records, window, phase is None))
    _fault_metrics(overall, faults, phase)
    planned = plan.phase(window.name)
    fault_labels = [f.label for f in planned.faults] if planned else []
    return SliceResult(
        name=window.name,
        start_s=window.start_s,
        end_s=window.end_s,
        ended=window.ended,
        faults=fault_labels,
        overall=overall,
        by_class=by_class,
        spend_by_model=ledger.spend_by_model(window.start_s, window.end_s) if not ledger.empty else {},
        latency_by_model=_latency_by_model(hists),
    )


def _latency_by_model(hists: HistogramSet) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for key in hists.series_keys():
        series, _, model = key.partition("|model=")
        if not model or series not in (Series.TTFT, Series.E2E):
            continue
        values = hists.percentiles(key, (50.0, 95.0))
        if values is None:
            continue
        row = out.setdefault(model, {})
        row[f"{series}_p50_s"], row[f"{series}_p95_s"] = values[50.0], values[95.0]
        if series == Series.E2E:
            row["requests"] = float(hists.count(key))
    return dict(sorted(out.items()))


def _claimed_completed(records: Sequence[RequestRecord], window: PhaseWindow, whole_run: bool) -> float | None:
    """The gateway's claims for the requests that ended inside the window.

    A provider bills a response when it completes, so the claim to hold against a slice of the bill is
    that of the requests completed in it, not of those sent in it: a phase's last requests end (and are
    billed) in the next one.
    """
    claims = [
        r.cost_usd
        for r in records
        if r.cost_usd is not None
        and window.start_s <= r.done_t
        and (r.done_t <= window.end_s if whole_run else r.done_t < window.end_s)
    ]
    return sum(claims) if claims else None


def _bill_metrics(
    overall: Metrics,
    by_class: dict[str, Metrics],
    ledger: BillLedger,
    window: PhaseWindow,
    phase: str | None,
    claimed_completed: float | None,
) -> None:
    where = where_text(phase, None)
    names = ("spend_usd", "spend_per_min_usd", "peak_spend_per_min_usd", "claim_error_ratio", "cost_per_success_usd")
    spend = ledger.spend_between(window.start_s, window.end_s)
    if spend is None:
        why = "no bill was read from the providers (see bill errors in summary.json)"
        for name in names:
            overall.values[name] = None
            overall.notes[name] = why
        for m in by_class.values():
            m.values["cost_per_success_usd"] = None
            m.notes["cost_per_success_usd"] = why
        return
    overall.values["spend_usd"] = spend
    duration = window.duration_s
    overall.values["spend_per_min_usd"] = spend / duration * 60.0 if duration > 0 else None
    peak = ledger.peak_per_min(window.start_s, window.end_s)
    overall.values["peak_spend_per_min_usd"] = peak
    if peak is None:
        overall.notes["peak_spend_per_min_usd"] = f"fewer than two bill snapshots {where}"
    if duration <= 0:
        overall.notes["spend_per_min_usd"] = f"the slice {where} lasted no time"
    claimed = overall.get("claimed_spend_usd")
    if claimed_completed is not None and spend > 0:
        overall.values["claim_error_ratio"] = (claimed_completed - spend) / spend
    else:
        overall.values["claim_error_ratio"] = None
        overall.notes["claim_error_ratio"] = (
            f"the gateway claimed no cost {where}"
            if claimed_completed is None
            else f"the providers billed nothing {where}"
        )
    successes = overall.get("successes") or 0.0
    overall.values["cost_per_success_usd"] = spend / successes if successes else None
    if not successes:
        overall.notes["cost_per_success_usd"] = f"no task succeeded {where}"
    for cls, m in by_class.items():
        cls_claim, cls_ok = m.get("claimed_spend_usd"), m.get("successes") or 0.0
        if claimed and cls_claim is not None and cls_ok:
            # The bill does not know classes: share it out in proportion to the gateway's claims.
            m.values["cost_per_success_usd"] = spend * (cls_claim / claimed) / cls_ok
        else:
            m.values["cost_per_success_usd"] = None
            m.notes["cost_per_success_usd"] = (
                f"no task of class {cls} succeeded {where}"
                if not cls_ok
                else "per-class cost shares the bill out by the gateway's cost claims, and it gave none"
            )


def _fault_metrics(overall: Metrics, faults: list[FaultObservation], phase: str | None) -> None:
    mine = [f for f in faults if phase is None or f.phase == phase]
    for metric, attr, note_attr in (
        ("time_to_detect_s", "time_to_detect_s", "detect_note"),
        ("time_to_recover_s", "time_to_recover_s", "recover_note"),
    ):
        if not mine:
            overall.values[metric] = None
            overall.notes[metric] = f"no fault was injected {where_text(phase, None)}"
            continue
        values = [getattr(f, attr) for f in mine]
        if any(v is None for v in values):
            missing = next(f for f in mine if getattr(f, attr) is None)
            overall.values[metric] = None
            overall.notes[metric] = f"phase {missing.phase}: {getattr(missing, note_attr)}"
        else:
            overall.values[metric] = max(values)  # the worst fault speaks for the run


def _abort_reason(event: Event) -> str:
    detail = event.detail
    if isinstance(detail, str) and detail:
        return detail
    if isinstance(detail, dict) and detail.get("reason"):
        return str(detail["reason"])
    extra = getattr(event, "reason", None)
    return str(extra) if extra else "aborted"


def _first_wall(events: Sequence[Event]) -> float | None:
    walls = [e.wall - e.t for e in events if e.wall is not None]
    return min(walls) if walls else None
