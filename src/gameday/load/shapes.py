"""Load shapes: pure `tick(elapsed) -> Stage | None` functions of the time since the load started.

A shape says how much load to offer at an instant: an arrival rate in requests per second under
the open model, a number of users under the closed model (the `LoadSpec` says which; a shape's
level is unitless). `None` means the shape has finished and no more load is offered. Time is
injected, so shapes are tested without sleeping; the engine multiplies the level by the runtime
multiplier (`burst` faults) after the shape has spoken.

The pydantic fields are the YAML schema (`shape: {kind: step, start: 5, step: 5, every_s: 10}`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from gameday.config.base import StrictModel, known_kind, problem

__all__ = [
    "SHAPE_KINDS",
    "BurstShape",
    "RampShape",
    "Shape",
    "ShapeBase",
    "Stage",
    "SteadyShape",
    "StepShape",
]

Level = Annotated[float, Field(ge=0, le=1_000_000)]
Seconds = Annotated[float, Field(gt=0, le=7 * 24 * 3600)]


@dataclass(frozen=True, slots=True)
class Stage:
    """The load a shape asks for at one instant: req/s (open model) or users (closed model)."""

    level: float


class ShapeBase(StrictModel):
    """Fields every shape has. `duration_s` ends the shape (tick returns None); none: it never ends."""

    kind: str
    duration_s: Seconds | None = Field(default=None, description="after this many seconds the shape offers no load")
    level_unit: ClassVar[str] = "level"

    def level_at(self, elapsed: float) -> float:  # pragma: no cover - every shape overrides it
        raise NotImplementedError

    def tick(self, elapsed: float) -> Stage | None:
        """The stage at `elapsed` seconds since the load started; None once the shape has finished."""
        elapsed = max(0.0, elapsed)
        if self.duration_s is not None and elapsed >= self.duration_s:
            return None
        return Stage(self.level_at(elapsed))

    def peak(self) -> float:
        """The highest level the shape ever asks for (pools and user caps are sized from it)."""
        raise NotImplementedError  # pragma: no cover

    def scaled(self, factor: float) -> ShapeBase:
        """The same shape with every duration multiplied by `factor` (`--time-scale`)."""
        updates = {name: getattr(self, name) * factor for name in self.time_fields() if getattr(self, name) is not None}
        return self.model_copy(update=updates)

    def time_fields(self) -> tuple[str, ...]:
        return ("duration_s",)

    def unit_keys(self) -> set[str]:
        """Which of `rate` / `users` this shape was written with (only steady and burst name a unit)."""
        return set()


class _UnitLevel(ShapeBase):
    """A shape written with `rate:` (open model) or `users:` (closed model), exactly one of them."""

    rate: Level | None = Field(default=None, description="arrival rate, requests per second (open model)")
    users: int | None = Field(default=None, ge=0, le=1_000_000, description="concurrent users (closed model)")

    @model_validator(mode="after")
    def _one_unit(self) -> _UnitLevel:
        if (self.rate is None) == (self.users is None):
            raise problem("give exactly one of `rate` (open model, requests/s) or `users` (closed model)")
        return self

    @property
    def base(self) -> float:
        return float(self.rate if self.rate is not None else self.users or 0)

    def unit_keys(self) -> set[str]:
        return {"rate"} if self.rate is not None else {"users"}


class SteadyShape(_UnitLevel):
    """`{kind: steady, rate: 20}`: the same load all along."""

    kind: Literal["steady"] = "steady"

    def level_at(self, elapsed: float) -> float:
        return self.base

    def peak(self) -> float:
        return self.base


class StepShape(ShapeBase):
    """`{kind: step, start: 5, step: 5, every_s: 10, steps: 4}`: start, then +step every `every_s`, `steps` times."""

    kind: Literal["step"] = "step"
    start: Level = 0.0
    step: float = Field(ge=-1_000_000, le=1_000_000, description="added at each step (may be negative)")
    every_s: Seconds
    steps: int = Field(ge=1, le=10_000, description="how many steps; the last level then holds")

    def level_at(self, elapsed: float) -> float:
        done = min(self.steps, int(elapsed // self.every_s))
        return max(0.0, self.start + done * self.step)

    def peak(self) -> float:
        return max(self.start, self.start + self.steps * self.step, 0.0)

    def time_fields(self) -> tuple[str, ...]:
        return ("duration_s", "every_s")


class RampShape(ShapeBase):
    """`{kind: ramp, from: 1, to: 50, over_s: 60}`: linear from one level to another, then hold."""

    kind: Literal["ramp"] = "ramp"
    start: Level = Field(default=0.0, alias="from")
    end: Level = Field(alias="to")
    over_s: Seconds

    def level_at(self, elapsed: float) -> float:
        share = min(1.0, elapsed / self.over_s)
        return self.start + (self.end - self.start) * share

    def peak(self) -> float:
        return max(self.start, self.end)

    def time_fields(self) -> tuple[str, ...]:
        return ("duration_s", "over_s")


class BurstShape(_UnitLevel):
    """`{kind: burst, rate: 20, factor: 3, at_s: 30, for_s: 10}`: the base load, times `factor` in a window.

    With `every_s` the window repeats: bursts at at_s, at_s + every_s, ...
    """

    kind: Literal["burst"] = "burst"
    factor: float = Field(gt=0, le=100, description="multiplier of the base load inside the burst window")
    at_s: float = Field(ge=0, le=7 * 24 * 3600, description="when the (first) burst starts")
    for_s: Seconds = Field(description="how long a burst lasts")
    every_s: Seconds | None = Field(default=None, description="repeat the burst with this period")

    @model_validator(mode="after")
    def _window_fits(self) -> BurstShape:
        if self.every_s is not None and self.for_s > self.every_s:
            raise problem(f"for_s ({self.for_s:g}) must not exceed every_s ({self.every_s:g})")
        return self

    def in_burst(self, elapsed: float) -> bool:
        if elapsed < self.at_s:
            return False
        since = elapsed - self.at_s
        if self.every_s is not None:
            since = math.fmod(since, self.every_s)
        return since < self.for_s

    def level_at(self, elapsed: float) -> float:
        return self.base * self.factor if self.in_burst(elapsed) else self.base

    def peak(self) -> float:
        return self.base * max(1.0, self.factor)

    def time_fields(self) -> tuple[str, ...]:
        return ("duration_s", "at_s", "for_s", "every_s")


SHAPE_KINDS: dict[str, type[ShapeBase]] = {
    cls.model_fields["kind"].default: cls for cls in (SteadyShape, StepShape, RampShape, BurstShape)
}


_known_kind = known_kind("shape", SHAPE_KINDS)


if TYPE_CHECKING:
    Shape = ShapeBase
else:
    Shape = Annotated[
        Union[tuple(SHAPE_KINDS.values())],  # noqa: UP007 - built from the registry
        Field(discriminator="kind"),
        BeforeValidator(_known_kind),
    ]
