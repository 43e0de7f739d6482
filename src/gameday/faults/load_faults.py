"""Faults on the load itself: `burst` multiplies the arrival rate, `malformed` sends bad prompts.

Both act through the load engine's `LoadControl` and refuse clearly when a run has none.
Removal sets the neutral value (multiplier 1.0, malformed share 0.0): one of each per phase.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from gameday.faults.base import Fault, FaultSpecBase

if TYPE_CHECKING:
    from gameday.faults.context import FaultContext

__all__ = ["BurstFault", "BurstSpec", "MalformedFault", "MalformedSpec"]


class BurstSpec(FaultSpecBase):
    """`{kind: burst, factor: 3}`: three times the load for the phase."""

    kind: Literal["burst"] = "burst"
    factor: float = Field(gt=0, le=100, description="load multiplier (2.0 = twice the arrival rate or users)")


class MalformedSpec(FaultSpecBase):
    """`{kind: malformed, share: 0.3}`: 30% of requests come from the malformed-prompt corpus."""

    kind: Literal["malformed"] = "malformed"
    share: float = Field(gt=0, le=1, description="share of requests taken from the malformed corpus, 0 < share <= 1")


class BurstFault(Fault[BurstSpec]):
    spec_model = BurstSpec

    def __init__(self, spec: BurstSpec) -> None:
        super().__init__(spec)
        self.active = False

    def inject(self, ctx: FaultContext) -> None:
        load = ctx.require_load(self.kind)
        self.touched = self.active = True
        load.set_multiplier(self.spec.factor)

    def remove(self, ctx: FaultContext) -> None:
        if self.active:
            ctx.require_load(self.kind).set_multiplier(1.0)
            self.active = False

    def describe(self) -> str:
        return f"load burst x{self.spec.factor:g}"


class MalformedFault(Fault[MalformedSpec]):
    spec_model = MalformedSpec

    def __init__(self, spec: MalformedSpec) -> None:
        super().__init__(spec)
        self.active = False

    def inject(self, ctx: FaultContext) -> None:
        load = ctx.require_load(self.kind)
        self.touched = self.active = True
        load.set_malformed_share(self.spec.share)

    def remove(self, ctx: FaultContext) -> None:
        if self.active:
            ctx.require_load(self.kind).set_malformed_share(0.0)
            self.active = False

    def describe(self) -> str:
        return f"malformed prompts: {self.spec.share:.0%} of requests"
