"""The scenario: which stack, what load, which phases with which faults, what is expected.

Parsed in two steps like every file: the envelope here, then each part into its own model
(load shapes, fault kinds, expectations), each a discriminated union keyed by `kind` or `metric`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from gameday.config.base import StrictModel, relative_to_file
from gameday.config.expectations import AbortCondition, Expectation
from gameday.config.load import Adapter, LoadSpec
from gameday.faults.specs import FaultSpec

__all__ = ["AllowedModels", "Phase", "Scenario", "Suite", "Target"]

AllowedModels = dict[str, list[str]]
"""Workload class (or `class@tier`) -> models allowed to serve it. Used for fallback correctness."""

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


def _resolve(value: str | None, info: ValidationInfo) -> str | None:
    """Paths in a scenario are relative to the scenario file, as a reader of the file expects."""
    return None if value is None else relative_to_file(value, info)


class Target(StrictModel):
    """The gateway under test. No URL: the stack's reference gateway."""

    url: str | None = Field(default=None, pattern=r"^https?://")
    adapter: Literal["gameday", "openai"] | Adapter = "gameday"


class Phase(StrictModel):
    name: Name
    duration_s: float = Field(gt=0, le=24 * 3600)
    faults: list[FaultSpec] = Field(default_factory=list)
    allowed_models: AllowedModels | None = None


class Scenario(StrictModel):
    kind: Literal["scenario"] = "scenario"
    kind_label: ClassVar[str] = "scenario"
    name: Name
    description: str = ""
    seed: int = Field(default=0, ge=0)
    stack: str | None = None
    target: Target = Field(default_factory=Target)
    load: LoadSpec
    phases: list[Phase] = Field(min_length=1)
    allowed_models: AllowedModels = Field(default_factory=dict)
    expectations: list[Expectation] = Field(default_factory=list)
    abort_if: list[AbortCondition] = Field(default_factory=list)
    ceiling_usd_per_min: float | None = Field(default=None, gt=0)

    @field_validator("stack")
    @classmethod
    def _stack_path(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _resolve(value, info)

    @model_validator(mode="after")
    def _phases_are_consistent(self) -> Scenario:
        names = [p.name for p in self.phases]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"phase names must be unique; repeated: {', '.join(duplicates)}")
        known = set(names)
        for item in (*self.expectations, *self.abort_if):
            phase = getattr(item, "phase", None)
            if phase is not None and phase not in known:
                raise ValueError(
                    f"{type(item).__name__.lower()} names phase {phase!r}, which the scenario does not have; "
                    f"phases: {', '.join(names)}"
                )
        return self

    @property
    def duration_s(self) -> float:
        return sum(p.duration_s for p in self.phases)

    def scaled(self, factor: float) -> Scenario:
        """The same scenario with every phase duration multiplied by `factor` (`--time-scale`)."""
        phases = [p.model_copy(update={"duration_s": p.duration_s * factor}) for p in self.phases]
        return self.model_copy(update={"phases": phases})

    def allowed_for(self, phase: str, task: str, tier: str | None) -> list[str] | None:
        """Models allowed for `task` (at `tier`) in `phase`; None when the scenario says nothing."""
        tables: list[AllowedModels] = []
        for p in self.phases:
            if p.name == phase and p.allowed_models:
                tables.append(p.allowed_models)
        tables.append(self.allowed_models)
        for table in tables:
            for key in (f"{task}@{tier}" if tier else None, task, "*"):
                if key is not None and key in table:
                    return table[key]
        return None


class SuiteEntry(StrictModel):
    scenario: str
    time_scale: float = Field(default=1.0, gt=0)

    @field_validator("scenario")
    @classmethod
    def _scenario_path(cls, value: str, info: ValidationInfo) -> str:
        return _resolve(value, info) or value


class Suite(StrictModel):
    """A list of scenarios run one after the other with one exit code (`gameday nightly`)."""

    kind: Literal["suite"] = "suite"
    kind_label: ClassVar[str] = "suite"
    name: Name
    description: str = ""
    scenarios: list[SuiteEntry] = Field(min_length=1)
    regression_tolerance: float = Field(default=0.2, ge=0, le=10)

    @field_validator("scenarios", mode="before")
    @classmethod
    def _plain_paths(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"scenario": v} if isinstance(v, str) else v for v in value]
        return value
