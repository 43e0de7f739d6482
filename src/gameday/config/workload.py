"""The workload (`kind: workload`): which requests the load sends, in which mix.

Task classes with weights, each with a tier, a share of streamed requests, `max_tokens` and a
prompt length range; prompts are generated (seeded Faker text) to the target token length at
`chars_per_token` characters a token. A workload may instead replay a recorded trace (`trace:`),
and carries the settings of the malformed-prompt corpus (`malformed:`), which the `malformed`
fault (or `malformed.share`) mixes in.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from gameday.config.base import StrictModel, problem, relative_to_file
from gameday.errors import ConfigError

__all__ = ["PROMPT_STYLES", "MalformedSettings", "TaskClass", "TokenRange", "TraceSettings", "Workload"]

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Tier = Literal["low", "medium", "high"]
PromptStyle = Literal["chat", "code", "summarize", "extract", "reasoning"]
PROMPT_STYLES: tuple[str, ...] = ("chat", "code", "summarize", "extract", "reasoning")


class TokenRange(StrictModel):
    """Prompt length in tokens, drawn uniformly in [min, max]."""

    min: int = Field(ge=1, le=2_000_000)
    max: int = Field(ge=1, le=2_000_000)

    @model_validator(mode="after")
    def _ordered(self) -> TokenRange:
        if self.max < self.min:
            raise problem(f"max ({self.max}) must be at least min ({self.min})")
        return self


class TaskClass(StrictModel):
    """One class of requests: `x-gameday-task` carries its name, `x-gameday-tier` its tier."""

    name: Name
    weight: float = Field(gt=0, le=1_000_000, description="relative share of requests")
    tier: Tier = "medium"
    stream_share: float = Field(default=0.5, ge=0, le=1, description="share of requests sent with stream: true")
    max_tokens: int = Field(default=256, ge=1, le=1_000_000)
    prompt_tokens: TokenRange = Field(default_factory=lambda: TokenRange(min=50, max=300))
    style: PromptStyle | None = Field(default=None, description="prompt generator; default: the class name if valid")
    model: str | None = Field(default=None, min_length=1, description="`model` sent in the body (default: workload's)")
    system: str | None = Field(default=None, description="a system message, when the class has one")
    temperature: float | None = Field(default=None, ge=0, le=2)

    @property
    def prompt_style(self) -> str:
        if self.style is not None:
            return self.style
        return self.name if self.name in PROMPT_STYLES else "chat"


class TraceSettings(StrictModel):
    """Replay `path` (JSONL, see `gameday.load.trace`) on its own schedule."""

    path: str = Field(min_length=1, description="JSONL trace, relative to the workload file")
    speed: float = Field(default=1.0, gt=0, le=1000, description="2.0 replays twice as fast")
    loop: bool = Field(default=False, description="start over after the last entry")

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: str, info: ValidationInfo) -> str:
        return relative_to_file(value, info)


class MalformedSettings(StrictModel):
    """The malformed-prompt corpus: generated deterministically from `seed`, `count` cases."""

    count: int = Field(default=600, ge=500, le=100_000, description="number of cases (at least 500)")
    seed: int = Field(default=0, ge=0)
    share: float = Field(default=0.0, ge=0, le=1, description="share of requests taken from the corpus from the start")


class Workload(StrictModel):
    kind: Literal["workload"] = "workload"
    kind_label: ClassVar[str] = "workload"
    name: Name
    description: str = ""
    model: str = Field(default="auto", min_length=1, description="`model` sent in the body unless a class says")
    chars_per_token: float = Field(default=4.0, ge=1, le=16)
    classes: list[TaskClass] = Field(min_length=1)
    trace: TraceSettings | None = None
    malformed: MalformedSettings = Field(default_factory=MalformedSettings)
    _trace_entries: list = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Workload:
        names = [c.name for c in self.classes]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise problem(f"class names must be unique; repeated: {', '.join(repeated)}")
        if self.trace is not None:
            from gameday.load.trace import read_trace

            try:
                self._trace_entries = read_trace(self.trace.path, set(names))
            except ConfigError as exc:
                raise problem(f"trace: {exc}") from None
        return self

    def task_class(self, name: str) -> TaskClass:
        for cls in self.classes:
            if cls.name == name:
                return cls
        raise KeyError(name)

    @property
    def trace_entries(self) -> list:
        """The trace's entries (`gameday.load.trace.TraceEntry`), read once when the workload loaded."""
        return list(self._trace_entries)
