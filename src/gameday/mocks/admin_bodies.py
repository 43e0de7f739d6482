"""The bodies the admin API accepts; their fields and bounds are the API's schema.

`gameday.faults.mock_admin.MockAdminClient` sends exactly these. Unknown fields are refused so a
typo is never silently ignored; a bad body is a 400 naming the field and what is allowed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from gameday.config.base import StrictModel

__all__ = [
    "ERROR_STATUSES",
    "FAULT_BODIES",
    "STREAM_ONLY_FAULTS",
    "WHOLE_BODY_FAULTS",
    "CapacityBody",
    "ErrorsBody",
    "FaultBody",
    "PriceBody",
]

ERROR_STATUSES = (429, 500, 502, 503, 529)
ModelName = Annotated[str, Field(min_length=1, max_length=128)]
Share = Annotated[float, Field(ge=0, le=1, description="share of requests, 0..1")]
AfterTokens = Annotated[int, Field(default=0, ge=0, le=1_000_000)]


class ErrorsBody(StrictModel):
    """`POST /admin/errors`: answer `rate` of the requests (of `model`, or all) with `status`; rate 0 clears."""

    status: Literal[429, 500, 502, 503, 529]
    rate: Share
    retry_after_s: float | None = Field(default=None, ge=0, le=3600)
    model: ModelName | None = None


class PriceBody(StrictModel):
    model: ModelName
    input: float = Field(ge=0, le=10_000, description="USD per million input tokens")
    output: float = Field(ge=0, le=10_000, description="USD per million output tokens")


class CapacityBody(StrictModel):
    model: ModelName
    max_concurrency: int | None = Field(default=None, ge=1, le=100_000)
    max_queue: int | None = Field(default=None, ge=0, le=1_000_000)


class _Fault(StrictModel):
    rate: Share = 1.0
    model: ModelName | None = None

    def params(self) -> dict[str, Any]:
        return self.model_dump(exclude={"kind", "rate", "model"})


class FirstTokenDelay(_Fault):
    kind: Literal["first_token_delay"]
    delay_s: float = Field(gt=0, le=3600)


class TokenThrottle(_Fault):
    kind: Literal["token_throttle"]
    tokens_per_s: float = Field(gt=0, le=100_000)


class StreamCut(_Fault):
    kind: Literal["stream_cut"]
    after_tokens: AfterTokens


class SseError(_Fault):
    kind: Literal["sse_error"]
    after_tokens: AfterTokens


class Stall(_Fault):
    kind: Literal["stall"]
    after_tokens: AfterTokens
    stall_s: float = Field(gt=0, le=3600)


class MalformedChunk(_Fault):
    kind: Literal["malformed_chunk"]
    after_tokens: AfterTokens


class TruncatedBody(_Fault):
    kind: Literal["truncated_body"]
    keep_fraction: float = Field(default=0.5, ge=0, lt=1)


FaultBody = Annotated[
    FirstTokenDelay | TokenThrottle | StreamCut | SseError | Stall | MalformedChunk | TruncatedBody,
    Field(discriminator="kind"),
]
FAULT_BODIES: TypeAdapter[Any] = TypeAdapter(FaultBody)

# Kinds that only make sense for one kind of response; the others act on both.
STREAM_ONLY_FAULTS = frozenset({"stream_cut", "sse_error", "malformed_chunk"})
WHOLE_BODY_FAULTS = frozenset({"truncated_body"})
