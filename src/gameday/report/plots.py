"""The report's plots, drawn with matplotlib's Agg backend (no display needed) into PNG bytes.

Every time plot shares the run clock on x, shades the phases and marks fault injection (red) and
removal (green), so a reader lines latency, errors, routing and spend up against what was done.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gameday.measure.bill import BillLedger
from gameday.measure.events import Event
from gameday.measure.result import RunResult
from gameday.measure.timeline import Bin

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PLOTS", "draw_plots"]

PLOTS = ("latency", "errors", "models", "spend")
_BANDS = ("#f3f6fa", "#e6edf5")


def _figure(rows: int = 1) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.2 * rows), dpi=90, layout="constrained")
    axes = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    return fig, axes


def _decorate(ax: Axes, result: RunResult, events: Sequence[Event]) -> None:
    for i, phase in enumerate(result.phases):
        ax.axvspan(phase.start_s, phase.end_s, color=_BANDS[i % 2], zorder=0, lw=0)
        ax.text(
            (phase.start_s + phase.end_s) / 2,
            1.0,
            phase.name,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8,
            color="#445",
        )
    for e in events:
        if e.event in ("fault_inject", "fault_remove", "abort"):
            color = {"fault_inject": "#c0392b", "fault_remove": "#27ae60", "abort": "#000000"}[e.event]
            ax.axvline(e.t, color=color, lw=1.0, ls="--", zorder=3)
    ax.set_xlabel("seconds since run start")
    ax.grid(True, alpha=0.3)


def _legend(ax: Axes, loc: str) -> None:
    if ax.get_legend_handles_labels()[0]:  # an empty legend warns (and says nothing)
        ax.legend(loc=loc, fontsize=8)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _mid(bins: Sequence[Bin]) -> list[float]:
    return [(b.t0 + b.t1) / 2 for b in bins]


def _series(bins: Sequence[Bin], attr: str, key: str) -> list[float]:
    return [getattr(b, attr).get(key, float("nan")) for b in bins]


def latency_plot(result: RunResult, events: Sequence[Event], bins: Sequence[Bin]) -> bytes:
    fig, (ttft, e2e) = _figure(2)
    x = _mid(bins)
    for ax, attr, title in ((ttft, "ttft", "time to first token"), (e2e, "e2e", "end-to-end latency")):
        _decorate(ax, result, events)
        for key, style in (("p50", "-"), ("p95", "-"), ("p99", ":")):
            ax.plot(x, _series(bins, attr, key), style, lw=1.2, label=key, marker=".", ms=3)
        ax.set_ylabel(f"{title} (s)")
        ax.set_ylim(bottom=0)
        _legend(ax, "upper left")
    return _png(fig)


def errors_plot(result: RunResult, events: Sequence[Event], bins: Sequence[Bin]) -> bytes:
    fig, (ax,) = _figure(1)
    _decorate(ax, result, events)
    x = _mid(bins)
    errors = [100 * r if (r := b.error_rate) is not None else float("nan") for b in bins]
    fallbacks = [100 * r if (r := b.fallback_rate) is not None else float("nan") for b in bins]
    ax.plot(x, errors, label="error rate %", color="#c0392b")
    ax.plot(x, fallbacks, label="fallback rate %", color="#8e44ad")
    ax.set_ylabel("% of requests sent")
    ax.set_ylim(-2, 102)
    load = ax.twinx()
    width = (bins[0].t1 - bins[0].t0) if bins else 1.0
    load.plot(x, [b.requests / width for b in bins], color="#7f8c8d", lw=0.8, alpha=0.7, label="requests/s")
    load.set_ylabel("requests/s")
    load.set_ylim(bottom=0)
    _legend(ax, "upper left")
    _legend(load, "upper right")
    return _png(fig)


def models_plot(result: RunResult, events: Sequence[Event], bins: Sequence[Bin]) -> bytes:
    fig, (ax,) = _figure(1)
    _decorate(ax, result, events)
    models = sorted({m for b in bins for m in b.served_by})
    if models:
        x = _mid(bins)
        ax.stackplot(x, [[b.served_by.get(m, 0) for b in bins] for m in models], labels=models, alpha=0.85)
        _legend(ax, "upper left")
    else:
        ax.text(0.5, 0.5, "no request was served", transform=ax.transAxes, ha="center")
    ax.set_ylabel("requests served per bin, by model")
    return _png(fig)


def spend_plot(result: RunResult, events: Sequence[Event], bins: Sequence[Bin], ledger: BillLedger) -> bytes:
    fig, (ax,) = _figure(1)
    _decorate(ax, result, events)
    rates = ledger.rates()
    if rates:
        xs = [v for r in rates for v in (r.t0, r.t1)]
        ys = [r.usd_per_min for r in rates for _ in range(2)]
        ax.plot(xs, ys, color="#2c3e50", lw=1.5, label="billed $/min (providers' bill)")
    else:
        ax.text(0.5, 0.5, "no bill was read", transform=ax.transAxes, ha="center")
    if bins and any(b.claimed_usd for b in bins):
        width = bins[0].t1 - bins[0].t0
        # Claims per bin are spiky; a 5-bin moving sum reads like the bill's per-interval rate.
        claimed = [b.claimed_usd for b in bins]
        smooth = [sum(claimed[max(0, i - 4) : i + 1]) / (width * min(5, i + 1)) * 60 for i in range(len(claimed))]
        ax.plot(_mid(bins), smooth, color="#16a085", lw=1.0, ls="--", label="gateway's claimed $/min")
    ceiling = result.plan.ceiling_usd_per_min
    if ceiling is not None:
        ax.axhline(ceiling, color="#c0392b", lw=1.2, ls="-.", label=f"ceiling ${ceiling:g}/min")
    ax.set_ylabel("USD per minute")
    ax.set_ylim(bottom=0)
    _legend(ax, "upper left")
    return _png(fig)


def draw_plots(result: RunResult, events: Sequence[Event], bins: Sequence[Bin], ledger: BillLedger) -> dict[str, bytes]:
    """Plot name -> PNG bytes, for every name in `PLOTS`."""
    return {
        "latency": latency_plot(result, events, bins),
        "errors": errors_plot(result, events, bins),
        "models": models_plot(result, events, bins),
        "spend": spend_plot(result, events, bins, ledger),
    }
