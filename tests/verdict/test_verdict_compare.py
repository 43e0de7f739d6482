"""Comparison with a baseline run: P95 and spend regressions beyond a tolerance fail."""

from __future__ import annotations

import pytest

from gameday.errors import VerdictError
from gameday.measure.compute import compute_result
from gameday.measure.record import RequestRecord
from gameday.measure.result import RunResult
from gameday.verdict import compare
from measure.synthrun import bill_from, make_run


def _result(slow: float = 1.0, price: float = 1.0) -> RunResult:
    run = make_run(seed=3)
    records = [
        r.model_copy(
            update={
                "e2e_s": r.e2e_s * slow if r.e2e_s is not None else None,
                "ttft_s": r.ttft_s * slow if r.ttft_s is not None else None,
                "cost_usd": r.cost_usd * price if r.cost_usd is not None else None,
            }
        )
        for r in run.records
    ]
    return compute_result(run.plan, records, run.events, bill_from(records))


def test_same_run_has_no_regression() -> None:
    a = _result()
    verdicts = compare(a, a, tolerance=0.1)
    assert verdicts
    assert all(v.passed for v in verdicts)
    assert {v.kind for v in verdicts} == {"regression"}
    assert {v.metric for v in verdicts} == {"ttft_p95_s", "e2e_p95_s", "spend_per_min_usd"}


def test_slower_run_regresses_latency() -> None:
    verdicts = compare(_result(slow=1.5), _result(), tolerance=0.2)
    failed = {(v.metric, v.phase) for v in verdicts if not v.passed}
    assert ("e2e_p95_s", None) in failed
    assert ("ttft_p95_s", "baseline") in failed
    # Slower answers bill later (phase spend shifts a little), but the run spends the same.
    assert ("spend_per_min_usd", None) not in failed
    v = next(v for v in verdicts if v.metric == "e2e_p95_s" and v.phase is None)
    assert "against" in v.sentence
    assert "(+50%), beyond the tolerance 20%" in v.sentence


def test_pricier_run_regresses_spend() -> None:
    verdicts = compare(_result(price=2.0), _result(), tolerance=0.5)
    failed = {(v.metric, v.phase) for v in verdicts if not v.passed}
    assert failed == {("spend_per_min_usd", p) for p in (None, "baseline", "outage", "recovery")}


def test_within_tolerance_passes() -> None:
    assert all(v.passed for v in compare(_result(slow=1.1), _result(), tolerance=0.2))


def test_refuses_another_scenario_and_negative_tolerance() -> None:
    a = _result()
    other = a.model_copy(update={"plan": a.plan.model_copy(update={"scenario": "latency"})})
    with pytest.raises(VerdictError, match="same scenario"):
        compare(a, other, 0.1)
    with pytest.raises(VerdictError, match="0 or more"):
        compare(a, a, -0.1)


def test_missing_current_value_fails() -> None:
    base = _result()
    empty = compute_result(
        base.plan, [RequestRecord(t=0, phase="baseline", task="chat", status=0, error="connect")], [], None
    )
    failed = [v for v in compare(empty, base, 0.2) if not v.passed]
    assert any("has no value" in v.sentence for v in failed)
