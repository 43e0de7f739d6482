"""`slow_stream`: a provider's bytes trickle: capped bandwidth, or sliced into small, spaced pieces."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gameday.faults.base import ProviderFaultSpec, Stream, Toxicity, settings_error
from gameday.faults.toxic import ToxicFault, ToxicPlan

__all__ = ["SlowStreamFault", "SlowStreamSpec"]

_SLICER_FIELDS = {"average_size_bytes", "size_variation_bytes", "delay_us"}


class SlowStreamSpec(ProviderFaultSpec):
    """`{kind: slow_stream, provider: premium, rate_kb_s: 2}` or `{..., mode: slicer, delay_us: 20000}`"""

    kind: Literal["slow_stream"] = "slow_stream"
    mode: Literal["bandwidth", "slicer"] = "bandwidth"
    rate_kb_s: int = Field(default=4, gt=0, le=10_000_000, description="bandwidth: KB (1000 bytes) per second")
    average_size_bytes: int = Field(default=8, gt=0, le=1_000_000, description="slicer: mean size of a piece")
    size_variation_bytes: int = Field(default=4, ge=0, le=1_000_000, description="slicer: ± spread of a piece")
    delay_us: int = Field(default=10_000, ge=0, le=60_000_000, description="slicer: pause between pieces (µs)")
    stream: Stream = "downstream"
    toxicity: Toxicity = 1.0

    @model_validator(mode="after")
    def _fields_match_mode(self) -> SlowStreamSpec:
        if self.mode == "bandwidth":
            extra = sorted(_SLICER_FIELDS & self.model_fields_set)
            if extra:
                raise settings_error(f"{', '.join(extra)} only apply to mode: slicer. Remove them or set mode: slicer")
        else:
            if "rate_kb_s" in self.model_fields_set:
                raise settings_error("rate_kb_s only applies to mode: bandwidth. Remove it or set mode: bandwidth")
            if self.size_variation_bytes >= self.average_size_bytes:
                raise settings_error(
                    f"size_variation_bytes ({self.size_variation_bytes}) must be smaller than average_size_bytes "
                    f"({self.average_size_bytes}), or pieces could be empty"
                )
        return self


class SlowStreamFault(ToxicFault[SlowStreamSpec]):
    spec_model = SlowStreamSpec

    def toxics(self) -> list[ToxicPlan]:
        s = self.spec
        if s.mode == "bandwidth":
            return [("bandwidth", s.stream, s.toxicity, {"rate": s.rate_kb_s})]
        attributes = {
            "average_size": s.average_size_bytes,
            "size_variation": s.size_variation_bytes,
            "delay": s.delay_us,
        }
        return [("slicer", s.stream, s.toxicity, attributes)]

    def describe(self) -> str:
        s = self.spec
        share = f", {s.toxicity:.0%} of connections" if s.toxicity < 1 else ""
        if s.mode == "bandwidth":
            return f"slow stream from {s.provider}: {s.rate_kb_s} KB/s ({s.stream}){share}"
        return (
            f"slow stream from {s.provider}: pieces of {s.average_size_bytes}±{s.size_variation_bytes} bytes "
            f"every {s.delay_us / 1000:g} ms ({s.stream}){share}"
        )
