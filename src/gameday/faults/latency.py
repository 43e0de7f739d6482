"""`latency`: every chunk on a provider's connection is held `latency_ms` (± `jitter_ms`) before it passes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gameday.faults.base import ProviderFaultSpec, Stream, Toxicity, settings_error
from gameday.faults.toxic import ToxicFault, ToxicPlan

__all__ = ["LatencyFault", "LatencySpec"]


class LatencySpec(ProviderFaultSpec):
    """`{kind: latency, provider: premium, latency_ms: 300, jitter_ms: 50}`"""

    kind: Literal["latency"] = "latency"
    latency_ms: int = Field(ge=0, le=600_000, description="delay added to each chunk, in milliseconds")
    jitter_ms: int = Field(default=0, ge=0, le=600_000, description="uniform spread around latency_ms")
    stream: Stream = Field(default="downstream", description="downstream delays responses, upstream requests")
    toxicity: Toxicity = 1.0

    @model_validator(mode="after")
    def _jitter_within_latency(self) -> LatencySpec:
        if self.jitter_ms > self.latency_ms:
            raise settings_error(
                f"jitter_ms ({self.jitter_ms}) is larger than latency_ms ({self.latency_ms}); "
                "a delay cannot be negative. Lower jitter_ms or raise latency_ms"
            )
        return self


class LatencyFault(ToxicFault[LatencySpec]):
    spec_model = LatencySpec

    def toxics(self) -> list[ToxicPlan]:
        s = self.spec
        return [("latency", s.stream, s.toxicity, {"latency": s.latency_ms, "jitter": s.jitter_ms})]

    def describe(self) -> str:
        s = self.spec
        jitter = f" (±{s.jitter_ms} ms)" if s.jitter_ms else ""
        share = f", {s.toxicity:.0%} of connections" if s.toxicity < 1 else ""
        return f"latency {s.latency_ms} ms{jitter} on {s.provider}, {s.stream}{share}"
