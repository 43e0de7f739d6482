"""A spend ceiling per rolling window that holds under concurrency, by reserving before spending.

Before a request goes upstream the gateway reserves its worst-case cost (`worst_case_usd`); the
reservation is refused when what was spent in the window, plus every outstanding reservation, plus
this one would pass the ceiling. When the request ends the reservation is settled with the real cost
(recorded at that instant, so it rolls out of the window `window_s` later) or released when nothing
was billed. `reserve` never awaits, so on one event loop no two requests can both take the last dollar.

Money is kept as whole pico-dollars internally: sums of floats drift, and a drift of 1e-17 is
enough to let a request through that should have been refused (or the reverse).
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, Protocol

__all__ = ["Reservation", "SpendBudget", "cost_usd", "worst_case_usd"]

_UNITS_PER_USD = 10**12


class _Priced(Protocol):
    @property
    def input(self) -> float: ...
    @property
    def output(self) -> float: ...


def cost_usd(price: _Priced, input_tokens: int, output_tokens: int) -> float:
    """USD for a usage at `price` (USD per million tokens)."""
    return (input_tokens * price.input + output_tokens * price.output) / 1_000_000


def worst_case_usd(price: _Priced, input_tokens: int, max_tokens: int) -> float:
    """The most a request can cost: all its input plus `max_tokens` of output."""
    return cost_usd(price, input_tokens, max_tokens)


def _units_up(usd: float) -> int:
    """USD -> pico-dollars, rounded up so that a charge is never under-counted."""
    if not math.isfinite(usd) or usd < 0:
        raise ValueError(f"an amount in USD must be a finite number >= 0, got {usd!r}")
    return math.ceil(usd * _UNITS_PER_USD)


def _usd(units: int) -> float:
    return units / _UNITS_PER_USD


class Reservation:
    """A claim on the budget for one request; hand it back with `settle` or `release` exactly once."""

    __slots__ = ("_units", "id", "state", "taken_at")

    def __init__(self, reservation_id: int, units: int, taken_at: float) -> None:
        self.id = reservation_id
        self._units = units
        self.taken_at = taken_at
        self.state: Literal["open", "settled", "released"] = "open"

    @property
    def usd(self) -> float:
        return _usd(self._units)

    @property
    def open(self) -> bool:
        return self.state == "open"

    def __repr__(self) -> str:
        return f"Reservation(id={self.id}, usd={self.usd:.6f}, {self.state})"


class SpendBudget:
    """`SpendBudget(ceiling_usd, window_s)`: at most `ceiling_usd` spent per rolling `window_s` (None: unlimited)."""

    def __init__(self, ceiling_usd: float | None, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not (math.isfinite(window_s) and window_s > 0):
            raise ValueError(f"window_s must be a number greater than 0, got {window_s!r}")
        self.ceiling_usd = ceiling_usd
        self.window_s = window_s
        if ceiling_usd is not None and not (math.isfinite(ceiling_usd) and ceiling_usd >= 0):
            raise ValueError(f"ceiling_usd must be a number >= 0 or None (no ceiling), got {ceiling_usd!r}")
        # floor, so that rounding never lets spending pass the ceiling
        self._ceiling = None if ceiling_usd is None else math.floor(ceiling_usd * _UNITS_PER_USD)
        self._clock = clock
        self._spends: deque[tuple[float, int]] = deque()  # (instant, pico-dollars), oldest first
        self._spent = 0  # sum of _spends
        self._reserved = 0  # sum of open reservations
        self._open = 0
        self._ids = itertools.count(1)
        self.refused = 0  # reservations refused since start, for metrics

    def reserve(self, usd: float) -> Reservation | None:
        """Claim `usd` now, or None when it would pass the ceiling. Never awaits: safe under asyncio concurrency."""
        units = _units_up(usd)
        now = self._clock()
        if self._ceiling is not None:
            self._roll(now)
            if self._spent + self._reserved + units > self._ceiling:
                self.refused += 1
                return None
        self._reserved += units
        self._open += 1
        return Reservation(next(self._ids), units, now)

    def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """The request is done and cost `actual_usd`: it replaces the reservation, counted from this instant.

        The actual cost is recorded even when it exceeds the reservation (a price rose mid-flight): the
        bill is the truth, and the next reservations see it. Settling twice records the cost once.
        """
        units = _units_up(actual_usd)
        if reservation.state == "settled":
            return
        if reservation.state == "open":
            self._free(reservation)
        reservation.state = "settled"
        if units:
            self._spends.append((self._clock(), units))
            self._spent += units

    def adjust(self, reservation: Reservation, usd: float) -> None:
        """Change an open reservation to `usd`, without checking the ceiling: the request is already in flight.

        For a price that rose while requests were in flight: raising their reservations at once stops new
        requests from being admitted against money these will spend.
        """
        units = _units_up(usd)
        if reservation.state != "open":
            return
        self._reserved += units - reservation._units
        reservation._units = units

    def release(self, reservation: Reservation) -> None:
        """The request failed before anything was billed: its reservation is freed (once; later calls do nothing)."""
        if reservation.state == "open":
            self._free(reservation)
            reservation.state = "released"

    def used_share(self) -> float | None:
        """Spent plus reserved in the window, as a share of the ceiling (None without one)."""
        if self._ceiling is None:
            return None
        self._roll(self._clock())
        return (self._spent + self._reserved) / self._ceiling if self._ceiling else 1.0

    def status(self) -> dict[str, Any]:
        """USD amounts and the window in seconds; `left` is None when there is no ceiling."""
        self._roll(self._clock())
        left = None if self._ceiling is None else _usd(max(0, self._ceiling - self._spent - self._reserved))
        return {
            "ceiling": self.ceiling_usd,
            "window": self.window_s,
            "spent_in_window": _usd(self._spent),
            "reserved": _usd(self._reserved),
            "left": left,
            "in_flight": self._open,
            "refused": self.refused,
        }

    def _free(self, reservation: Reservation) -> None:
        self._reserved -= reservation._units
        self._open -= 1

    def _roll(self, now: float) -> None:
        horizon = now - self.window_s
        spends = self._spends
        while spends and spends[0][0] <= horizon:
            self._spent -= spends.popleft()[1]
