"""What the measurement needs to know about the scenario, kept inside the result.

A `RunPlan` is the scenario reduced to what metrics, verdicts, reports and runbooks read: phases
with their faults, allowed models per class, the spend ceiling, expectations and abort
conditions. It is saved in `summary.json`, so a results folder re-renders and re-judges alone,
without importing the load engine or the fault kinds the full scenario model needs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gameday.config.expectations import AbortCondition, Expectation

__all__ = ["FaultPlan", "PhasePlan", "RunPlan"]

Scalar = str | int | float | bool | None


class FaultPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    target: str | None = Field(default=None, description="the provider it aims at, when it aims at one")
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.kind} on {self.target}" if self.target else self.kind


class PhasePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    duration_s: float
    faults: list[FaultPlan] = Field(default_factory=list)
    allowed_models: dict[str, list[str]] | None = None


class RunPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    scenario: str
    description: str = ""
    seed: int | None = None
    phases: list[PhasePlan] = Field(default_factory=list)
    allowed_models: dict[str, list[str]] = Field(default_factory=dict)
    ceiling_usd_per_min: float | None = None
    expectations: list[Expectation] = Field(default_factory=list)
    abort_if: list[AbortCondition] = Field(default_factory=list)
    target_url: str | None = None
    time_scale: float = 1.0

    def phase(self, name: str) -> PhasePlan | None:
        return next((p for p in self.phases if p.name == name), None)

    def allowed_for(self, phase: str, task: str, tier: str | None) -> list[str] | None:
        """Models allowed for `task` at `tier` in `phase`: the phase's table first, then the scenario's;
        in each, `class@tier` before `class` before `*`. None when no table says anything."""
        tables = []
        plan = self.phase(phase)
        if plan is not None and plan.allowed_models:
            tables.append(plan.allowed_models)
        tables.append(self.allowed_models)
        for table in tables:
            for key in (f"{task}@{tier}" if tier else None, task, "*"):
                if key is not None and key in table:
                    return table[key]
        return None

    def baseline_phase(self) -> str | None:
        """The phase latencies are compared against: one named `baseline`, else the first without faults."""
        for p in self.phases:
            if p.name == "baseline":
                return p.name
        return next((p.name for p in self.phases if not p.faults), None)

    @classmethod
    def from_scenario(cls, scenario: Any, *, time_scale: float = 1.0, target_url: str | None = None) -> RunPlan:
        """Reduce a `gameday.config.scenario.Scenario` (already scaled) to the plan."""
        phases = []
        for p in scenario.phases:
            faults = []
            for spec in p.faults:
                params = spec.params() if hasattr(spec, "params") else spec.model_dump(exclude={"kind"})
                faults.append(FaultPlan(kind=spec.kind, target=getattr(spec, "provider", None), params=params))
            phases.append(
                PhasePlan(name=p.name, duration_s=p.duration_s, faults=faults, allowed_models=p.allowed_models)
            )
        target = getattr(scenario, "target", None)
        return cls(
            scenario=scenario.name,
            description=scenario.description,
            seed=scenario.seed,
            phases=phases,
            allowed_models=dict(scenario.allowed_models),
            ceiling_usd_per_min=scenario.ceiling_usd_per_min,
            expectations=list(scenario.expectations),
            abort_if=list(scenario.abort_if),
            target_url=target_url or (getattr(target, "url", None) if target is not None else None),
            time_scale=time_scale,
        )
