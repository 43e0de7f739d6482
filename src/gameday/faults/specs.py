"""`FaultSpec`: the YAML schema of a fault, one discriminated union over every kind's spec model.

Scenarios embed it (`phases[].faults: list[FaultSpec]`). A fault without `kind`, or with a kind
that does not exist, fails with the list of valid kinds; the rest of the checking (missing
provider, a rate of 1.5) is each kind's own model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError

from gameday.config.base import known_kind
from gameday.errors import ConfigError
from gameday.faults.base import FaultSpecBase
from gameday.faults.registry import FAULT_KINDS

__all__ = ["FaultSpec", "parse_fault"]


_known_kind = known_kind("fault", FAULT_KINDS)


if TYPE_CHECKING:
    FaultSpec = FaultSpecBase
else:
    FaultSpec = Annotated[
        Union[tuple(cls.spec_model for cls in FAULT_KINDS.values())],  # noqa: UP007 - built from the registry
        Field(discriminator="kind"),
        BeforeValidator(_known_kind),
    ]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(FaultSpec)


def parse_fault(data: Any, where: str = "fault") -> FaultSpecBase:
    """One fault from plain data (a YAML mapping); errors are a `ConfigError` naming each field."""
    try:
        spec: FaultSpecBase = _ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = [str(p) for p in err["loc"]]
            if loc and loc[0] in FAULT_KINDS:  # pydantic puts the union tag first; the reader did not write it
                loc = loc[1:]
            field = ".".join(loc) or "(the fault)"
            message = "required field is missing. Add it" if err["type"] == "missing" else err["msg"]
            problems.append(f"{where}: {field}: {message}.")
        raise ConfigError("\n".join(problems)) from None
    return spec
