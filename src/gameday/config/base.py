"""The base of every config model, and the two checks every file shares: tagged kinds and relative paths."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic_core import PydanticCustomError

__all__ = ["StrictModel", "known_kind", "problem", "relative_to_file"]


class StrictModel(BaseModel):
    """Extra keys are refused (a typo must not be silently ignored); instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def known_kind(label: str, kinds: Mapping[str, Any]) -> Callable[[Any], Any]:
    """A before-validator for a union tagged by `kind`: a missing or unknown kind is said in our words,
    listing the valid ones (pydantic's own message would be `Unable to extract tag`)."""
    valid = ", ".join(kinds)

    def check(value: Any) -> Any:
        if isinstance(value, dict):
            kind = value.get("kind")
            if kind is None:
                raise PydanticCustomError(
                    f"{label}_kind_missing", "a {label} needs `kind:`. Valid kinds: {valid}",
                    {"label": label, "valid": valid},
                )  # fmt: skip
            if not isinstance(kind, str) or kind not in kinds:
                raise PydanticCustomError(
                    f"{label}_kind_unknown", "unknown {label} kind {kind}. Valid kinds: {valid}",
                    {"label": label, "kind": repr(kind), "valid": valid},
                )  # fmt: skip
        return value

    return check


def relative_to_file(value: str, info: ValidationInfo) -> str:
    """A path as written in a file, made relative to that file's folder (the loader passes `base_dir`)."""
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return str(path)


def problem(text: str) -> PydanticCustomError:
    """A cross-field problem worded for the reader (a plain ValueError would read `Value error, ...`)."""
    return PydanticCustomError("config", "{text}", {"text": text})
