"""When requests are due under the open model: arrival instants from a rate, or from a recorded trace.

Both schedules are pure state machines over an injected time (no clock, no sleeping): the
dispatcher asks `next_due(now)` and gets `Due(t)` (an intended send instant, possibly already
past: the request is late and its latency is measured from `t`), `Idle(until)` (nothing due
before `until`; ask again then, or sooner if the multiplier changes), or `Finished`.

Arrivals come from integrating the rate: a request is due each time the integral of the rate
grows by one (uniform) or by an exponential draw (Poisson). The integral of the past is
committed as soon as it is known, so a multiplier change only moves arrivals still in the future.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

__all__ = ["ArrivalSchedule", "Due", "Finished", "Idle", "Ticket", "TraceSchedule", "duplicates"]

T = TypeVar("T")
Arrivals = Literal["uniform", "poisson"]


@dataclass(frozen=True, slots=True)
class Due(Generic[T]):
    t: float
    item: T | None = None


@dataclass(frozen=True, slots=True)
class Idle:
    until: float


@dataclass(frozen=True, slots=True)
class Finished:
    pass


Ticket = Due[T] | Idle | Finished
FINISHED = Finished()


class ArrivalSchedule:
    """Arrival instants for a rate that may change at any time.

    `rate_at(t)` is the total offered rate at `t` (shape level times multiplier), None once the
    shape has finished. This schedule takes `share` of it (one worker of N takes 1/N) and, with
    uniform arrivals, starts at `offset` (0..1) of a gap so that N workers interleave evenly.
    """

    def __init__(
        self,
        rate_at: Callable[[float], float | None],
        *,
        start: float = 0.0,
        arrivals: Arrivals = "uniform",
        rng: random.Random | None = None,
        share: float = 1.0,
        offset: float = 0.0,
        step_s: float = 0.01,
        lookahead_s: float = 1.0,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        if not 0 <= offset < 1:
            raise ValueError(f"offset must be in [0, 1), got {offset}")
        self.rate_at = rate_at
        self.arrivals = arrivals
        self.rng = rng or random.Random(0)
        self.share = share
        self.step_s = step_s
        self.lookahead_s = lookahead_s
        self.pos = start
        # What is left of the rate integral before the next arrival: 0 sends the first at once.
        self.need = offset if arrivals == "uniform" else self._draw()
        self.finished = False

    def _draw(self) -> float:
        if self.arrivals == "uniform":
            return 1.0
        return -math.log(1.0 - self.rng.random())

    def _scan(self, pos: float, need: float, until: float) -> tuple[float | None, float, float, bool]:
        """Integrate from `pos` to `until`: (arrival or None, pos reached, need left, finished)."""
        steps = int((until - pos) / self.step_s) + 2  # bounded: the loop advances one step each turn
        for _ in range(steps):
            rate = self.rate_at(pos)
            if rate is None:
                return None, pos, need, True
            rate = max(0.0, rate) * self.share
            end = min(until, pos + self.step_s)
            # Inclusive of `until` (an arrival exactly now is due now), with room for rounding.
            if rate > 0 and need <= rate * (end - pos) + 1e-12:
                arrival = pos + max(0.0, need) / rate
                if self.rate_at(arrival) is None:  # lands on the instant the shape ends: no load there
                    return None, arrival, need, True
                return arrival, pos, need, False
            if pos >= until:
                break
            need -= rate * (end - pos)
            pos = end
        return None, pos, need, False

    def next_due(self, now: float) -> Due[None] | Idle | Finished:
        if self.finished:
            return FINISHED
        # The past is settled: commit it, and an arrival found there is taken now (it is late).
        arrival, pos, need, done = self._scan(self.pos, self.need, max(now, self.pos))
        if done:
            self.finished = True
            return FINISHED
        if arrival is not None:
            self.pos, self.need = arrival, self._draw()
            return Due(arrival)
        self.pos, self.need = pos, need
        # Look ahead without committing: the multiplier may still change before then.
        until = now + self.lookahead_s
        arrival, _, _, _ = self._scan(self.pos, self.need, until)
        # Wake at the next arrival, or after the look-ahead (a shape ending in it reports Finished then).
        return Idle(arrival if arrival is not None else until)


def duplicates(multiplier: float, rng: random.Random) -> int:
    """How many times to send one trace entry under a load multiplier: floor(m) plus one with
    probability frac(m). The expected count is exactly `multiplier`."""
    whole = math.floor(multiplier)
    return whole + (1 if rng.random() < multiplier - whole else 0)


class TraceSchedule(Generic[T]):
    """Replays recorded entries on their own clock: entry k is due at `start + t_k / speed`.

    `index`/`workers` split the trace between workers (entry k goes to worker k mod N). With
    `loop`, the trace starts over after its last entry, shifted by its length plus one mean gap.
    The multiplier sends each entry `duplicates(m)` times at its instant.
    """

    def __init__(
        self,
        entries: Sequence[tuple[float, T]],
        *,
        start: float = 0.0,
        speed: float = 1.0,
        loop: bool = False,
        multiplier: Callable[[], float] = lambda: 1.0,
        rng: random.Random | None = None,
        index: int = 0,
        workers: int = 1,
        max_laps: int = 1_000_000,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        ordered = sorted(entries, key=lambda e: e[0])
        self.entries = ordered
        self.start = start
        self.speed = speed
        self.loop = loop
        self.multiplier = multiplier
        self.rng = rng or random.Random(0)
        self.index = index
        self.workers = max(1, workers)
        self.max_laps = max_laps
        span = ordered[-1][0] - ordered[0][0] if ordered else 0.0
        gap = span / (len(ordered) - 1) if len(ordered) > 1 else 1.0
        self.lap_s = span + gap
        self.k = index  # the next global entry number this worker owns
        self.pending = 0  # copies of the current entry still to send
        self.lap = 0

    def _instant(self, k: int) -> float:
        n = len(self.entries)
        lap, i = divmod(k, n)
        return self.start + (self.entries[i][0] - self.entries[0][0] + lap * self.lap_s) / self.speed

    def next_due(self, now: float) -> Due[T] | Idle | Finished:
        n = len(self.entries)
        for _ in range(1_000):  # bounded: a zero multiplier skips entries, at most this many a call
            if n == 0 or (not self.loop and self.k >= n) or self.k // max(n, 1) >= self.max_laps:
                return FINISHED
            t = self._instant(self.k)
            if t > now:
                return Idle(t)
            if self.pending == 0:
                self.pending = duplicates(self.multiplier(), self.rng)
                if self.pending == 0:
                    self.k += self.workers
                    continue
            self.pending -= 1
            item = self.entries[self.k % n][1]
            if self.pending == 0:
                self.k += self.workers
            return Due(t, item)
        return Idle(now)
