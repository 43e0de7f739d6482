"""The metric registry and the expectation / abort_if models a scenario is checked against."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gameday.config.expectations import LIVE_METRICS, METRICS, AbortCondition, Expectation, Unit
from gameday.measure.compute import compute_result
from gameday.measure.plan import PhasePlan, RunPlan
from gameday.measure.record import RequestRecord


def test_every_registered_metric_is_computed() -> None:
    plan = RunPlan(scenario="s", phases=[PhasePlan(name="a", duration_s=1)])
    result = compute_result(plan, [RequestRecord(t=0, phase="a", task="c", status=200, out_tokens=1)], [], None)
    assert set(result.run.overall.values) == set(METRICS)
    assert set(result.phases[0].by_class["c"].values) <= set(METRICS)


def test_units_are_documented() -> None:
    assert METRICS["ttft_p95_s"].unit is Unit.SECONDS
    assert METRICS["error_rate"].unit is Unit.RATIO
    assert METRICS["peak_spend_per_min_usd"].unit is Unit.USD_PER_MIN
    assert all(m.description for m in METRICS.values())
    assert set(LIVE_METRICS) <= set(METRICS)


def test_unknown_metric_lists_the_valid_ones() -> None:
    with pytest.raises(ValidationError) as info:
        Expectation.model_validate({"metric": "ttft_p96_s", "max": 1})
    text = str(info.value)
    assert "unknown metric 'ttft_p96_s'" in text
    assert "ttft_p95_s" in text
    assert "fallback_correctness" in text


def test_class_alias_and_label() -> None:
    e = Expectation.model_validate({"metric": "ttft_p95_s", "phase": "outage", "class": "chat", "max": 2.5})
    assert e.workload_class == "chat"
    assert e.label == "ttft_p95_s in outage for chat"
    assert e.model_dump(by_alias=True)["class"] == "chat"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"metric": "error_rate"}, "has no bound"),
        ({"metric": "error_rate", "min": 0.5, "max": 0.1}, "greater than max"),
        ({"metric": "error_rate", "max_ceiling_ratio": 1}, "spend per minute only"),
        ({"metric": "spend_usd", "class": "chat", "max": 1}, "cannot be filtered by class"),
        ({"metric": "error_rate", "max": 1, "bogus": 1}, "bogus"),
    ],
)
def test_bad_expectations(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Expectation.model_validate(data)


def test_abort_conditions_take_only_live_metrics() -> None:
    assert AbortCondition.model_validate({"metric": "error_rate", "window_s": 10, "max": 0.5}).min_requests == 10
    with pytest.raises(ValidationError, match="cannot be watched live"):
        AbortCondition.model_validate({"metric": "spend_usd", "max": 1})
    with pytest.raises(ValidationError, match="has no bound"):
        AbortCondition.model_validate({"metric": "error_rate"})
