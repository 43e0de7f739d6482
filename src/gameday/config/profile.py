"""A mock provider's profile (`kind: provider-profile`): its models, prices, latency and capacity.

Latencies are given as two quantiles (p50, p95) measured at one request in flight; the mock fits a
lognormal through them. Capacity says how many requests run at once (the rest wait in a FIFO
queue, then are refused), how per-token time grows with the number running (continuous batching),
and how the first token comes later when others are running (prefill competes with their decode).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from gameday.config.base import StrictModel, problem

__all__ = [
    "Capacity",
    "LatencyQuantiles",
    "ModelProfile",
    "OutputTokens",
    "Price",
    "ProviderProfile",
    "RateLimits",
]

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
UsdPerMtok = Annotated[float, Field(ge=0, le=10_000, description="USD per million tokens")]


class Price(StrictModel):
    input: UsdPerMtok
    output: UsdPerMtok


class LatencyQuantiles(StrictModel):
    """A latency as its median and 95th percentile in seconds, at one request in flight."""

    p50_s: float = Field(gt=0, le=600)
    p95_s: float = Field(gt=0, le=600)

    @model_validator(mode="after")
    def _ordered(self) -> LatencyQuantiles:
        if self.p95_s < self.p50_s:
            raise problem(f"p95_s ({self.p95_s:g}) must be at least p50_s ({self.p50_s:g})")
        return self


class OutputTokens(StrictModel):
    """Answer length: normal(mean, sd) clipped to [min, max], and never above the request's max_tokens."""

    mean: float = Field(ge=1, le=1_000_000)
    sd: float = Field(default=0, ge=0, le=1_000_000)
    min: int = Field(default=1, ge=1, le=1_000_000)
    max: int = Field(ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _ordered(self) -> OutputTokens:
        if self.max < self.min:
            raise problem(f"max ({self.max}) must be at least min ({self.min})")
        if not self.min <= self.mean <= self.max:
            raise problem(f"mean ({self.mean:g}) must lie between min ({self.min}) and max ({self.max})")
        return self


class Capacity(StrictModel):
    """How a model behaves under concurrency.

    Per-token time is `itl * (1 + batching_slowdown * min(running, knee) / knee)` (knee defaults to the
    live slots, so a capacity cut through the admin API makes a smaller batch "full"), and past the knee
    it is further multiplied by `(running / knee) ** past_knee_exponent` (above 1, throughput falls
    past the knee, as a saturated server's does). TTFT adds `contention_s` for every other request
    running and `prefill_s_per_1k_tokens` for the prompt; requests beyond `max_concurrency` wait.
    """

    max_concurrency: int = Field(ge=1, le=100_000, description="requests generating at once (slots)")
    max_queue: int = Field(default=0, ge=0, le=1_000_000, description="requests waiting beyond the slots (FIFO)")
    overload_status: Literal[429, 503, 529] = Field(default=503, description="answer when slots and queue are full")
    batching_slowdown: float = Field(default=0.0, ge=0, le=1000, description="per-token time growth at the knee")
    knee: int | None = Field(default=None, ge=1, le=100_000, description="running count of peak throughput")
    past_knee_exponent: float = Field(default=1.0, ge=0, le=10)
    contention_s: float = Field(default=0.0, ge=0, le=60, description="TTFT added per other request running")
    prefill_s_per_1k_tokens: float = Field(default=0.0, ge=0, le=60, description="TTFT added per 1000 prompt tokens")
    kv_cache_tokens: int | None = Field(default=None, ge=1, description="tokens the KV cache holds (usage metric)")

    @model_validator(mode="after")
    def _knee_within_slots(self) -> Capacity:
        if self.knee is not None and self.knee > self.max_concurrency:
            raise problem(f"knee ({self.knee}) must not exceed max_concurrency ({self.max_concurrency})")
        return self


class RateLimits(StrictModel):
    """Token buckets refilled continuously; a request costs its prompt plus its max_tokens."""

    requests_per_minute: int | None = Field(default=None, ge=1, le=100_000_000)
    tokens_per_minute: int | None = Field(default=None, ge=1, le=10_000_000_000)

    @model_validator(mode="after")
    def _something(self) -> RateLimits:
        if self.requests_per_minute is None and self.tokens_per_minute is None:
            raise problem("give requests_per_minute and/or tokens_per_minute, or remove rate_limits")
        return self


class ModelProfile(StrictModel):
    price: Price
    context_window: int = Field(ge=16, le=100_000_000, description="prompt plus answer, in tokens")
    ttft: LatencyQuantiles
    itl: LatencyQuantiles
    output_tokens: OutputTokens
    capacity: Capacity
    rate_limits: RateLimits | None = None


class ProviderProfile(StrictModel):
    kind: Literal["provider-profile"] = "provider-profile"
    kind_label: ClassVar[str] = "provider profile"
    provider: Name
    description: str = ""
    flavor: Literal["openai", "vllm"] = Field(default="openai", description="which metric names /metrics uses")
    models: dict[Name, ModelProfile] = Field(min_length=1)

    def model(self, name: str) -> ModelProfile:
        return self.models[name]
