"""What a scenario expects (`expectations:`) and when it gives up (`abort_if:`), and the metric names.

The metric registry is the one place a metric's name, unit and meaning are written; the measure
part computes exactly these names, and an unknown name in a scenario fails listing the valid ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from gameday.config.base import StrictModel

__all__ = [
    "LIVE_METRICS",
    "METRICS",
    "AbortCondition",
    "Expectation",
    "MetricInfo",
    "MetricName",
    "Scope",
    "Unit",
]


class Unit(StrEnum):
    SECONDS = "s"
    RATIO = "ratio"
    USD = "usd"
    USD_PER_MIN = "usd_per_min"
    COUNT = "count"
    PER_SECOND = "per_s"


Scope = Literal["records", "bill", "fault", "run"]
"""Where a metric comes from: request records (per phase and class), the provider bill (per phase,
classes unknown), a fault (time to detect/recover, per faulted phase), the run as a whole."""


@dataclass(frozen=True)
class MetricInfo:
    name: str
    unit: Unit
    scope: Scope
    description: str

    @property
    def per_class(self) -> bool:
        return self.scope == "records" or self.name == "cost_per_success_usd"


def _m(name: str, unit: Unit, scope: Scope, description: str) -> MetricInfo:
    return MetricInfo(name, unit, scope, description)


_S, _R, _C = Unit.SECONDS, Unit.RATIO, Unit.COUNT
_ERROR_KIND_NAMES = ("timeout", "connect", "reset", "http_4xx", "http_5xx", "stream_cut", "bad_body")

METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        _m("requests", _C, "records", "requests sent in the slice (all of them, malformed ones included)"),
        _m("successes", _C, "records", "requests whose task succeeded (see task_success_rate)"),
        _m("errors", _C, "records", "requests that failed (see error_rate)"),
        _m("ttft_p50_s", _S, "records", "median time to first token (from the intended send time, open model)"),
        _m("ttft_p95_s", _S, "records", "95th percentile time to first token"),
        _m("ttft_p99_s", _S, "records", "99th percentile time to first token"),
        _m("e2e_p50_s", _S, "records", "median end-to-end latency of every request that ended, errors included"),
        _m("e2e_p95_s", _S, "records", "95th percentile end-to-end latency"),
        _m("e2e_p99_s", _S, "records", "99th percentile end-to-end latency"),
        _m("itl_p50_s", _S, "records", "median inter-token latency of streamed answers"),
        _m("itl_p95_s", _S, "records", "95th percentile inter-token latency of streamed answers"),
        _m("time_to_useful_answer_p50_s", _S, "records", "median end-to-end latency of successful tasks"),
        _m("time_to_useful_answer_p95_s", _S, "records", "95th percentile end-to-end latency of successful tasks"),
        _m(
            "error_rate",
            _R,
            "records",
            "share of requests with an error or a non-2xx status; the 4xx a "
            "malformed request should get is not an error",
        ),
        *(
            _m(f"error_rate_{kind}", _R, "records", f"share of requests that failed with error kind {kind}")
            for kind in _ERROR_KIND_NAMES
        ),
        _m("fallback_rate", _R, "records", "share of requests the gateway served through a fallback"),
        _m(
            "fallback_correctness",
            _R,
            "records",
            "share of served requests (2xx with a model) served by a model "
            "the scenario allows for their class (and class@tier) in that phase; errors are not counted here",
        ),
        _m(
            "task_success_rate",
            _R,
            "records",
            "share of requests that got a 2xx with non-empty content and no "
            "error, or the 4xx a malformed request should get",
        ),
        _m(
            "malformed_handling_rate",
            _R,
            "records",
            "share of malformed-corpus requests refused with a 4xx (a 5xx or a 2xx is mishandling)",
        ),
        _m("throughput_rps", Unit.PER_SECOND, "records", "requests sent per second of the slice"),
        _m("success_rps", Unit.PER_SECOND, "records", "successful tasks per second of the slice"),
        _m("tokens_per_s", Unit.PER_SECOND, "records", "output tokens received per second of the slice"),
        _m("claimed_spend_usd", Unit.USD, "records", "what the gateway claimed it spent (sum of cost_usd)"),
        _m(
            "claimed_spend_per_min_usd",
            Unit.USD_PER_MIN,
            "records",
            "the gateway's claimed spend per minute "
            "(live abort_if watches this; judge spend on the bill's spend_per_min_usd)",
        ),
        _m(
            "cost_per_success_usd",
            Unit.USD,
            "bill",
            "billed spend divided by successful tasks; per class the bill "
            "is shared out in proportion to the gateway's claims",
        ),
        _m("spend_usd", Unit.USD, "bill", "what the providers billed (their /admin/bill), in the slice"),
        _m("spend_per_min_usd", Unit.USD_PER_MIN, "bill", "billed spend per minute, averaged over the slice"),
        _m(
            "peak_spend_per_min_usd",
            Unit.USD_PER_MIN,
            "bill",
            "the most billed in any 60 s window of the slice (the whole slice when shorter), "
            "per minute; judge against the ceiling with max_ceiling_ratio",
        ),
        _m(
            "claim_error_ratio",
            _R,
            "bill",
            "(gateway claim - bill) / bill: how far the gateway's own cost "
            "accounting is from the bill (negative = it under-claims)",
        ),
        _m(
            "time_to_detect_s",
            _S,
            "fault",
            "fault injection to the first answer the gateway steered away "
            "(a fallback or another provider than in the baseline), at that answer's completion",
        ),
        _m(
            "time_to_recover_s",
            _S,
            "fault",
            "fault removal to the first request of the first sliding window whose E2E P95 is "
            "within 10% of the baseline's (and whose error rate is back within 5 points)",
        ),
        _m("unrecorded_requests", _C, "run", "requests sent minus requests recorded (must be 0)"),
    )
}

MetricName = StrEnum("MetricName", {name: name for name in METRICS})  # type: ignore[misc]
"""Every metric an expectation may name (values are the names)."""

LIVE_METRICS: tuple[str, ...] = (
    "error_rate",
    *(f"error_rate_{kind}" for kind in _ERROR_KIND_NAMES),
    "fallback_rate",
    "task_success_rate",
    "ttft_p50_s",
    "ttft_p95_s",
    "ttft_p99_s",
    "e2e_p50_s",
    "e2e_p95_s",
    "e2e_p99_s",
    "claimed_spend_per_min_usd",
)
"""Metrics `abort_if` can watch live over a sliding window of records (the bill is read per phase only,
so live spend uses the gateway's claims: `claimed_spend_per_min_usd`)."""

CEILING_METRICS = ("peak_spend_per_min_usd", "spend_per_min_usd")


def _check_metric(value: Any, allowed: tuple[str, ...] | None = None) -> Any:
    names = allowed if allowed is not None else tuple(METRICS)
    if isinstance(value, str) and value not in names:
        raise ValueError(f"unknown metric {value!r}. Valid metrics: {', '.join(names)}")
    return value


class Expectation(StrictModel):
    """`{metric, phase?, class?, min?, max?, max_ceiling_ratio?}`; no phase means the whole run."""

    metric: MetricName
    phase: str | None = None
    workload_class: str | None = Field(default=None, alias="class", description="only requests of this class")
    min: float | None = None
    max: float | None = None
    max_ceiling_ratio: float | None = Field(
        default=None, gt=0, description="spend per minute at most this multiple of ceiling_usd_per_min"
    )
    name: str | None = Field(default=None, max_length=200, description="label in reports and JUnit")

    @field_validator("metric", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        return _check_metric(value)

    @model_validator(mode="after")
    def _bounds(self) -> Expectation:
        info = METRICS[self.metric.value]
        if self.min is None and self.max is None and self.max_ceiling_ratio is None:
            raise ValueError(f"expectation on {info.name} has no bound: give min, max or max_ceiling_ratio")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max}) for {info.name}")
        if self.max_ceiling_ratio is not None and info.name not in CEILING_METRICS:
            raise ValueError(
                f"max_ceiling_ratio applies to spend per minute only ({', '.join(CEILING_METRICS)}), "
                f"not to {info.name}; use max"
            )
        if self.workload_class is not None and not info.per_class:
            raise ValueError(
                f"{info.name} cannot be filtered by class (it comes from the {info.scope}, which does not know "
                "workload classes); remove `class`"
            )
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        where = f" in {self.phase}" if self.phase else " over the run"
        cls = f" for {self.workload_class}" if self.workload_class else ""
        return f"{self.metric.value}{where}{cls}"


class AbortCondition(StrictModel):
    """`{metric, window_s, max?, min?, phase?, class?, min_requests?}` watched live over a sliding window."""

    metric: MetricName
    window_s: float = Field(default=10.0, gt=0, le=3600)
    max: float | None = None
    min: float | None = None
    phase: str | None = None
    workload_class: str | None = Field(default=None, alias="class")
    min_requests: int = Field(default=10, ge=1, description="judge a window only once it holds this many")

    @field_validator("metric", mode="before")
    @classmethod
    def _live(cls, value: Any) -> Any:
        if isinstance(value, str) and value in METRICS and value not in LIVE_METRICS:
            raise ValueError(f"{value} cannot be watched live. Metrics abort_if can watch: {', '.join(LIVE_METRICS)}")
        return _check_metric(value, LIVE_METRICS)

    @model_validator(mode="after")
    def _bounds(self) -> AbortCondition:
        if self.min is None and self.max is None:
            raise ValueError(f"abort_if on {self.metric.value} has no bound: give max (or min)")
        return self
