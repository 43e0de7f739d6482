"""The run plan: allowed models per phase, class and tier; reduced from a scenario."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Literal

from gameday.config.expectations import Expectation
from gameday.faults.base import ProviderFaultSpec
from gameday.measure.plan import PhasePlan, RunPlan


class _OutageSpec(ProviderFaultSpec):
    kind: Literal["outage"] = "outage"
    mode: str = "disabled"


PLAN = RunPlan(
    scenario="s",
    phases=[
        PhasePlan(name="baseline", duration_s=1),
        PhasePlan(name="outage", duration_s=1, allowed_models={"chat": ["alt", "mini"], "chat@high": ["alt"]}),
    ],
    allowed_models={"chat": ["large"], "*": ["tiny"]},
)


def test_allowed_models_lookup_order() -> None:
    assert PLAN.allowed_for("baseline", "chat", "high") == ["large"]
    assert PLAN.allowed_for("outage", "chat", "high") == ["alt"]  # the phase's class@tier first
    assert PLAN.allowed_for("outage", "chat", "low") == ["alt", "mini"]
    assert PLAN.allowed_for("outage", "summarize", "low") == ["tiny"]  # falls back to the scenario's "*"
    assert RunPlan(scenario="s").allowed_for("x", "chat", None) is None


def test_baseline_phase() -> None:
    assert PLAN.baseline_phase() == "baseline"
    plan = RunPlan(scenario="s", phases=[PhasePlan(name="warm", duration_s=1), PhasePlan(name="b", duration_s=1)])
    assert plan.baseline_phase() == "warm"


def test_from_scenario_keeps_what_measurement_needs() -> None:
    scenario = SimpleNamespace(
        name="provider-outage",
        description="d",
        seed=7,
        phases=[
            SimpleNamespace(name="baseline", duration_s=4.0, faults=[], allowed_models=None),
            SimpleNamespace(
                name="outage", duration_s=6.0, faults=[_OutageSpec(provider="premium")], allowed_models={"chat": ["a"]}
            ),
        ],
        allowed_models={"chat": ["large"]},
        ceiling_usd_per_min=2.0,
        expectations=[Expectation(metric="error_rate", max=0.1)],  # type: ignore[arg-type]
        abort_if=[],
        target=SimpleNamespace(url=None),
    )
    plan = RunPlan.from_scenario(scenario, time_scale=0.2, target_url="http://127.0.0.1:8080")
    assert [p.name for p in plan.phases] == ["baseline", "outage"]
    (fault,) = plan.phases[1].faults
    assert (fault.kind, fault.target, fault.params) == ("outage", "premium", {"mode": "disabled"})
    assert fault.label == "outage on premium"
    assert plan.allowed_for("outage", "chat", None) == ["a"]
    assert plan.ceiling_usd_per_min == 2.0
    assert plan.target_url == "http://127.0.0.1:8080"
    assert plan.time_scale == 0.2
    assert RunPlan.model_validate_json(plan.model_dump_json(by_alias=True)) == plan
