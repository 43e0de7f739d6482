"""`report.html`: one self-contained page (plots embedded as PNG data URIs) rendered from a result.

`render(result, records, events, out_dir)` is all it needs; the live run is long gone by then.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gameday.config.expectations import METRICS
from gameday.measure.bill import BillLedger
from gameday.measure.events import Event
from gameday.measure.record import RequestRecord
from gameday.measure.result import Metrics, RunResult
from gameday.measure.timeline import timeline
from gameday.verdict.exitcode import exit_code
from gameday.verdict.wording import fmt_value

__all__ = ["PLOT_TITLES", "render"]

PLOT_TITLES = {
    "latency": "Latency percentiles per second",
    "errors": "Error and fallback rates over time",
    "models": "Who served the traffic",
    "spend": "Spend per minute against the ceiling",
}


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("gameday.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _table(slices: Sequence[tuple[str, Metrics | None]]) -> dict[str, Any]:
    rows = []
    for name, info in METRICS.items():
        cells = []
        for _, metrics in slices:
            value = metrics.get(name) if metrics is not None else None
            note = metrics.why_missing(name) if metrics is not None else "no requests of this class in this slice"
            cells.append({"text": fmt_value(name, value) if value is not None else "", "note": note})
        if all(not c["text"] for c in cells) and name in ("unrecorded_requests",):
            continue
        rows.append({"name": name, "description": f"{info.description} [{info.unit.value}]", "cells": cells})
    return {"heads": [h for h, _ in slices], "rows": rows}


def render(
    result: RunResult,
    records: Sequence[RequestRecord],
    events: Sequence[Event],
    out_dir: Path,
    ledger: BillLedger | None = None,
) -> list[Path]:
    """Write `report.html` and `plots/<name>.png` into `out_dir`; returns the files written."""
    from gameday.report.plots import draw_plots  # matplotlib is heavy: only when drawing

    ledger = ledger or BillLedger()
    bins = timeline(records, result.run.end_s)
    pngs = draw_plots(result, events, bins, ledger)
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in pngs.items():
        path = plot_dir / f"{name}.png"
        path.write_bytes(data)
        written.append(path)

    slices = [*result.phases, result.run]
    overall = _table([(s.name, s.overall) for s in slices])
    classes = sorted({c for s in slices for c in s.by_class})
    by_class = {c: _table([(s.name, s.by_class.get(c)) for s in slices]) for c in classes}
    verdicts = [
        {
            **v.model_dump(),
            "measured_text": fmt_value(v.metric, v.measured) if v.measured is not None else "-",
        }
        for v in result.verdicts
    ]
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            r=result,
            verdicts=verdicts,
            failed=sum(1 for v in result.verdicts if not v.passed),
            exit_code=exit_code(result),
            started=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(result.started_wall))
            if result.started_wall
            else "",
            plots=[(name, PLOT_TITLES[name]) for name in pngs],
            images={name: base64.b64encode(data).decode("ascii") for name, data in pngs.items()},
            bin_s=(bins[0].t1 - bins[0].t0) if bins else 1.0,
            overall=overall,
            by_class=by_class,
            spend_rows=[{"name": s.name, "models": s.spend_by_model} for s in slices],
            slices=slices,
            folder=out_dir.name,
        )
    )
    path = out_dir / "report.html"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    written.append(path)
    return written
