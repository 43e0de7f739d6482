"""The bill: what the mock providers say was spent, read from each mock's `GET /admin/bill`.

The runner takes a snapshot at every phase boundary (and, better, every few seconds between), all
on the run clock. Spend in any window is the difference of the bill's cumulative totals at its
ends, interpolated linearly between snapshots, per provider (a provider whose read failed keeps
its last good value). Spend ceilings are judged on this, never on the gateway's own claim.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Mapping
from pathlib import Path

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gameday.errors import ConfigError

__all__ = ["BillLedger", "BillReader", "BillSnapshot", "ModelBill", "ProviderBill", "SpendRate"]


class ModelBill(BaseModel):
    model_config = ConfigDict(extra="ignore")

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0


class ProviderBill(BaseModel):
    """The body of `GET /admin/bill` (fields the mock may add are ignored)."""

    model_config = ConfigDict(extra="ignore")

    provider: str
    models: dict[str, ModelBill] = Field(default_factory=dict)
    total_usd: float = 0.0
    since: float | None = None


class BillSnapshot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    t: float = Field(description="seconds since run start, the records' clock")
    wall: float | None = None
    label: str = Field(default="tick", description="why it was taken, e.g. phase_start:outage")
    bills: dict[str, ProviderBill] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict, description="provider -> why its bill could not be read")

    @property
    def total_usd(self) -> float:
        return sum(b.total_usd for b in self.bills.values())


class SpendRate(BaseModel):
    t0: float
    t1: float
    usd: float
    usd_per_min: float


class _Series:
    """One cumulative counter over time, made monotonic across resets of the mock's bill."""

    def __init__(self) -> None:
        self.ts: list[float] = []
        self.values: list[float] = []
        self._offset = 0.0
        self._last_raw: float | None = None

    def add(self, t: float, raw: float) -> None:
        if self._last_raw is not None and raw < self._last_raw:
            self._offset += self._last_raw  # the bill was reset under us: keep counting from where it was
        self._last_raw = raw
        self.ts.append(t)
        self.values.append(raw + self._offset)

    def at(self, t: float) -> float:
        if not self.ts:
            return 0.0
        if t <= self.ts[0]:
            return self.values[0]
        if t >= self.ts[-1]:
            return self.values[-1]
        i = bisect.bisect_right(self.ts, t)
        t0, t1, v0, v1 = self.ts[i - 1], self.ts[i], self.values[i - 1], self.values[i]
        return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)


class BillLedger(BaseModel):
    """Every snapshot of a run, in time order; saved as `bill.json`."""

    model_config = ConfigDict(extra="forbid")

    snapshots: list[BillSnapshot] = Field(default_factory=list)

    def add(self, snapshot: BillSnapshot) -> None:
        self.snapshots.append(snapshot)
        self.snapshots.sort(key=lambda s: s.t)

    @property
    def empty(self) -> bool:
        return not any(s.bills for s in self.snapshots)

    @property
    def span(self) -> tuple[float, float] | None:
        ts = [s.t for s in self.snapshots if s.bills]
        return (min(ts), max(ts)) if ts else None

    def providers(self) -> list[str]:
        return sorted({p for s in self.snapshots for p in s.bills})

    def _series(self) -> dict[tuple[str, str | None], _Series]:
        out: dict[tuple[str, str | None], _Series] = {}
        for snap in self.snapshots:
            for provider, bill in snap.bills.items():
                out.setdefault((provider, None), _Series()).add(snap.t, bill.total_usd)
                for model, mbill in bill.models.items():
                    out.setdefault((provider, model), _Series()).add(snap.t, mbill.usd)
        return out

    def spend_between(self, t0: float, t1: float) -> float | None:
        """Billed USD between two instants of the run clock; None without any bill."""
        if self.empty:
            return None
        series = self._series()
        return sum(s.at(t1) - s.at(t0) for (_, model), s in series.items() if model is None)

    def spend_by_model(self, t0: float, t1: float) -> dict[str, float]:
        """Billed USD between two instants per `provider/model` (only those that spent something)."""
        out = {}
        for (provider, model), s in self._series().items():
            if model is not None:
                usd = s.at(t1) - s.at(t0)
                if usd > 0:
                    out[f"{provider}/{model}"] = usd
        return dict(sorted(out.items()))

    def rates(self, t0: float | None = None, t1: float | None = None, min_interval_s: float = 1.0) -> list[SpendRate]:
        """Spend per minute between consecutive snapshots inside [t0, t1]; intervals shorter than
        `min_interval_s` merge with the next one, so a burst of snapshots cannot fake a spike."""
        span = self.span
        if span is None:
            return []
        lo = span[0] if t0 is None else max(t0, span[0])
        hi = span[1] if t1 is None else min(t1, span[1])
        if hi <= lo:
            return []
        cuts = sorted({lo, hi, *(s.t for s in self.snapshots if lo < s.t < hi and s.bills)})
        series = [s for (_, m), s in self._series().items() if m is None]
        out: list[SpendRate] = []
        start = cuts[0]
        for end in cuts[1:]:
            if end - start < min_interval_s and end != cuts[-1]:
                continue
            usd = sum(s.at(end) - s.at(start) for s in series)
            out.append(SpendRate(t0=start, t1=end, usd=usd, usd_per_min=usd / (end - start) * 60.0))
            start = end
        return out

    def peak_per_min(self, t0: float | None = None, t1: float | None = None, window_s: float = 60.0) -> float | None:
        """The most spent in any `window_s` window inside [t0, t1] (the whole span when shorter), per minute.

        The bill is linear between snapshots, so only windows that start or end at a snapshot need
        looking at. Judging a per-minute
        ceiling on a minute of bill keeps one busy second from reading as a budget breach.
        """
        span = self.span
        if span is None:
            return None
        lo = span[0] if t0 is None else max(t0, span[0])
        hi = span[1] if t1 is None else min(t1, span[1])
        if hi <= lo:
            return None
        width = min(window_s, hi - lo)
        # F(end) - F(end - width) of a piecewise-linear F peaks where end or end - width is a snapshot.
        cuts = [s.t for s in self.snapshots if s.bills]
        ends = {min(hi, max(lo + width, t)) for c in cuts for t in (c, c + width)} | {lo + width, hi}
        series = [s for (_, m), s in self._series().items() if m is None]
        best = max(sum(s.at(end) - s.at(end - width) for s in series) for end in ends)
        return best / width * 60.0

    def errors(self) -> dict[str, str]:
        """The last read error of each provider whose bill could not be read at some snapshot."""
        out: dict[str, str] = {}
        for snap in self.snapshots:
            out.update(snap.errors)
        return out

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.model_dump_json(indent=1))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> BillLedger:
        try:
            return cls.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file.") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "bill"
            raise ConfigError(f"{path}: not a bill of gameday: {loc}: {first['msg']}") from None


class BillReader:
    """Reads every mock's bill synchronously (the runner hosts Locust, which does not mix with asyncio).

    `providers` maps provider name -> base URL of the mock itself, not of its Toxiproxy proxy: a
    network fault must not hide the bill.
    """

    def __init__(
        self,
        providers: Mapping[str, str],
        token: str,
        timeout_s: float = 2.0,
        session: requests.Session | None = None,
    ) -> None:
        self.providers = {name: url.rstrip("/") for name, url in providers.items()}
        self.token = token
        self.timeout_s = timeout_s
        self._own_session = session is None
        self.session = session or requests.Session()

    def read(self) -> tuple[dict[str, ProviderBill], dict[str, str]]:
        bills: dict[str, ProviderBill] = {}
        errors: dict[str, str] = {}
        for name, base in self.providers.items():
            url = f"{base}/admin/bill"
            try:
                resp = self.session.get(url, headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout_s)
            except requests.RequestException as exc:
                errors[name] = f"GET {url} failed: {type(exc).__name__}"
                continue
            if resp.status_code == 401:
                errors[name] = f"GET {url}: 401, the admin token was refused (set GAMEDAY_ADMIN_TOKEN to the stack's)"
                continue
            if resp.status_code == 404:
                # A real server (vLLM in the GPU stack) keeps no bill: its spend is unknown, not zero.
                errors[name] = f"GET {url}: 404, this provider keeps no bill (not a gameday mock?)"
                continue
            if resp.status_code != 200:
                errors[name] = f"GET {url}: HTTP {resp.status_code}"
                continue
            try:
                bills[name] = ProviderBill.model_validate_json(resp.content)
            except ValidationError as exc:
                errors[name] = f"GET {url}: not a bill ({exc.errors()[0]['msg']})"
        return bills, errors

    def snapshot(self, t: float, label: str = "tick", wall: float | None = None) -> BillSnapshot:
        bills, errors = self.read()
        return BillSnapshot(t=t, wall=time.time() if wall is None else wall, label=label, bills=bills, errors=errors)

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> BillReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
