"""Live numbers of the load, in HdrHistograms that merge across worker processes.

Each process feeds its records into a `LoadStats`. A worker ships `delta()` (encoded histograms
and counters of what it saw since its last delta) to the master, which `merge()`s them: HDR
histograms encode to a compact base64 form and add exactly, so the master's percentiles are
those of every worker's requests together.

Latency series (microseconds): `e2e` and `ttft` corrected for coordinated omission (measured
from the intended send instant under the open model: raw plus how late the request left),
`e2e_raw` and `ttft_raw` from the actual send. Under the closed model both are the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from gameday.measure.histograms import new_histogram, to_us

__all__ = ["SERIES", "LoadSnapshot", "LoadStats", "Tally"]

SERIES = ("e2e", "e2e_raw", "ttft", "ttft_raw")
RATE_WINDOW_S = 5


@dataclass(frozen=True)
class LoadSnapshot:
    """For the progress display: counts since the start, rate and percentiles of the current phase."""

    phase: str
    sent: int
    recorded: int
    in_flight: int
    req_per_s: float
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    errors: int
    fallbacks: int
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    multiplier: float = 1.0
    malformed_share: float = 0.0


def _new_set() -> dict[str, HdrHistogram]:
    return {name: new_histogram() for name in SERIES}


@dataclass
class Tally:
    """Counters of records: how many, errors by kind, fallbacks, and how many were sent each second."""

    recorded: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    fallbacks: int = 0
    per_second: Counter[int] = field(default_factory=Counter)

    def add(self, error: str | None, fallback: bool, second: int) -> None:
        self.recorded += 1
        if error:
            self.errors[error] += 1
        self.fallbacks += 1 if fallback else 0
        self.per_second[second] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "recorded": self.recorded,
            "errors": dict(self.errors),
            "fallbacks": self.fallbacks,
            "per_second": {str(k): v for k, v in self.per_second.items()},
        }

    def merge(self, data: dict[str, Any]) -> None:
        self.recorded += int(data.get("recorded", 0))
        self.errors.update({str(k): int(v) for k, v in data.get("errors", {}).items()})
        self.fallbacks += int(data.get("fallbacks", 0))
        for second, count in data.get("per_second", {}).items():
            self.per_second[int(second)] += int(count)


class LoadStats:
    """`ships=True` in a worker: keep what `delta()` sends to the master too."""

    def __init__(self, ships: bool = False) -> None:
        self.ships = ships
        self.total = _new_set()
        self.phase = _new_set()
        self.pending = _new_set()
        self.tally = Tally()
        self.pending_tally = Tally()

    @property
    def recorded(self) -> int:
        return self.tally.recorded

    def feed(self, fields: dict[str, Any]) -> None:
        """Account one record (its fields, as a dict)."""
        intended = fields.get("intended_t")
        omission = max(0.0, fields["t"] - intended) if intended is not None else 0.0
        raw = {"e2e_raw": fields.get("e2e_s"), "ttft_raw": fields.get("ttft_s")}
        values = {
            **raw,
            "e2e": None if raw["e2e_raw"] is None else raw["e2e_raw"] + omission,
            "ttft": None if raw["ttft_raw"] is None else raw["ttft_raw"] + omission,
        }
        for name, seconds in values.items():
            if seconds is not None:
                us = to_us(seconds)
                self.total[name].record_value(us)
                self.phase[name].record_value(us)
                if self.ships:
                    self.pending[name].record_value(us)
        self.tally.add(fields.get("error"), bool(fields.get("fallback")), int(fields["t"]))
        if self.ships:
            self.pending_tally.add(fields.get("error"), bool(fields.get("fallback")), int(fields["t"]))

    def delta(self) -> dict[str, Any]:
        """What this process saw since its last delta, as plain data to send; then forget it."""
        out = {
            "histograms": {name: h.encode().decode("ascii") for name, h in self.pending.items() if h.get_total_count()},
            **self.pending_tally.to_dict(),
        }
        self.pending = _new_set()
        self.pending_tally = Tally()
        return out

    def merge(self, delta: dict[str, Any]) -> None:
        for name, text in delta.get("histograms", {}).items():
            if name in self.total:
                hist = HdrHistogram.decode(text.encode("ascii"))
                self.total[name].add(hist)
                self.phase[name].add(hist)
        self.tally.merge(delta)

    def new_phase(self) -> None:
        self.phase = _new_set()

    def rate(self, now: float) -> float:
        """Requests per second over the last complete seconds, by send instant."""
        last = int(now) - 1
        per_second = self.tally.per_second
        for old in [s for s in per_second if s < last - 60]:
            del per_second[old]  # a minute is plenty for a five-second window
        window = range(max(0, last - RATE_WINDOW_S + 1), last + 1)
        return sum(per_second.get(s, 0) for s in window) / max(1, len(window))

    def percentile(self, q: float, series: str = "e2e", scope: str = "phase") -> float | None:
        hist = (self.phase if scope == "phase" else self.total)[series]
        if hist.get_total_count() == 0:
            return None
        return float(hist.get_value_at_percentile(q)) / 1_000_000
