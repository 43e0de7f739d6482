"""Helpers for the load's measurement tests: percentiles as HdrHistogram ranks them, and the matching
of the load's records with the fake server's log through the request id header."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from hdrh.histogram import HdrHistogram

from gameday.measure.record import RequestRecord

__all__ = ["by_request_id", "hdr_percentile", "nearest_rank", "relative_error"]


def nearest_rank(values: Iterable[float], q: float) -> float:
    """The q-th percentile by HdrHistogram's rank: the value at rank round(q/100 * n) (at least 1)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, int(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def hdr_percentile(summary: dict[str, Any], series: str, q: float) -> float:
    """The q-th percentile, in seconds, of one of the merged histograms a load run wrote to its summary."""
    hist = HdrHistogram.decode(summary["histograms"][series].encode("ascii"))
    return float(hist.get_value_at_percentile(q)) / 1_000_000


def relative_error(measured: float, truth: float) -> float:
    return abs(measured - truth) / truth


def by_request_id(records: Sequence[RequestRecord]) -> dict[str, RequestRecord]:
    """Records keyed by the request id the load sent with them (`WORKER-N`).

    A process numbers its requests in the order it sends them, and stamps `t` just before, with
    no switch between the two: within one worker, the N-th record by `t` is request N. Ties of `t`
    (same microsecond) would make the matching ambiguous, so they fail here rather than pass by luck.
    """
    per_worker: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in records:
        per_worker[str(record.worker)].append(record)
    out: dict[str, RequestRecord] = {}
    for worker, mine in per_worker.items():
        mine.sort(key=lambda r: r.t)
        times = [r.t for r in mine]
        assert len(set(times)) == len(times), f"worker {worker}: two records sent in the same microsecond"
        out.update({f"{worker}-{n}": record for n, record in enumerate(mine, start=1)})
    return out
