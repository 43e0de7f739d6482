"""Expectations -> verdicts: each holds or fails with one sentence naming metric, place, bound and value.

A metric without data fails and says why ("no requests of class chat in phase outage"): an
expectation that cannot be checked must not pass silently.
"""

from __future__ import annotations

from gameday.config.expectations import Expectation
from gameday.measure.result import RunResult, Verdict
from gameday.verdict.wording import fmt_pair, fmt_value, where_phrase

__all__ = ["evaluate", "integrity_verdicts", "judge"]


def judge(result: RunResult) -> RunResult:
    """The result with its verdicts: one per expectation of the plan, then the run's own checks."""
    verdicts = [evaluate(e, result) for e in result.plan.expectations]
    verdicts += integrity_verdicts(result)
    return result.model_copy(update={"verdicts": verdicts})


def evaluate(exp: Expectation, result: RunResult) -> Verdict:
    metric = exp.metric.value
    subject = f"{metric} {where_phrase(exp.phase, exp.workload_class)}"
    value, why = result.value(metric, exp.phase, exp.workload_class)
    lo, hi, bound_text, ceiling_note = exp.min, exp.max, [], ""
    if exp.max_ceiling_ratio is not None:
        ceiling = result.plan.ceiling_usd_per_min
        if ceiling is None:
            return _verdict(
                exp,
                value,
                False,
                "max_ceiling_ratio set",
                f"{subject} cannot be judged against the ceiling: the scenario sets no ceiling_usd_per_min",
            )
        ratio_hi = exp.max_ceiling_ratio * ceiling
        hi = ratio_hi if hi is None else min(hi, ratio_hi)
        ceiling_note = f", {exp.max_ceiling_ratio:g}x the ceiling {fmt_value(metric, ceiling)}"
    if lo is not None:
        bound_text.append(f"min {fmt_value(metric, lo)}")
    if hi is not None:
        bound_text.append(f"max {fmt_value(metric, hi)}{ceiling_note}")
    bound = ", ".join(bound_text)
    if value is None:
        return _verdict(exp, None, False, bound, f"{subject} has no value: {why}")
    if hi is not None and value > hi:
        shown, limit = fmt_pair(metric, value, hi)
        return _verdict(exp, value, False, bound, f"{subject} was {shown}, above the bound {limit}{ceiling_note}")
    if lo is not None and value < lo:
        shown, limit = fmt_pair(metric, value, lo)
        return _verdict(exp, value, False, bound, f"{subject} was {shown}, below the bound {limit}")
    return _verdict(exp, value, True, bound, f"{subject} was {fmt_value(metric, value)}, within the bound ({bound})")


def _verdict(exp: Expectation, value: float | None, passed: bool, bound: str, sentence: str) -> Verdict:
    return Verdict(
        name=exp.label,
        metric=exp.metric.value,
        phase=exp.phase,
        workload_class=exp.workload_class,
        bound=bound,
        measured=value,
        passed=passed,
        sentence=sentence,
    )


def integrity_verdicts(result: RunResult) -> list[Verdict]:
    """Checks every run gets: every request recorded, and the run not aborted."""
    out = []
    integ = result.integrity
    if integ.sent is not None:
        ok = integ.sent == integ.recorded
        out.append(
            Verdict(
                name="every request sent was recorded",
                kind="integrity",
                metric="unrecorded_requests",
                bound="max 0",
                measured=float(integ.sent - integ.recorded),
                passed=ok,
                sentence=(
                    f"{integ.recorded} requests recorded of {integ.sent} sent"
                    + ("" if ok else f": {integ.sent - integ.recorded} missing from requests.jsonl")
                ),
            )
        )
    if result.aborted:
        out.append(
            Verdict(
                name="the run completed without an abort",
                kind="integrity",
                metric="aborted",
                passed=False,
                sentence=f"the run was aborted: {result.abort_reason or 'no reason recorded'}",
            )
        )
    return out
