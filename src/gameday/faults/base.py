"""The fault protocol: a spec (its YAML schema) and one small class that injects and removes it.

A fault kind is a pydantic spec model whose `kind: Literal["<name>"]` is the only place its name is
written, plus a `Fault` subclass pointing at that model. `inject(ctx)` changes the stack,
`remove(ctx)` undoes it and is idempotent (removing twice, or removing what a `gameday reset`
already cleared, succeeds), `describe()` says in words what it does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, Protocol, TypeVar, get_args

from pydantic import Field
from pydantic_core import PydanticCustomError

from gameday.config.base import StrictModel

if TYPE_CHECKING:
    from gameday.faults.context import FaultContext

__all__ = [
    "Fault",
    "FaultSpecBase",
    "LoadControl",
    "ProviderFaultSpec",
    "ProviderName",
    "Rate",
    "Stream",
    "Toxicity",
    "kind_of",
    "settings_error",
]

ProviderName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Stream = Literal["downstream", "upstream"]
"""Toxiproxy's directions: downstream is provider -> gateway (responses), upstream is gateway -> provider."""
Toxicity = Annotated[float, Field(ge=0.0, le=1.0, description="share of connections the toxic applies to")]
Rate = Annotated[float, Field(gt=0.0, le=1.0, description="share of requests affected, 0 < rate <= 1")]


class LoadControl(Protocol):
    """What the load engine exposes to faults that act on the load rather than on the stack."""

    def set_multiplier(self, factor: float) -> None:
        """Multiply the scenario's load shape by `factor` (1.0 = as written)."""

    def set_malformed_share(self, share: float) -> None:
        """Send `share` (0..1) of the requests from the malformed-prompt corpus (0.0 = none)."""


class FaultSpecBase(StrictModel):
    """Fields common to every fault spec. Subclasses add `kind: Literal["<name>"] = "<name>"`."""

    def params(self) -> dict[str, Any]:
        """The spec's settings without `kind` and target, for journals and reports."""
        return self.model_dump(exclude={"kind", "provider"}, exclude_none=True)


class ProviderFaultSpec(FaultSpecBase):
    """A fault aimed at one provider: its Toxiproxy proxy or its mock's admin API."""

    provider: ProviderName = Field(description="the provider the fault targets, as named in the stack")


def settings_error(message: str) -> PydanticCustomError:
    """A cross-field problem in a spec, worded for the reader (no `Value error,` prefix)."""
    return PydanticCustomError("fault_settings", message)


def kind_of(spec_model: type[FaultSpecBase]) -> str:
    """The kind name a spec model declares in its `kind: Literal[...]` field."""
    field = spec_model.model_fields.get("kind")
    args = get_args(field.annotation) if field is not None else ()
    if len(args) != 1 or not isinstance(args[0], str):
        raise TypeError(f"{spec_model.__name__} must declare `kind: Literal['<name>']`")
    return args[0]


SpecT = TypeVar("SpecT", bound=FaultSpecBase)


class Fault(ABC, Generic[SpecT]):
    """One injected fault. Holds what `remove` needs (toxic names, mock fault ids, previous prices)."""

    spec_model: ClassVar[type[FaultSpecBase]]

    def __init__(self, spec: SpecT) -> None:
        if not isinstance(spec, self.spec_model):
            raise TypeError(f"{type(self).__name__} takes a {self.spec_model.__name__}, not {type(spec).__name__}")
        self.spec: SpecT = spec
        # True from the moment inject starts: a half-done or timed-out inject must still be removed.
        self.touched = False

    @property
    def kind(self) -> str:
        return kind_of(self.spec_model)

    @property
    def target(self) -> str | None:
        """The provider the fault is aimed at, or None for faults on the load."""
        provider = getattr(self.spec, "provider", None)
        return provider if isinstance(provider, str) else None

    @abstractmethod
    def inject(self, ctx: FaultContext) -> None:
        """Apply the fault. Raises `FaultError` when the stack refuses it."""

    @abstractmethod
    def remove(self, ctx: FaultContext) -> None:
        """Undo the fault. Idempotent: succeeds when there is nothing left to undo."""

    @abstractmethod
    def describe(self) -> str:
        """One line in words, e.g. `latency 200 ms (±50 ms) on premium, downstream`."""

    def handles(self) -> dict[str, Any]:
        """What the stack handed back on inject (toxic names, fault ids): journaled for forensics."""
        return {}

    def detail(self) -> dict[str, Any]:
        return {"summary": self.describe(), "params": self.spec.params(), **self.handles()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"
