"""`price_change`: a provider changes a model's price mid-run (mock admin `POST /admin/prices`).

The new price moves the mock's `/pricing` feed and its bill from that instant. Removal puts back
the prices that were in effect when the fault was injected, so overlapping or hand-made price
changes are not lost; `gameday reset` restores the profile's prices whatever happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import Field, model_validator

from gameday.errors import FaultError
from gameday.faults.base import Fault, ProviderFaultSpec, settings_error

if TYPE_CHECKING:
    from gameday.faults.context import FaultContext

__all__ = ["Price", "PriceChangeFault", "PriceChangeSpec"]

UsdPerMtok = float


class Price(NamedTuple):
    """A model's price in USD per million tokens."""

    input: UsdPerMtok
    output: UsdPerMtok


class PriceChangeSpec(ProviderFaultSpec):
    """`{kind: price_change, provider: premium, model: frontier-large, factor: 3}` or set `input`/`output`."""

    kind: Literal["price_change"] = "price_change"
    model: str = Field(min_length=1, description="the model whose price changes")
    input: UsdPerMtok | None = Field(default=None, ge=0, le=10_000, description="new USD per million input tokens")
    output: UsdPerMtok | None = Field(default=None, ge=0, le=10_000, description="new USD per million output tokens")
    factor: float | None = Field(default=None, gt=0, le=1000, description="multiply both current prices instead")

    @model_validator(mode="after")
    def _one_way_to_say_the_price(self) -> PriceChangeSpec:
        explicit = self.input is not None or self.output is not None
        if self.factor is not None and explicit:
            raise settings_error("give either factor, or input and/or output, not both")
        if self.factor is None and not explicit:
            raise settings_error(
                "say the new price: factor (e.g. 2.0), or input and/or output in USD per million tokens"
            )
        return self

    def new_price(self, current: Price) -> Price:
        if self.factor is not None:
            return Price(current.input * self.factor, current.output * self.factor)
        return Price(
            input=current.input if self.input is None else self.input,
            output=current.output if self.output is None else self.output,
        )


class PriceChangeFault(Fault[PriceChangeSpec]):
    spec_model = PriceChangeSpec

    def __init__(self, spec: PriceChangeSpec) -> None:
        super().__init__(spec)
        self.previous: Price | None = None
        self.applied: Price | None = None

    def inject(self, ctx: FaultContext) -> None:
        admin = ctx.admin_for(self.spec.provider)
        prices = admin.prices()
        if self.spec.model not in prices:
            raise FaultError(
                f"price_change: provider {self.spec.provider!r} has no model {self.spec.model!r}. "
                f"Its models: {', '.join(sorted(prices)) or 'none'}."
            )
        current = prices[self.spec.model]
        self.previous = Price(current.input, current.output)
        self.applied = self.spec.new_price(self.previous)
        self.touched = True
        admin.set_price(self.spec.model, self.applied.input, self.applied.output)

    def remove(self, ctx: FaultContext) -> None:
        if self.previous is None:
            return
        ctx.admin_for(self.spec.provider).set_price(self.spec.model, self.previous.input, self.previous.output)
        self.previous = None

    def handles(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.previous is not None:
            out["previous"] = self.previous._asdict()
        if self.applied is not None:
            out["applied"] = self.applied._asdict()
        return out

    def describe(self) -> str:
        s = self.spec
        if s.factor is not None:
            change = f"x{s.factor:g}"
        else:
            parts = [
                f"{name} ${value:g}/Mtok"
                for name, value in (("input", s.input), ("output", s.output))
                if value is not None
            ]
            change = "to " + ", ".join(parts)
        return f"price change on {s.provider}/{s.model}: {change}"
