"""The load's runtime knobs (multiplier, malformed share) and the phase timeline.

`Controls` is what the `burst` and `malformed` faults turn (through the engine's `LoadControl`
methods); a change wakes whoever waits on it through `on_change`. `PhaseTimeline` answers which
phase a request belongs to from its send instant, so a record finished after a phase change
still counts in the phase it was sent in, and workers need not know the phases at all.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from gameday.errors import ConfigError

__all__ = ["MAX_MULTIPLIER", "Controls", "PhaseTimeline"]

MAX_MULTIPLIER = 1_000.0
MAX_CHANGES = 10_000


@dataclass
class Controls:
    """The knobs, and when the multiplier changed: the open-model schedule integrates the rate over
    the past with the multiplier that was in force then, however late it looks at it."""

    multiplier: float = 1.0
    malformed_share: float = 0.0
    on_change: list[Callable[[], None]] = field(default_factory=list)
    changes: list[tuple[float, float]] = field(default_factory=list)  # (run-clock instant, multiplier)

    def set_multiplier(self, factor: float, at: float = -math.inf) -> None:
        if not isinstance(factor, (int, float)) or not math.isfinite(factor) or not 0 < factor <= MAX_MULTIPLIER:
            raise ConfigError(f"load multiplier must be a number in (0, {MAX_MULTIPLIER:g}], got {factor!r}")
        if not self.changes:
            self.changes.append((-math.inf, self.multiplier))
        at = max(at, self.changes[-1][0])  # instants only move forward
        self.multiplier = float(factor)
        self.changes.append((at, self.multiplier))
        del self.changes[1:-MAX_CHANGES]
        self._changed()

    def multiplier_at(self, t: float) -> float:
        """The multiplier in force at run-clock instant `t`."""
        if not self.changes:
            return self.multiplier
        index = bisect.bisect_right(self.changes, (t, math.inf)) - 1
        return self.changes[max(index, 0)][1]

    def set_malformed_share(self, share: float) -> None:
        if not isinstance(share, (int, float)) or not math.isfinite(share) or not 0 <= share <= 1:
            raise ConfigError(f"malformed share must be a number in [0, 1], got {share!r}")
        self.malformed_share = float(share)
        self._changed()

    def _changed(self) -> None:
        for callback in list(self.on_change):
            callback()

    def as_dict(self) -> dict[str, float]:
        return {"multiplier": self.multiplier, "malformed_share": self.malformed_share}


class PhaseTimeline:
    """Phases by their start instant on the run clock. Before the first `set`, requests belong to
    `initial`; once a first phase is set, earlier requests belong to it (they were the warm-up of
    the run's first phase, sent in the instant between `start()` and the first `set_phase`)."""

    def __init__(self, initial: str = "load") -> None:
        self.initial = initial
        self.starts: list[float] = []
        self.names: list[str] = []

    def set(self, name: str, at: float) -> None:
        if not name:
            raise ConfigError("a phase needs a name")
        if self.starts and at < self.starts[-1]:
            at = self.starts[-1]  # the clock is monotonic; equal instants keep their order
        self.starts.append(at)
        self.names.append(name)

    def phase_at(self, t: float) -> str:
        if not self.names:
            return self.initial
        index = bisect.bisect_right(self.starts, t) - 1
        return self.names[max(index, 0)]

    @property
    def current(self) -> str:
        return self.names[-1] if self.names else self.initial
