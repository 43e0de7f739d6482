"""The versioned result of a run (`summary.json`): metrics per phase and class, faults, verdicts.

Outputs (HTML report, JUnit, runbook, memo) are rendered from this model plus the raw records and
events, never from live state, so `gameday report DIR` re-renders a run from its folder alone.
`schema_version` changes whenever a field changes meaning or goes away.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gameday import __version__
from gameday.config.expectations import METRICS
from gameday.errors import ConfigError
from gameday.measure.plan import RunPlan

__all__ = [
    "SCHEMA_VERSION",
    "BillSummary",
    "FaultObservation",
    "Integrity",
    "Metrics",
    "RunResult",
    "SliceResult",
    "Verdict",
]

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Metrics(_Model):
    """Metric values of one slice, keyed by registry name; a metric without data is None with a note."""

    values: dict[str, float | None] = Field(default_factory=dict)
    notes: dict[str, str] = Field(default_factory=dict, description="metric -> why it has no value")
    errors_by_kind: dict[str, int] = Field(default_factory=dict)
    served_by: dict[str, int] = Field(default_factory=dict, description="provider/model -> requests served")

    @field_validator("values")
    @classmethod
    def _known(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        unknown = sorted(set(value) - set(METRICS))
        if unknown:
            raise ValueError(f"unknown metrics {unknown}")
        return value

    def get(self, metric: str) -> float | None:
        return self.values.get(metric)

    def why_missing(self, metric: str) -> str:
        return self.notes.get(metric, "no data")


class SliceResult(_Model):
    """A phase (or the whole run, named `run`): its window, metrics overall and per workload class."""

    name: str
    start_s: float
    end_s: float
    ended: bool = True
    faults: list[str] = Field(default_factory=list, description="labels of the faults active in it")
    overall: Metrics
    by_class: dict[str, Metrics] = Field(default_factory=dict)
    spend_by_model: dict[str, float] = Field(default_factory=dict, description="billed USD per provider/model")
    latency_by_model: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="served model -> ttft_p50_s, ttft_p95_s, e2e_p50_s, e2e_p95_s, requests"
    )

    @property
    def duration_s(self) -> float:
        return max(0.0, self.end_s - self.start_s)


class FaultObservation(_Model):
    """What one faulted phase did to the traffic: detection and recovery, and where requests went."""

    phase: str
    faults: list[str]
    targets: list[str] = Field(default_factory=list)
    inject_t: float
    remove_t: float | None
    detected_t: float | None = None
    time_to_detect_s: float | None = None
    detect_note: str = ""
    steered: int = 0
    steered_to: dict[str, int] = Field(default_factory=dict, description="provider/model -> steered requests")
    first_fallback_t: float | None = None
    recovered_t: float | None = None
    time_to_recover_s: float | None = None
    recover_note: str = ""
    recovery_window_s: float | None = None
    baseline_e2e_p95_s: float | None = None


class Integrity(_Model):
    sent: int | None = Field(default=None, description="requests the load engine says it sent")
    recorded: int = 0
    matches: bool | None = None

    @property
    def unrecorded(self) -> int | None:
        return None if self.sent is None else self.sent - self.recorded


class BillSummary(_Model):
    available: bool = False
    providers: list[str] = Field(default_factory=list)
    snapshots: int = 0
    errors: dict[str, str] = Field(default_factory=dict)


class Verdict(_Model):
    name: str
    kind: Literal["expectation", "integrity", "regression"] = "expectation"
    metric: str
    phase: str | None = None
    workload_class: str | None = None
    bound: str = ""
    measured: float | None = None
    passed: bool
    sentence: str


class RunResult(_Model):
    schema_version: int = SCHEMA_VERSION
    tool: str = f"llm-gameday {__version__}"
    plan: RunPlan
    started_wall: float | None = None
    duration_s: float = 0.0
    aborted: bool = False
    abort_reason: str | None = None
    baseline_phase: str | None = None
    phases: list[SliceResult] = Field(default_factory=list)
    run: SliceResult
    faults: list[FaultObservation] = Field(default_factory=list)
    integrity: Integrity = Field(default_factory=Integrity)
    bill: BillSummary = Field(default_factory=BillSummary)
    verdicts: list[Verdict] = Field(default_factory=list)

    @property
    def scenario(self) -> str:
        return self.plan.scenario

    @property
    def passed(self) -> bool:
        return not self.aborted and all(v.passed for v in self.verdicts)

    def slice(self, phase: str | None) -> SliceResult | None:
        if phase is None:
            return self.run
        return next((p for p in self.phases if p.name == phase), None)

    def value(
        self, metric: str, phase: str | None = None, workload_class: str | None = None
    ) -> tuple[float | None, str]:
        """The measured value and, when there is none, the sentence saying why."""
        where = f"phase {phase}" if phase else "the run"
        sl = self.slice(phase)
        if sl is None:
            return None, f"phase {phase} never ran"
        metrics: Metrics | None = sl.overall
        if workload_class is not None:
            metrics = sl.by_class.get(workload_class)
            if metrics is None:
                return None, f"no requests of class {workload_class} in {where}"
        assert metrics is not None
        value = metrics.get(metric)
        return value, ("" if value is not None else metrics.why_missing(metric))

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.model_dump_json(indent=1, by_alias=True))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RunResult:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file. Is {path.parent} a results folder of `gameday run`?") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror}).") from None
        return cls.parse(raw, str(path))

    @classmethod
    def parse(cls, raw: bytes | str, source: str = "summary.json") -> RunResult:
        try:
            data: Any = json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"{source}: not valid JSON ({exc}); was the run killed while writing it?") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a JSON object.")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ConfigError(
                f"{source}: schema_version {version!r}, but this llm-gameday reads {SCHEMA_VERSION}. "
                "Re-run the scenario, or use the version of llm-gameday that wrote it."
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "summary"
            raise ConfigError(f"{source}: {loc}: {first['msg']}") from None
