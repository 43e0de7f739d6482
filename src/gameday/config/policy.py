"""The reference gateway's policy (`kind: policy`): providers and models, routes, and resilience settings.

A route matches requests on task class, tier, input size and latency budget (first match wins,
else `default_route`) and lists its models: `primary` first, then `fallbacks` in order. Each
model says which tiers it may serve (`tiers`, per model, narrowed or widened per route by the
route's `tiers:`); a request is only ever sent to a model allowed for its tier, so a high-tier
request is never silently downgraded: when no allowed model can serve it, the gateway refuses it.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from gameday.config.base import StrictModel, problem

__all__ = [
    "TIERS",
    "BreakerSettings",
    "BudgetSettings",
    "CacheSettings",
    "ClassifierSettings",
    "Guardrails",
    "ModelSpec",
    "Policy",
    "PriceSettings",
    "Provider",
    "RetrySettings",
    "Route",
    "RouteMatch",
    "Tier",
    "Timeouts",
]

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
Tier = Literal["low", "medium", "high"]
TIERS: tuple[Tier, ...] = ("low", "medium", "high")
ALL_TIERS: list[Tier] = ["low", "medium", "high"]


class ModelSpec(StrictModel):
    """One model of a provider. The prices are the fallback when the provider's `/pricing` feed is silent."""

    name: Name
    input_usd_per_mtok: float = Field(ge=0, le=10_000, description="static price, USD per million input tokens")
    output_usd_per_mtok: float = Field(ge=0, le=10_000, description="static price, USD per million output tokens")
    tiers: list[Tier] = Field(default_factory=lambda: list(ALL_TIERS), min_length=1, description="tiers it may serve")
    context_tokens: int = Field(default=128_000, ge=256, le=10_000_000, description="input + output it accepts")
    # A fast model's normal first token is a slow model's good day: one deadline for all would either
    # give up on frontier models under load or wait seconds for a small model that is already sick.
    ttft_s: float | None = Field(default=None, gt=0, le=3600, description="this model's first-token deadline")
    response_s: float | None = Field(default=None, gt=0, le=86_400, description="this model's non-streamed deadline")


class Provider(StrictModel):
    name: Name
    base_url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$", description="e.g. http://127.0.0.1:9101")
    models: list[ModelSpec] = Field(min_length=1)


class RouteMatch(StrictModel):
    """Every condition given must hold; an empty match matches everything."""

    tasks: list[Name] | None = Field(default=None, min_length=1, description="task classes (x-gameday-task)")
    tiers: list[Tier] | None = Field(default=None, min_length=1)
    min_input_tokens: int | None = Field(default=None, ge=0)
    max_input_tokens: int | None = Field(default=None, ge=0)
    max_latency_budget_ms: int | None = Field(
        default=None, ge=1, description="matches requests whose x-gameday-latency-budget-ms is at most this"
    )


class Route(StrictModel):
    name: Name
    match: RouteMatch = Field(default_factory=RouteMatch)
    primary: Name
    fallbacks: list[Name] = Field(default_factory=list, description="tried in order when the primary cannot serve")
    tiers: dict[Name, list[Tier]] = Field(
        default_factory=dict, description="per model of this route: the tiers it may serve here (default: the model's)"
    )

    @property
    def models(self) -> list[str]:
        return [self.primary, *self.fallbacks]


class ClassifierSettings(StrictModel):
    """Used when a request has no x-gameday-task / x-gameday-tier header."""

    default_task: Name = "chat"
    default_tier: Tier = "medium"
    tiers: dict[Name, Tier] = Field(
        default_factory=lambda: {"reasoning": "high", "code": "medium", "chat": "medium", "summarize": "low"},
        description="the tier inferred for each task class",
    )
    keywords: dict[Name, list[str]] | None = Field(
        default=None, description="task class -> lower-case keywords (default: the built-in list)"
    )


class Guardrails(StrictModel):
    max_input_tokens: int = Field(default=100_000, ge=1, description="estimated prompt tokens above this: 400")
    max_tokens_limit: int = Field(default=1_000_000, ge=1, description="max_tokens above this is absurd: 400")
    clamp_max_tokens: int = Field(default=4_096, ge=1, description="max_tokens sent upstream is at most this")
    default_max_tokens: int = Field(default=1_024, ge=1, description="max_tokens sent when the request has none")
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, description="larger bodies: 413")
    validate_requests: bool = Field(
        default=True,
        description="check every field before anything goes upstream; false makes a thin proxy that forwards any "
        "JSON object and relays what the provider says (how many gateways behave: a game day shows the cost)",
    )


class Timeouts(StrictModel):
    connect_s: float = Field(default=1.0, gt=0, le=600)
    ttft_s: float = Field(default=5.0, gt=0, le=3600, description="response start to the first token")
    stall_s: float = Field(default=5.0, gt=0, le=3600, description="longest silence between two chunks")
    response_s: float = Field(
        default=30.0, gt=0, le=86_400, description="a non-streamed attempt: sent to whole body received"
    )
    total_s: float = Field(default=60.0, gt=0, le=86_400, description="a whole request, every attempt included")
    stream_upstream: bool = Field(
        default=True,
        description="ask providers for a stream even for a non-streamed request: its first token is then timed "
        "(ttft_s) and any failure before the last token still falls over",
    )


class RetrySettings(StrictModel):
    max_attempts: int = Field(default=4, ge=1, le=20, description="upstream attempts per request, all models")
    retry_passes: int = Field(default=1, ge=0, le=10, description="passes back over models that failed retryably")
    backoff_base_s: float = Field(default=0.05, ge=0, le=60)
    backoff_cap_s: float = Field(default=1.0, ge=0, le=600)
    retry_after_cap_s: float = Field(default=2.0, ge=0, le=600, description="longer Retry-After: do not wait")
    retry_statuses: list[int] = Field(default_factory=lambda: [429, 500, 502, 503, 529], min_length=0)
    retry_connect_errors: bool = True


class BreakerSettings(StrictModel):
    window_s: float = Field(default=30.0, gt=0, le=3600)
    min_requests: int = Field(default=10, ge=1, le=1_000_000)
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    open_s: float = Field(default=10.0, gt=0, le=3600)
    half_open_probes: int = Field(default=1, ge=1, le=1000)


class BudgetSettings(StrictModel):
    ceiling_usd: float | None = Field(default=None, ge=0, description="USD per window; null: no ceiling")
    window_s: float = Field(default=60.0, gt=0, le=86_400 * 31)
    on_exceed: Literal["cheaper", "reject"] = Field(
        default="cheaper", description="cheaper: a cheaper model allowed for the tier, else 429; reject: 429"
    )
    prefer_cheaper_above: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="share of the ceiling spent or reserved above which every request tries its cheapest allowed "
        "model first: the gateway degrades cost before it has to refuse (null: only at the ceiling)",
    )


class PriceSettings(StrictModel):
    refresh_s: float = Field(default=10.0, gt=0, le=86_400, description="poll each provider's /pricing this often")
    poll_feeds: bool = True


class CacheSettings(StrictModel):
    ttl_s: float = Field(default=0.0, ge=0, le=86_400, description="0 disables the cache")
    max_entries: int = Field(default=10_000, ge=1, le=10_000_000)


class Policy(StrictModel):
    kind: Literal["policy"] = "policy"
    kind_label: ClassVar[str] = "policy"
    name: Name
    description: str = ""
    providers: list[Provider] = Field(min_length=1)
    routes: list[Route] = Field(min_length=1, description="first match wins")
    default_route: Name
    baseline_model: Name | None = Field(default=None, description="the cheap model the kill switch defaults to")
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    prices: PriceSettings = Field(default_factory=PriceSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        providers = [p.name for p in self.providers]
        _unique("provider names", providers)
        models = [m.name for p in self.providers for m in p.models]
        _unique("model names (across providers)", models)
        _unique("route names", [r.name for r in self.routes])
        known = ", ".join(models)
        for route in self.routes:
            listed = route.models
            for model in listed:
                if model not in models:
                    raise problem(f"route {route.name!r}: model {model!r} is not a model of any provider ({known})")
            _unique(f"route {route.name!r}: models (primary and fallbacks)", listed)
            for model in route.tiers:
                if model not in listed:
                    raise problem(f"route {route.name!r}: tiers names {model!r}, which is not one of its models")
        route_names = [r.name for r in self.routes]
        if self.default_route not in route_names:
            raise problem(f"default_route {self.default_route!r} is not a route ({', '.join(route_names)})")
        if self.baseline_model is not None and self.baseline_model not in models:
            raise problem(f"baseline_model {self.baseline_model!r} is not a model of any provider ({known})")
        if self.guardrails.default_max_tokens > self.guardrails.clamp_max_tokens:
            raise problem("guardrails: default_max_tokens must not exceed clamp_max_tokens")
        if self.retry.backoff_cap_s < self.retry.backoff_base_s:
            raise problem("retry: backoff_cap_s must be at least backoff_base_s")
        return self

    def provider_of(self, model: str) -> Provider:
        for provider in self.providers:
            if any(m.name == model for m in provider.models):
                return provider
        raise KeyError(model)

    def model_spec(self, model: str) -> ModelSpec:
        for provider in self.providers:
            for spec in provider.models:
                if spec.name == model:
                    return spec
        raise KeyError(model)

    @property
    def model_names(self) -> list[str]:
        return [m.name for p in self.providers for m in p.models]

    def route(self, name: str) -> Route:
        for route in self.routes:
            if route.name == name:
                return route
        raise KeyError(name)

    def tiers_for(self, route: Route, model: str) -> list[Tier]:
        """The tiers `model` may serve on `route`: the route's own say, else the model's."""
        return route.tiers.get(model) or self.model_spec(model).tiers


def _unique(what: str, names: list[str]) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise problem(f"{what} must be unique; repeated: {', '.join(repeated)}")
