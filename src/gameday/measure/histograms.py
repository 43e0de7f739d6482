"""HDR histograms of latency per phase and series, at microsecond resolution with 3 significant digits.

A series key names what is measured and for which slice: `e2e`, `ttft|class=chat`,
`itl|model=tiny`. Histograms encode to HdrHistogram's standard compressed base64 form, so workers'
histograms merge by decoding and adding, and a results folder keeps them in `histograms/`.
Percentiles use HdrHistogram's rank (nearest rank, rounded: the value at rank round(p/100 * n)).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path

from hdrh.histogram import HdrHistogram

from gameday.errors import ConfigError
from gameday.measure.record import RequestRecord

__all__ = [
    "HIGHEST_US",
    "SIGNIFICANT_DIGITS",
    "HistogramSet",
    "Series",
    "load_histograms",
    "new_histogram",
    "save_histograms",
    "series_key",
    "to_us",
]

LOWEST_US = 1
HIGHEST_US = 600_000_000  # 10 minutes: beyond any request timeout; larger values are clamped here
SIGNIFICANT_DIGITS = 3
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")


class Series(StrEnum):
    TTFT = "ttft"
    E2E = "e2e"
    ITL = "itl"
    USEFUL = "useful"  # end-to-end latency of successful tasks: time to a useful answer


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def to_us(seconds: float) -> int:
    return min(HIGHEST_US, max(0, round(seconds * 1_000_000)))


def series_key(series: Series | str, dimension: str | None = None, value: str | None = None) -> str:
    if dimension is None:
        return str(series)
    return f"{series}|{dimension}={value}"


class HistogramSet:
    """The histograms of one slice of a run (a phase, or the whole run), keyed by series key."""

    def __init__(self) -> None:
        self.histograms: dict[str, HdrHistogram] = {}

    def record(self, key: str, seconds: float) -> None:
        hist = self.histograms.get(key)
        if hist is None:
            hist = self.histograms[key] = new_histogram()
        hist.record_value(to_us(seconds))

    def record_request(self, record: RequestRecord) -> None:
        """File one request under every series and slice it belongs to (overall, its class, its model).

        Malformed-corpus requests are left out: their quick 4xx would flatter the latency of real work.
        """
        if record.expected_4xx:
            return
        values: list[tuple[Series, float | None]] = [
            (Series.TTFT, record.ttft_corrected_s),
            (Series.E2E, record.e2e_corrected_s),
            (Series.ITL, record.itl_s),
            (Series.USEFUL, record.e2e_corrected_s if record.succeeded else None),
        ]
        slices: list[tuple[str | None, str | None]] = [(None, None), ("class", record.task)]
        if record.model is not None:
            slices.append(("model", record.model))
        for series, value in values:
            if value is None:
                continue
            for dimension, name in slices:
                self.record(series_key(series, dimension, name), value)

    def count(self, key: str) -> int:
        hist = self.histograms.get(key)
        return 0 if hist is None else int(hist.get_total_count())

    def percentiles(self, key: str, percentiles: Sequence[float] = (50.0, 95.0, 99.0)) -> dict[float, float] | None:
        """Percentiles in seconds, or None when the series holds nothing."""
        hist = self.histograms.get(key)
        if hist is None or hist.get_total_count() == 0:
            return None
        values = hist.get_percentile_to_value_dict(list(percentiles))
        return {p: values[p] / 1_000_000 for p in percentiles}

    def add(self, other: HistogramSet) -> HistogramSet:
        """Merge `other` into this set (same keys add up; new keys are copied)."""
        for key, hist in other.histograms.items():
            mine = self.histograms.get(key)
            if mine is None:
                mine = self.histograms[key] = new_histogram()
            mine.add(hist)
        return self

    def encode(self) -> dict[str, str]:
        return {key: hist.encode().decode("ascii") for key, hist in sorted(self.histograms.items())}

    @classmethod
    def decode(cls, encoded: dict[str, str]) -> HistogramSet:
        out = cls()
        for key, text in encoded.items():
            out.histograms[key] = HdrHistogram.decode(text.encode("ascii"))
        return out

    @classmethod
    def from_records(cls, records: Iterable[RequestRecord]) -> HistogramSet:
        out = cls()
        for record in records:
            out.record_request(record)
        return out

    def series_keys(self) -> list[str]:
        return sorted(self.histograms)


def save_histograms(folder: Path, sets: dict[str, HistogramSet]) -> list[Path]:
    """Write one `<phase>.json` per slice (series key -> encoded histogram); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, hset in sets.items():
        safe = name if _SAFE.match(name) else re.sub(r"[^A-Za-z0-9_.@-]", "_", name) or "_"
        path = folder / f"{safe}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"slice": name, "unit": "us", "histograms": hset.encode()}, indent=1))
        tmp.replace(path)
        written.append(path)
    return written


def load_histograms(folder: Path) -> dict[str, HistogramSet]:
    out: dict[str, HistogramSet] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            out[str(data["slice"])] = HistogramSet.decode(dict(data["histograms"]))
        except (ValueError, KeyError, TypeError, zlib.error) as exc:
            raise ConfigError(f"{path}: not a histogram file of gameday ({exc}).") from None
    return out
