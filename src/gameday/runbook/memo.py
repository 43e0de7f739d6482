"""The go/no-go memo: the decision and the five deltas against the baseline.

Capability (do tasks still succeed, on the right models), latency, economics (spend against the
ceiling, cost per task, the gateway's claims against the bill), risk (errors, detection,
recovery, aborts) and engineering (is the evidence complete). Each delta is computed from the
result; a delta with nothing measured says "not observed".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gameday.measure.result import RunResult, SliceResult, Verdict
from gameday.verdict.wording import fmt_value

__all__ = ["Delta", "category_of", "deltas"]

CATEGORIES = ("capability", "latency", "economics", "risk", "engineering")


def category_of(metric: str) -> str:
    if metric in ("task_success_rate", "fallback_correctness", "malformed_handling_rate", "successes", "success_rps"):
        return "capability"
    if metric.startswith(("ttft", "e2e", "itl", "time_to_", "throughput", "tokens_per")):
        return "latency"
    if metric.startswith(("spend", "peak_spend", "cost", "claim")):
        return "economics"
    if metric.startswith(("error", "fallback_rate", "aborted")):
        return "risk"
    return "engineering"


@dataclass
class Delta:
    name: str
    status: str = "ok"  # ok | concern | not observed
    lines: list[str] = field(default_factory=list)
    failed: list[Verdict] = field(default_factory=list)


def _extreme(result: RunResult, metric: str, worst_high: bool) -> tuple[float, str] | None:
    faulted = [p for p in result.phases if p.name != result.baseline_phase]
    values = [(v, p.name) for p in faulted if (v := p.overall.get(metric)) is not None]
    if not values:
        return None
    return max(values) if worst_high else min(values)


def _line(result: RunResult, base: SliceResult | None, metric: str, label: str, worst_high: bool) -> str | None:
    worst = _extreme(result, metric, worst_high)
    before = base.overall.get(metric) if base is not None else None
    if worst is None and before is None:
        return None
    if worst is None:
        return f"{label}: {fmt_value(metric, before or 0.0)} in the baseline; no other phase measured it"
    value, phase = worst
    extreme = f"{'worst' if worst_high else 'lowest'} {fmt_value(metric, value)}"
    if before is None:
        return f"{label}: {extreme} (phase {phase}); no baseline"
    return f"{label}: {fmt_value(metric, before)} in the baseline, {extreme} in phase {phase}"


def deltas(result: RunResult) -> list[Delta]:
    base = result.slice(result.baseline_phase) if result.baseline_phase else None
    out = {name: Delta(name) for name in CATEGORIES}
    for v in result.verdicts:
        if not v.passed:
            out[category_of(v.metric)].failed.append(v)

    cap = out["capability"]
    for metric, label in (
        ("task_success_rate", "task success"),
        ("fallback_correctness", "fallback correctness"),
        ("malformed_handling_rate", "malformed requests refused with a 4xx"),
    ):
        if (line := _line(result, base, metric, label, worst_high=False)) is not None:
            cap.lines.append(line)

    lat = out["latency"]
    for metric, label in (("ttft_p95_s", "TTFT P95"), ("e2e_p95_s", "end-to-end P95")):
        if (line := _line(result, base, metric, label, worst_high=True)) is not None:
            lat.lines.append(line)
    for f in result.faults:
        ttd = f"{f.time_to_detect_s:.2f} s" if f.time_to_detect_s is not None else "not observed"
        ttr = f"{f.time_to_recover_s:.2f} s" if f.time_to_recover_s is not None else "not observed"
        lat.lines.append(f"phase {f.phase} ({', '.join(f.faults)}): time to detect {ttd}, time to recover {ttr}")

    eco = out["economics"]
    if not result.bill.available:
        eco.status = "not observed"
        eco.lines.append("spend: not observed (no bill was read from the providers)")
    else:
        if (line := _line(result, base, "spend_per_min_usd", "billed spend per minute", worst_high=True)) is not None:
            eco.lines.append(line)
        peak = result.run.overall.get("peak_spend_per_min_usd")
        ceiling = result.plan.ceiling_usd_per_min
        if peak is not None:
            vs = f", {peak / ceiling:.0%} of the ceiling ${ceiling:g}/min" if ceiling else " (no ceiling set)"
            eco.lines.append(f"peak billed spend {fmt_value('peak_spend_per_min_usd', peak)}{vs}")
            if ceiling and peak > ceiling:
                eco.status = "concern"
        if (
            line := _line(result, base, "cost_per_success_usd", "cost per successful task", worst_high=True)
        ) is not None:
            eco.lines.append(line)
        claim = result.run.overall.get("claim_error_ratio")
        if claim is not None:
            eco.lines.append(f"gateway's cost claims vs the bill: {claim:+.1%}")
            if abs(claim) > 0.05:
                eco.status = "concern"
        else:
            why = result.run.overall.why_missing("claim_error_ratio")
            eco.lines.append(f"gateway's cost claims vs the bill: not observed ({why})")

    risk = out["risk"]
    if result.aborted:
        risk.status = "concern"
        risk.lines.append(f"the run was aborted: {result.abort_reason}")
    if (line := _line(result, base, "error_rate", "error rate", worst_high=True)) is not None:
        risk.lines.append(line)
    undetected = [f.phase for f in result.faults if f.time_to_detect_s is None]
    unrecovered = [f.phase for f in result.faults if f.time_to_recover_s is None]
    if undetected:
        risk.lines.append(f"faults the gateway did not steer around: {', '.join(undetected)}")
    if unrecovered:
        risk.lines.append(f"faults with no observed recovery: {', '.join(unrecovered)}")
    if not result.faults:
        risk.lines.append("no fault was injected: resilience not observed")

    eng = out["engineering"]
    integ = result.integrity
    if integ.sent is None:
        eng.lines.append("sent == recorded: not checked (the load engine did not report its count)")
    else:
        eng.lines.append(f"{integ.recorded} of {integ.sent} requests recorded")
        if not integ.matches:
            eng.status = "concern"
    if result.bill.errors:
        eng.status = "concern"
        eng.lines.append("bill read errors: " + "; ".join(f"{p}: {e}" for p, e in result.bill.errors.items()))
    missing = [v for v in result.verdicts if v.measured is None and not v.passed]
    if missing:
        eng.lines.append(f"{len(missing)} expectation(s) could not be measured (see below)")

    for d in out.values():
        if d.failed:
            d.status = "concern"
        if not d.lines and not d.failed and d.status == "ok":
            d.status = "not observed"
            d.lines.append("not observed")
    return list(out.values())
