"""The load of a scenario (`load:`) and the adapter that reads a gateway's answers (`target.adapter`).

`LoadSpec` names the workload file, the model (open: a fixed arrival rate, latencies measured from
the intended send instant; closed: a number of users, each sending one request after another),
the shape, timeouts and bounds. `Adapter` says where a gateway puts the served model, provider,
route, attempts, fallback and cost: a response header or a body field, per item. Two adapters are
built in: `gameday` (our `x-gameday-*` headers) and `openai` (only the body's `model`).

No Locust here: this module is imported by `gameday validate` and by the scenario model.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from gameday.config.base import StrictModel, problem, relative_to_file
from gameday.config.workload import Workload
from gameday.config.yamlio import load_model
from gameday.errors import ConfigError
from gameday.load.shapes import Shape, ShapeBase

__all__ = ["ADAPTERS", "Adapter", "FieldSource", "LoadSpec", "resolve_adapter"]


def _workload_at(path: str) -> Workload:
    try:
        return load_model(path, Workload)
    except ConfigError as exc:
        raise problem(str(exc)) from None


class FieldSource(StrictModel):
    """Where one item is read: `{header: x-litellm-model}`, `{body: usage.cost}` (a dotted path), or both.

    With both, a value found in the body wins: a stream's final usage chunk arrives after the headers,
    so a gateway can only state a streamed request's real cost there.
    """

    header: str | None = Field(default=None, min_length=1, max_length=256, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
    body: str | None = Field(default=None, min_length=1, max_length=256, description="dotted path in the JSON body")

    @model_validator(mode="after")
    def _one_place(self) -> FieldSource:
        if self.header is None and self.body is None:
            raise problem("give `header:` (a response header), `body:` (a dotted JSON path), or both")
        return self


class Adapter(StrictModel):
    """How to read what a gateway says about each response. Unset items stay empty in the record;
    the body's `model` is always the fallback for the served model."""

    name: str = Field(default="custom", min_length=1, max_length=64)
    model: FieldSource | None = Field(default=None, description="the served model (default: the body's `model`)")
    provider: FieldSource | None = None
    route: FieldSource | None = None
    attempts: FieldSource | None = Field(default=None, description="upstream attempts, an integer")
    fallback: FieldSource | None = Field(default=None, description="present and not false/0/none: a fallback")
    cost_usd: FieldSource | None = Field(default=None, description="the gateway's cost claim, USD")

    ITEMS: ClassVar[tuple[str, ...]] = ("model", "provider", "route", "attempts", "fallback", "cost_usd")


def _header(name: str) -> FieldSource:
    return FieldSource(header=name)


ADAPTERS: dict[str, Adapter] = {
    "gameday": Adapter(
        name="gameday",
        model=_header("x-gameday-model"),
        provider=_header("x-gameday-provider"),
        route=_header("x-gameday-route"),
        attempts=_header("x-gameday-attempts"),
        fallback=_header("x-gameday-fallback"),
        # A stream's headers leave before its cost is known: the reference gateway states the real
        # cost in the final usage chunk, and the header holds the non-streamed cost.
        cost_usd=FieldSource(header="x-gameday-cost-usd", body="usage.cost_usd"),
    ),
    "openai": Adapter(name="openai"),
}


def resolve_adapter(value: str | Adapter | dict[str, Any] | None) -> Adapter:
    """An adapter from a name (`gameday`, `openai`), a mapping, or an `Adapter`; None is `gameday`."""
    if value is None:
        return ADAPTERS["gameday"]
    if isinstance(value, Adapter):
        return value
    if isinstance(value, dict):
        return Adapter.model_validate(value)
    if value not in ADAPTERS:
        raise ConfigError(
            f"adapter {value!r} is unknown. Valid adapters: {', '.join(ADAPTERS)}, or a mapping in the scenario's "
            "`target.adapter` (model/provider/route/attempts/fallback/cost_usd: {header: NAME} or {body: PATH})."
        )
    return ADAPTERS[value]


class LoadSpec(StrictModel):
    """`load:` of a scenario. Paths are relative to the scenario file."""

    kind_label: ClassVar[str] = "load"
    workload: str = Field(min_length=1, description="a `kind: workload` file")
    model: Literal["open", "closed"] = Field(default="open", description="open: arrival rate; closed: users")
    shape: Shape | None = Field(
        default=None, validate_default=True, description="required unless the workload replays a trace"
    )
    arrivals: Literal["uniform", "poisson"] = Field(default="uniform", description="open model: spacing of arrivals")
    request_timeout_s: float = Field(default=30.0, gt=0, le=3600, description="whole request, first byte to last")
    connect_timeout_s: float = Field(default=5.0, gt=0, le=600)
    stream_share: float | None = Field(default=None, ge=0, le=1, description="override every class's stream share")
    malformed_share: float | None = Field(default=None, ge=0, le=1, description="override the workload's share")
    max_in_flight: int = Field(default=256, ge=1, le=100_000, description="open model: concurrent requests at most")
    max_users: int = Field(default=1_000, ge=1, le=100_000, description="closed model: users at most")
    spawn_rate: float = Field(default=50.0, gt=0, le=10_000, description="closed model: users started per second")
    think_time_s: float = Field(default=0.0, ge=0, le=3600, description="closed model: pause between a user's requests")
    max_requests: int = Field(default=10_000_000, ge=1, le=1_000_000_000, description="stop sending after this many")
    path: str = Field(default="/v1/chat/completions", pattern=r"^/[^\s]*$")
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers (e.g. Authorization)")
    include_usage: bool = Field(default=True, description="ask streams for a final usage chunk")
    _workload: Workload | None = PrivateAttr(default=None)

    @field_validator("workload")
    @classmethod
    def _resolve(cls, value: str, info: ValidationInfo) -> str:
        path = relative_to_file(value, info)
        _workload_at(path)  # a bad workload is reported here, under `workload`
        return path

    @field_validator("headers")
    @classmethod
    def _no_reserved_headers(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = {
            "content-length",
            "host",
            "transfer-encoding",
            "x-gameday-task",
            "x-gameday-tier",
            "x-gameday-request-id",
        }
        bad = sorted(k for k in value if k.lower() in reserved)
        if bad:
            raise problem(f"these headers are set by the load itself: {', '.join(bad)}; remove them")
        return value

    @field_validator("shape")
    @classmethod
    def _shape_fits(cls, shape: ShapeBase | None, info: ValidationInfo) -> ShapeBase | None:
        path, model = info.data.get("workload"), info.data.get("model")
        if path is None or model is None:
            return shape  # the workload or the model is wrong already; that is the error to read
        if _workload_at(path).trace is not None:
            if shape is not None:
                raise problem("the workload replays a trace on its own schedule; remove `shape`")
            if model != "open":
                raise problem("a trace is replayed under the open model; set `model: open`")
            return shape
        if shape is None:
            raise problem("required unless the workload replays a trace, e.g. `shape: {kind: steady, rate: 10}`")
        wrong = "users" if model == "open" else "rate"
        if wrong in shape.unit_keys():
            right, unit = ("rate", "requests per second") if model == "open" else ("users", "concurrent users")
            raise problem(f"`{wrong}` does not fit `model: {model}`; use `{right}:` ({unit})")
        return shape

    def load_workload(self) -> Workload:
        """The workload (read again from its file once, then kept)."""
        if self._workload is None:
            self._workload = load_model(self.workload, Workload)
        return self._workload

    @property
    def shape_spec(self) -> ShapeBase | None:
        return self.shape

    def scaled(self, factor: float) -> LoadSpec:
        """The same load with its shape's durations multiplied by `factor` (`--time-scale`)."""
        if self.shape is None:
            return self
        copy = self.model_copy(update={"shape": self.shape.scaled(factor)})
        copy._workload = self._workload
        return copy
