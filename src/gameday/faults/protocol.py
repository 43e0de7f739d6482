"""The LLM-protocol faults: a mock provider misbehaves inside the HTTP response (mock admin API).

Each is injected with `POST /admin/faults` (its spec, less `provider`, is the body) and removed with
`DELETE /admin/faults/{id}`; `gameday reset` clears them all through `POST /admin/reset`.
- `first_token_delay`: the first token comes `delay_s` late.
- `token_throttle`: tokens stream at `tokens_per_s`.
- `stream_cut`: the stream ends without `[DONE]` after `after_tokens` tokens.
- `sse_error`: an SSE `error` event replaces the rest of the stream after `after_tokens` tokens.
- `stall`: the stream stops for `stall_s` after `after_tokens` tokens, then goes on.
- `malformed_chunk`: a chunk that is not valid JSON is sent after `after_tokens` tokens.
- `truncated_body`: a non-streamed body is cut after `keep_fraction` of its bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import Field

from gameday.faults.base import Fault, ProviderFaultSpec, Rate

if TYPE_CHECKING:
    from gameday.faults.context import FaultContext

__all__ = [
    "FirstTokenDelayFault",
    "FirstTokenDelaySpec",
    "MalformedChunkFault",
    "MalformedChunkSpec",
    "ProtocolFault",
    "ProtocolFaultSpec",
    "SseErrorFault",
    "SseErrorSpec",
    "StallFault",
    "StallSpec",
    "StreamCutFault",
    "StreamCutSpec",
    "TokenThrottleFault",
    "TokenThrottleSpec",
    "TruncatedBodyFault",
    "TruncatedBodySpec",
]

AfterTokens = Field(default=0, ge=0, le=1_000_000, description="tokens sent normally before the fault strikes")


class ProtocolFaultSpec(ProviderFaultSpec):
    rate: Rate = 1.0
    model: str | None = Field(default=None, min_length=1, description="only requests for this model (default all)")

    def what(self) -> str:
        """The fault's own effect in words; the rest of `describe` is shared."""
        raise NotImplementedError


class FirstTokenDelaySpec(ProtocolFaultSpec):
    kind: Literal["first_token_delay"] = "first_token_delay"
    delay_s: float = Field(gt=0, le=3600, description="extra wait before the first token")

    def what(self) -> str:
        return f"first token {self.delay_s:g} s late"


class TokenThrottleSpec(ProtocolFaultSpec):
    kind: Literal["token_throttle"] = "token_throttle"
    tokens_per_s: float = Field(gt=0, le=100_000, description="streaming speed while throttled")

    def what(self) -> str:
        return f"tokens throttled to {self.tokens_per_s:g}/s"


class StreamCutSpec(ProtocolFaultSpec):
    kind: Literal["stream_cut"] = "stream_cut"
    after_tokens: int = AfterTokens

    def what(self) -> str:
        return f"stream cut after {self.after_tokens} tokens"


class SseErrorSpec(ProtocolFaultSpec):
    kind: Literal["sse_error"] = "sse_error"
    after_tokens: int = AfterTokens

    def what(self) -> str:
        return f"SSE error event after {self.after_tokens} tokens"


class StallSpec(ProtocolFaultSpec):
    kind: Literal["stall"] = "stall"
    after_tokens: int = AfterTokens
    stall_s: float = Field(gt=0, le=3600, description="how long the stream stops")

    def what(self) -> str:
        return f"stream stalls {self.stall_s:g} s after {self.after_tokens} tokens"


class MalformedChunkSpec(ProtocolFaultSpec):
    kind: Literal["malformed_chunk"] = "malformed_chunk"
    after_tokens: int = AfterTokens

    def what(self) -> str:
        return f"malformed SSE chunk after {self.after_tokens} tokens"


class TruncatedBodySpec(ProtocolFaultSpec):
    kind: Literal["truncated_body"] = "truncated_body"
    keep_fraction: float = Field(default=0.5, ge=0, lt=1, description="share of the body's bytes sent before the cut")

    def what(self) -> str:
        return f"body truncated to {self.keep_fraction:.0%}"


SpecT = TypeVar("SpecT", bound=ProtocolFaultSpec)


class ProtocolFault(Fault[SpecT]):
    """Shared by the protocol kinds: one mock fault, remembered by the id the mock returns."""

    def __init__(self, spec: SpecT) -> None:
        super().__init__(spec)
        self.fault_id: str | None = None
        self.live = False

    def inject(self, ctx: FaultContext) -> None:
        s = self.spec
        admin = ctx.admin_for(s.provider)
        params = s.model_dump(exclude={"kind", "provider", "rate", "model"}, exclude_none=True)
        self.touched = True
        self.fault_id = admin.add_fault(self.kind, s.rate, model=s.model, **params)
        self.live = True

    def remove(self, ctx: FaultContext) -> None:
        # A lost reply leaves no id to delete; `gameday reset` (POST /admin/reset) clears such a fault.
        if self.live and self.fault_id is not None:
            ctx.admin_for(self.spec.provider).remove_fault(self.fault_id)
            self.live = False

    def handles(self) -> dict[str, Any]:
        return {"mock_fault_id": self.fault_id} if self.fault_id else {}

    def describe(self) -> str:
        s = self.spec
        scope = f" for {s.model}" if s.model else ""
        return f"{s.what()} on {s.rate:.0%} of requests to {s.provider}{scope}"


class FirstTokenDelayFault(ProtocolFault[FirstTokenDelaySpec]):
    spec_model = FirstTokenDelaySpec


class TokenThrottleFault(ProtocolFault[TokenThrottleSpec]):
    spec_model = TokenThrottleSpec


class StreamCutFault(ProtocolFault[StreamCutSpec]):
    spec_model = StreamCutSpec


class SseErrorFault(ProtocolFault[SseErrorSpec]):
    spec_model = SseErrorSpec


class StallFault(ProtocolFault[StallSpec]):
    spec_model = StallSpec


class MalformedChunkFault(ProtocolFault[MalformedChunkSpec]):
    spec_model = MalformedChunkSpec


class TruncatedBodyFault(ProtocolFault[TruncatedBodySpec]):
    spec_model = TruncatedBodySpec
