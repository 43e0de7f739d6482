"""`http_errors`: a provider answers a share of requests with an error status (mock admin API).

`{kind: http_errors, provider: premium, status: 429, rate: 0.5, retry_after_s: 2}`: half of the
requests get 429 with `Retry-After: 2`. Removal sets that status's rate back to 0 for the same
model, leaving other error rates (another fault's, or a person's) alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from gameday.faults.base import Fault, ProviderFaultSpec, Rate

if TYPE_CHECKING:
    from gameday.faults.context import FaultContext

__all__ = ["HttpErrorsFault", "HttpErrorsSpec"]


class HttpErrorsSpec(ProviderFaultSpec):
    kind: Literal["http_errors"] = "http_errors"
    status: Literal[429, 500, 502, 503, 529] = Field(description="the error status the provider answers")
    rate: Rate = 1.0
    retry_after_s: float | None = Field(default=None, ge=0, le=3600, description="Retry-After sent with the error")
    model: str | None = Field(default=None, min_length=1, description="only requests for this model (default all)")


class HttpErrorsFault(Fault[HttpErrorsSpec]):
    spec_model = HttpErrorsSpec

    def __init__(self, spec: HttpErrorsSpec) -> None:
        super().__init__(spec)
        self.active = False

    def inject(self, ctx: FaultContext) -> None:
        s = self.spec
        admin = ctx.admin_for(s.provider)
        self.touched = self.active = True
        admin.set_errors(s.status, s.rate, retry_after_s=s.retry_after_s, model=s.model)

    def remove(self, ctx: FaultContext) -> None:
        if self.active:
            ctx.admin_for(self.spec.provider).set_errors(self.spec.status, 0.0, model=self.spec.model)
            self.active = False

    def describe(self) -> str:
        s = self.spec
        retry = f" with Retry-After {s.retry_after_s:g} s" if s.retry_after_s is not None else ""
        scope = f" for {s.model}" if s.model else ""
        return f"HTTP {s.status} on {s.rate:.0%} of requests to {s.provider}{scope}{retry}"
