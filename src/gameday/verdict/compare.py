"""Comparison with a baseline run: a P95 or spend regression beyond a tolerance fails.

Compared per phase present in both runs and over the whole run: `ttft_p95_s`, `e2e_p95_s`
(latency) and `spend_per_min_usd` (the bill). A regression is `current > baseline * (1 +
tolerance)` and also more than a small absolute floor (10 ms, $0.001/min), so near-zero
baselines do not turn noise into failures. A metric the baseline lacks is not compared; one the
current run lacks while the baseline had it fails.
"""

from __future__ import annotations

from gameday.errors import VerdictError
from gameday.measure.result import RunResult, Verdict
from gameday.verdict.wording import fmt_value, where_phrase

__all__ = ["COMPARED", "compare"]

COMPARED: dict[str, float] = {"ttft_p95_s": 0.010, "e2e_p95_s": 0.010, "spend_per_min_usd": 0.001}
"""Metric -> absolute floor under which a difference is noise."""


def compare(current: RunResult, baseline: RunResult, tolerance: float) -> list[Verdict]:
    if tolerance < 0:
        raise VerdictError(f"the regression tolerance must be 0 or more, not {tolerance}")
    if current.scenario != baseline.scenario:
        raise VerdictError(
            f"cannot compare scenario {current.scenario!r} with a baseline run of {baseline.scenario!r}; "
            "give a baseline results folder of the same scenario"
        )
    verdicts = []
    names = [None, *[p.name for p in current.phases if baseline.slice(p.name) is not None]]
    for phase in names:
        for metric, floor in COMPARED.items():
            before, _ = baseline.value(metric, phase)
            if before is None:
                continue
            now, why = current.value(metric, phase)
            subject = f"{metric} {where_phrase(phase, None)}"
            label = f"no regression of {metric} {'in ' + phase if phase else 'over the run'}"
            bound = f"max {fmt_value(metric, before * (1 + tolerance))} (baseline +{tolerance:.0%})"
            if now is None:
                verdicts.append(_v(label, metric, phase, bound, None, False, f"{subject} has no value: {why}"))
                continue
            limit = before * (1 + tolerance)
            worse = now > limit and now - before > floor
            change = (now - before) / before if before else 0.0
            text = (
                f"{subject} was {fmt_value(metric, now)} against {fmt_value(metric, before)} in the baseline run "
                f"({change:+.0%}), {'beyond' if worse else 'within'} the tolerance {tolerance:.0%}"
            )
            verdicts.append(_v(label, metric, phase, bound, now, not worse, text))
    return verdicts


def _v(name: str, metric: str, phase: str | None, bound: str, value: float | None, ok: bool, text: str) -> Verdict:
    return Verdict(
        name=name, kind="regression", metric=metric, phase=phase, bound=bound, measured=value, passed=ok, sentence=text
    )
