"""The end of a run, in one call for the runner: measure, judge, write every output file.

`finish(folder, plan, ledger=..., sent=...)` reads the `requests.jsonl` and `events.jsonl` the runner
streamed into `folder`, computes the result, judges it (plus a baseline comparison when given),
and writes `summary.json`, `histograms/`, `bill.json`, `junit.xml`, `report.html` with `plots/`,
`runbook.md` and `memo.md`, each written atomically. The runner maps the returned result to its
exit code with `gameday.verdict.exit_code`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gameday.measure.bill import BillLedger
from gameday.measure.compute import build_histograms, compute_result
from gameday.measure.events import Event, load_events
from gameday.measure.folder import BILL, EVENTS, HISTOGRAMS, JUNIT, REQUESTS, SUMMARY
from gameday.measure.histograms import save_histograms
from gameday.measure.plan import RunPlan
from gameday.measure.record import RequestRecord, read_records
from gameday.measure.result import RunResult
from gameday.verdict.compare import compare
from gameday.verdict.judge import judge
from gameday.verdict.junit import write_junit

__all__ = ["finish", "render_all"]


def finish(
    folder: Path,
    plan: RunPlan,
    *,
    ledger: BillLedger | None = None,
    sent: int | None = None,
    started_wall: float | None = None,
    baseline: RunResult | None = None,
    tolerance: float = 0.2,
) -> RunResult:
    folder = Path(folder)
    # A run that never sent anything may have no requests.jsonl: that is zero records, not an error.
    records = read_records(folder / REQUESTS) if (folder / REQUESTS).exists() else []
    events = load_events(folder / EVENTS) if (folder / EVENTS).exists() else []
    ledger = ledger or BillLedger()
    histograms = build_histograms(records)
    result = compute_result(plan, records, events, ledger, sent=sent, started_wall=started_wall, histograms=histograms)
    result = judge(result)
    if baseline is not None:
        result = result.model_copy(update={"verdicts": [*result.verdicts, *compare(result, baseline, tolerance)]})
    save_histograms(folder / HISTOGRAMS, histograms)
    ledger.save(folder / BILL)
    result.save(folder / SUMMARY)
    write_junit(folder / JUNIT, result)
    render_all(folder, result, records, events, ledger)
    return result


def render_all(
    folder: Path,
    result: RunResult,
    records: Sequence[RequestRecord],
    events: Sequence[Event],
    ledger: BillLedger,
) -> list[Path]:
    from gameday.report.html import render as render_report
    from gameday.runbook.render import render as render_runbook

    return [*render_report(result, records, events, folder, ledger), *render_runbook(result, records, folder)]
