"""How many tokens an answer has: the profile's clipped normal, bounded by max_tokens and the context."""

from __future__ import annotations

import random
from typing import Literal

from gameday.config.profile import OutputTokens

__all__ = ["FinishReason", "output_length"]

FinishReason = Literal["stop", "length"]


def output_length(
    spec: OutputTokens, rng: random.Random, max_tokens: int | None, room: int
) -> tuple[int, FinishReason]:
    """The answer's length and why it ends: `length` when max_tokens or the context window cut it short."""
    natural = round(rng.gauss(spec.mean, spec.sd)) if spec.sd > 0 else round(spec.mean)
    natural = min(max(natural, spec.min), spec.max)
    limit = room if max_tokens is None else min(max_tokens, room)
    limit = max(limit, 0)
    if natural > limit:
        return limit, "length"
    return natural, "stop"
