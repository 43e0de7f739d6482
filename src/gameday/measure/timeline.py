"""The run second by second: latency percentiles, error and fallback rates, load, spend claims.

Records are binned by send time. Bins are 1 s for runs up to 10 minutes and widen beyond, so a
plot never has more than ~600 points. Percentiles are exact (nearest rank) within each bin.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field

from gameday.measure.detect import nearest_rank
from gameday.measure.record import RequestRecord

__all__ = ["Bin", "bin_width", "timeline"]


class Bin(BaseModel):
    t0: float
    t1: float
    requests: int = 0
    errors: int = 0
    fallbacks: int = 0
    successes: int = 0
    out_tokens: int = 0
    claimed_usd: float = 0.0
    ttft: dict[str, float] = Field(default_factory=dict, description="p50/p95/p99 -> seconds")
    e2e: dict[str, float] = Field(default_factory=dict)
    served_by: dict[str, int] = Field(default_factory=dict, description="model -> requests served")

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.requests if self.requests else None

    @property
    def fallback_rate(self) -> float | None:
        return self.fallbacks / self.requests if self.requests else None


def bin_width(duration_s: float) -> float:
    return 1.0 if duration_s <= 600 else float(int(duration_s / 600) + 1)


def timeline(
    records: Sequence[RequestRecord], duration_s: float | None = None, width_s: float | None = None
) -> list[Bin]:
    if not records:
        return []
    end = max(duration_s or 0.0, max(r.t for r in records))
    width = width_s or bin_width(end)
    count = int(end // width) + 1
    groups: list[list[RequestRecord]] = [[] for _ in range(count)]
    for r in records:
        groups[min(count - 1, max(0, int(r.t // width)))].append(r)
    out = []
    for i, group in enumerate(groups):
        b = Bin(t0=i * width, t1=(i + 1) * width, requests=len(group))
        normal = [r for r in group if not r.expected_4xx]
        b.errors = sum(1 for r in group if r.failed)
        b.fallbacks = sum(1 for r in group if r.fallback)
        b.successes = sum(1 for r in group if r.succeeded)
        b.out_tokens = sum(r.out_tokens for r in group if r.is_2xx)
        b.claimed_usd = sum(r.cost_usd or 0.0 for r in group)
        b.served_by = dict(Counter(r.model for r in group if r.served and r.model))
        ttft = [v for r in normal if (v := r.ttft_corrected_s) is not None]
        e2e = [v for r in normal if (v := r.e2e_corrected_s) is not None]
        for values, target in ((ttft, b.ttft), (e2e, b.e2e)):
            if values:
                for p in (50, 95, 99):
                    target[f"p{p}"] = nearest_rank(values, p)
        out.append(b)
    return out
