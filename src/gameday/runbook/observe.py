"""What a runbook says about each fault, derived only from what the run observed.

Every sentence here comes from a number in the result, the records or the events. Where nothing
was measured, the sentence says "not observed" instead of guessing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from gameday.measure.plan import RunPlan
from gameday.measure.record import RequestRecord
from gameday.measure.result import FaultObservation, RunResult, SliceResult
from gameday.measure.timeline import Bin
from gameday.runbook.actions import GATEWAY_URL, Action, actions_for
from gameday.runbook.signals import Signal, moved_signals
from gameday.verdict.wording import fmt_value

__all__ = ["FaultSection", "fault_sections", "model_providers"]

NOT_OBSERVED = "not observed"
_USER_FACING = ("error_rate", "e2e_p95_s", "ttft_p95_s", "task_success_rate")
_HEALTH = ("error_rate", "e2e_p95_s", "ttft_p95_s", "fallback_rate", "task_success_rate")


@dataclass
class FaultSection:
    phase: str
    title: str
    kinds: list[str]
    targets: list[str]
    inject_t: float
    remove_t: float | None
    observed: bool
    symptom: list[str] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    gateway: list[str] = field(default_factory=list)
    impact: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    verify: list[str] = field(default_factory=list)
    verify_commands: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def model_providers(records: Sequence[RequestRecord]) -> dict[str, str]:
    """model -> the provider that served it most often in the run."""
    counts: dict[str, Counter[str]] = {}
    for r in records:
        if r.served and r.model and r.provider:
            counts.setdefault(r.model, Counter())[r.provider] += 1
    return {m: c.most_common(1)[0][0] for m, c in counts.items()}


def _pct(a: float | None, b: float | None) -> str:
    if a is None or b is None or a == 0:
        return ""
    return f" ({(b - a) / a:+.0%})"


def _compare(metric: str, base: SliceResult | None, phase: SliceResult, label: str) -> str | None:
    during = phase.overall.get(metric)
    if during is None:
        return None
    if base is None or base.overall.get(metric) is None:
        return f"{label}: {fmt_value(metric, during)} (no baseline to compare with)"
    before = base.overall.get(metric)
    assert before is not None
    return (
        f"{label}: {fmt_value(metric, before)} in the baseline, {fmt_value(metric, during)} here{_pct(before, during)}"
    )


def _routes_served_by(records: Sequence[RequestRecord], phase: str | None, provider: str) -> dict[str, list[str]]:
    """Gateway route -> the classes it carried to `provider` in `phase` (the baseline)."""
    routes: dict[str, set[str]] = {}
    for r in records:
        if r.phase == phase and r.served and r.provider == provider and r.route:
            routes.setdefault(r.route, set()).add(r.task)
    return {route: sorted(classes) for route, classes in sorted(routes.items())}


def _alternatives(
    plan: RunPlan, phase: str, routes: dict[str, list[str]], providers: dict[str, str], target: str
) -> dict[str, str]:
    """Route -> the first model on another provider that every class of the route allows in `phase`."""
    out = {}
    for route, classes in routes.items():
        allowed = [plan.allowed_for(phase, task, None) for task in classes]
        if not allowed or any(a is None for a in allowed):
            continue
        for model in allowed[0] or []:
            if providers.get(model) not in (None, target) and all(model in a for a in allowed if a is not None):
                out[route] = model
                break
    return out


def fault_sections(result: RunResult, records: Sequence[RequestRecord], bins: Sequence[Bin]) -> list[FaultSection]:
    base = result.slice(result.baseline_phase) if result.baseline_phase else None
    providers = model_providers(records)
    target_url = result.plan.target_url or GATEWAY_URL
    return [_section(f, result, records, bins, base, providers, target_url) for f in result.faults]


def _section(
    fault: FaultObservation,
    result: RunResult,
    records: Sequence[RequestRecord],
    bins: Sequence[Bin],
    base: SliceResult | None,
    providers: dict[str, str],
    target_url: str,
) -> FaultSection:
    phase = result.slice(fault.phase)
    assert phase is not None
    plan_phase = result.plan.phase(fault.phase)
    kinds = [f.kind for f in plan_phase.faults] if plan_phase else [label.split(" ")[0] for label in fault.faults]
    signals = moved_signals(fault, phase, base, bins)
    steered = fault.steered > 0
    sec = FaultSection(
        phase=fault.phase,
        title=", ".join(fault.faults) or "fault",
        kinds=kinds,
        targets=fault.targets,
        inject_t=fault.inject_t,
        remove_t=fault.remove_t,
        observed=bool(signals) or steered,
        signals=signals,
    )
    m = phase.overall

    # Symptom as users saw it.
    for s in signals:
        if s.metric in _USER_FACING:
            sec.symptom.append(f"{s.label} went {s.change}")
    if m.errors_by_kind and any(s.metric == "error_rate" for s in signals):
        kinds_text = ", ".join(f"{k} x{n}" for k, n in sorted(m.errors_by_kind.items(), key=lambda kv: -kv[1]))
        sec.symptom.append(f"errors users got: {kinds_text}")
    if not sec.symptom:
        sec.symptom.append(
            f"{NOT_OBSERVED}: users saw no change in latency, errors or task success beyond the noise floors"
        )

    # What the gateway did by itself.
    if steered:
        where = ", ".join(f"{k} x{n}" for k, n in fault.steered_to.items()) or "another route"
        sec.gateway.append(f"steered {fault.steered} requests away while the fault was active: to {where}")
        if fault.time_to_detect_s is not None:
            sec.gateway.append(f"first steered answer {fault.time_to_detect_s:.2f} s after injection (time to detect)")
        if fault.first_fallback_t is not None:
            sec.gateway.append(f"first fallback answer {fault.first_fallback_t - fault.inject_t:.2f} s after injection")
    else:
        sec.gateway.append(f"{NOT_OBSERVED}: {fault.detect_note.removeprefix(NOT_OBSERVED + ': ') or 'no steering'}")
    retried = [r for r in records if r.phase == fault.phase and r.attempts > 1]
    if retried:
        sec.gateway.append(
            f"{len(retried)} requests took more than one attempt (at most {max(r.attempts for r in retried)})"
        )
    routes = Counter(r.route for r in records if r.phase == fault.phase and r.route)
    if routes:
        sec.gateway.append("routes reported: " + ", ".join(f"{k} x{n}" for k, n in routes.most_common(5)))
    sec.gateway.append(f"breaker state: {NOT_OBSERVED} (requests do not carry it; see the gateway's admin state)")

    # Impact.
    for metric, label in (
        ("e2e_p95_s", "end-to-end P95"),
        ("ttft_p95_s", "TTFT P95"),
        ("error_rate", "error rate"),
        ("task_success_rate", "task success"),
        ("fallback_correctness", "fallback correctness"),
        ("spend_per_min_usd", "billed spend per minute"),
        ("cost_per_success_usd", "cost per successful task"),
    ):
        line = _compare(metric, base, phase, label)
        if line:
            sec.impact.append(line)
    if phase.overall.get("spend_usd") is None:
        sec.impact.append(f"spend: {NOT_OBSERVED} ({phase.overall.why_missing('spend_usd')})")
    elif phase.spend_by_model:
        sec.impact.append(
            "billed in this phase: " + ", ".join(f"{k} ${v:.4f}" for k, v in phase.spend_by_model.items())
        )
    wrong = Counter(
        r.model
        for r in records
        if r.phase == fault.phase
        and r.served
        and (allowed := result.plan.allowed_for(r.phase, r.task, r.tier)) is not None
        and r.model not in allowed
    )
    if wrong:
        sec.impact.append(
            "served by a model not allowed for their class and tier: "
            + ", ".join(f"{k} x{n}" for k, n in wrong.most_common())
        )

    # Manual actions.
    for kind, target in zip(kinds, _targets_for(plan_phase, fault), strict=False):
        routes = _routes_served_by(records, result.baseline_phase, target) if target else {}
        alts = _alternatives(result.plan, fault.phase, routes, providers, target) if target else {}
        for action in actions_for(kind, target, routes, alts, base_url=target_url):
            if action not in sec.actions:
                sec.actions.append(action)

    # Verify recovery.
    if fault.time_to_recover_s is not None:
        sec.verify.append(
            f"in this run latency came back {fault.time_to_recover_s:.2f} s after the fault was removed "
            f"(E2E P95 within 10% of the baseline's {fmt_value('e2e_p95_s', fault.baseline_e2e_p95_s or 0.0)} "
            f"over a {fault.recovery_window_s or 0:g} s window)"
        )
    else:
        sec.verify.append(f"recovery: {NOT_OBSERVED} ({fault.recover_note})")
    for s in signals:
        if s.metric in _HEALTH:
            side = "under" if s.rises else "over"
            sec.verify.append(f"{s.label} back {side} {fmt_value(s.metric, s.threshold)} (the alert threshold)")
    sec.verify_commands = _verify_commands(records, result, target_url)

    sec.evidence = [
        "[latency plot](plots/latency.png), [errors and fallbacks](plots/errors.png), "
        "[who served](plots/models.png), [spend](plots/spend.png)",
        f"[report, phase {fault.phase}](report.html#metrics); numbers in summary.json, phase `{fault.phase}`",
        f"injected at t={fault.inject_t:.2f} s"
        + (f", removed at t={fault.remove_t:.2f} s" if fault.remove_t is not None else ", never removed")
        + " (events.jsonl)",
    ]
    return sec


def _targets_for(plan_phase: object, fault: FaultObservation) -> list[str | None]:
    faults = getattr(plan_phase, "faults", None) or []
    if faults:
        return [f.target for f in faults]
    return [t for t in fault.targets] or [None]


def _verify_commands(records: Sequence[RequestRecord], result: RunResult, target_url: str) -> list[str]:
    base = [r for r in records if r.phase == result.baseline_phase and r.served]
    if not base:
        return ["gameday status"]
    sample = Counter((r.task, r.tier, r.model) for r in base).most_common(1)[0][0]
    task, tier, model = sample
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8}, separators=(",", ":")
    )
    return [
        "gameday status",
        f"curl -sS -o /dev/null -D - {target_url}/v1/chat/completions -H 'content-type: application/json' "
        f"-H 'x-gameday-task: {task}' -H 'x-gameday-tier: {tier}' -d '{body}' | grep -i '^x-gameday-'",
    ]
