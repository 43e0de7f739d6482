"""`outage`: a provider goes away: its proxy disabled, connections reset, or a silent blackhole.

- `disabled`: the proxy stops listening and drops open connections (connection refused).
- `reset_peer`: connections are reset (ECONNRESET) on their first data, after `timeout_ms`.
- `timeout`: data is swallowed; the connection hangs (`timeout_ms: 0`) or closes after `timeout_ms`.
The toxic modes default to the upstream stream, so requests never reach (or bill) the provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from gameday.faults.base import ProviderFaultSpec, Stream, Toxicity, settings_error
from gameday.faults.toxic import ToxicFault, ToxicPlan

if TYPE_CHECKING:
    from gameday.faults.context import FaultContext

__all__ = ["OutageFault", "OutageSpec"]


class OutageSpec(ProviderFaultSpec):
    """`{kind: outage, provider: premium, mode: disabled}`"""

    kind: Literal["outage"] = "outage"
    mode: Literal["disabled", "reset_peer", "timeout"] = "disabled"
    timeout_ms: int = Field(
        default=0,
        ge=0,
        le=3_600_000,
        description="reset_peer: wait before the reset; timeout: close after this long (0 = hang forever)",
    )
    stream: Stream = "upstream"
    toxicity: Toxicity = 1.0

    @model_validator(mode="after")
    def _toxic_fields_need_a_toxic_mode(self) -> OutageSpec:
        if self.mode == "disabled":
            extra = sorted({"timeout_ms", "stream", "toxicity"} & self.model_fields_set)
            if extra:
                raise settings_error(
                    f"{', '.join(extra)} only apply to mode reset_peer or timeout; "
                    "a disabled proxy refuses every connection. Remove them or change mode"
                )
        return self


class OutageFault(ToxicFault[OutageSpec]):
    spec_model = OutageSpec

    def __init__(self, spec: OutageSpec) -> None:
        super().__init__(spec)
        self.disabled = False

    def toxics(self) -> list[ToxicPlan]:
        s = self.spec
        return [(s.mode, s.stream, s.toxicity, {"timeout": s.timeout_ms})]

    def inject(self, ctx: FaultContext) -> None:
        if self.spec.mode != "disabled":
            super().inject(ctx)
            return
        self.proxy = ctx.proxy_for(self.spec.provider)
        self.touched = self.disabled = True
        ctx.proxies.set_enabled(self.proxy, False)

    def remove(self, ctx: FaultContext) -> None:
        if self.spec.mode != "disabled":
            super().remove(ctx)
            return
        if self.proxy is not None and self.disabled:
            ctx.proxies.set_enabled(self.proxy, True)
            self.disabled = False

    def handles(self) -> dict[str, Any]:
        if self.spec.mode == "disabled":
            return {"proxy": self.proxy} if self.proxy else {}
        return super().handles()

    def describe(self) -> str:
        s = self.spec
        if s.mode == "disabled":
            return f"outage of {s.provider}: proxy disabled, connections refused"
        share = f", {s.toxicity:.0%} of connections" if s.toxicity < 1 else ""
        if s.mode == "reset_peer":
            after = f" after {s.timeout_ms} ms" if s.timeout_ms else ""
            return f"outage of {s.provider}: connections reset{after} ({s.stream}){share}"
        closes = f", closed after {s.timeout_ms} ms" if s.timeout_ms else ", never answered"
        return f"outage of {s.provider}: blackhole ({s.stream}){closes}{share}"
