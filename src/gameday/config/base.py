"""The base of every config model: unknown fields are errors, values are immutable once loaded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictModel"]


class StrictModel(BaseModel):
    """Extra keys are refused (a typo must not be silently ignored); instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
