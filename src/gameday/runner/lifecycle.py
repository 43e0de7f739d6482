"""One game day, step by step, journaled (DESIGN.md "A run, step by step").

    validate -> stack up (or found up) -> rollback registered -> load -> phases on a clock,
    faults at their edges, abort_if watched -> rollback (always) -> bill -> judge -> write -> rename

Every collaborator is a part with its own API: the stack, the fault guard, the load engine, the
bill reader, the measurement pipeline. This module only sequences them, so the order of a run can
be read in one place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gameday.config.scenario import Scenario
from gameday.faults.context import FaultContext
from gameday.faults.guard import RollbackGuard, RunInterrupted
from gameday.faults.journal import EventJournal
from gameday.measure.bill import BillLedger, BillReader
from gameday.measure.plan import RunPlan
from gameday.measure.record import RecordWriter, RequestRecord
from gameday.measure.result import RunResult
from gameday.report.pipeline import finish
from gameday.runner.folder import ResultsFolder
from gameday.runner.live import LiveStats
from gameday.runner.progress import Progress
from gameday.verdict.abort import AbortWatcher

__all__ = ["RunContext", "RunOutcome", "run_phases"]

log = logging.getLogger("gameday.run")

TICK_S = 0.2
BILL_EVERY_S = 5.0


@dataclass
class RunContext:
    """What the lifecycle needs from the outside: the stack it runs on and how to reach it."""

    scenario: Scenario
    state: dict[str, Any]
    target_url: str
    make_engine: Callable[[Callable[[RequestRecord], None], EventJournal], Any]
    out: Path
    progress: Progress
    time_scale: float = 1.0
    baseline: RunResult | None = None
    tolerance: float = 0.2


@dataclass(frozen=True)
class RunOutcome:
    result: RunResult
    folder: Path


def _mock_urls(state: dict[str, Any]) -> dict[str, str]:
    """The bill is read from each mock directly, not through its proxy: faults must not hide the bill."""
    urls = {}
    for name, svc in (state.get("services") or {}).items():
        if svc.get("kind") == "mock" and svc.get("url"):
            urls[str(svc.get("provider") or name)] = str(svc["url"])
    return urls


def _write_scenario_copy(folder: ResultsFolder, scenario: Scenario) -> None:
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    folder.file("scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _attach_run_log(folder: ResultsFolder) -> logging.Handler:
    handler = logging.FileHandler(folder.file("run.log"), encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("gameday")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


def run_phases(ctx: RunContext) -> RunOutcome:
    scenario = ctx.scenario
    folder = ResultsFolder(ctx.out, scenario.name)
    handler = _attach_run_log(folder)
    try:
        return _run(ctx, folder)
    finally:
        logging.getLogger("gameday").removeHandler(handler)
        handler.close()


def _run(ctx: RunContext, folder: ResultsFolder) -> RunOutcome:
    scenario = ctx.scenario
    _write_scenario_copy(folder, scenario)
    plan = RunPlan.from_scenario(scenario, time_scale=ctx.time_scale, target_url=ctx.target_url)
    journal = EventJournal(folder.file("events.jsonl"))
    writer = RecordWriter(folder.file("requests.jsonl"))
    watcher = AbortWatcher(scenario.abort_if)
    live = LiveStats()

    def sink(record: RequestRecord) -> None:
        writer.write(record)
        watcher.feed(record)
        live.feed(record)

    ledger = BillLedger()
    bill = BillReader(_mock_urls(ctx.state), str(ctx.state.get("admin_token") or ""))
    started_wall = time.time()
    engine = ctx.make_engine(sink, journal)
    fault_ctx = FaultContext.from_state(ctx.state, load=engine, journal=journal, clock=journal.elapsed)
    abort_reason: str | None = None
    log.info(
        "run %s against %s, %d phases, %.0f s", scenario.name, ctx.target_url, len(scenario.phases), scenario.duration_s
    )
    ctx.progress.message(
        f"gameday: {scenario.name}: {len(scenario.phases)} phases, {scenario.duration_s:.0f} s, "
        f"target {ctx.target_url}, results {folder.final}"
    )
    journal.write("run_start", scenario=scenario.name, seed=scenario.seed, target=ctx.target_url)
    ledger.add(bill.snapshot(journal.elapsed(), "run_start"))
    try:
        with RollbackGuard(fault_ctx) as guard:
            try:
                engine.start()
                abort_reason = _phase_loop(ctx, journal, guard, engine, watcher, live, ledger, bill)
            except RunInterrupted as exc:
                abort_reason = str(exc)
                journal.write("abort", detail={"reason": abort_reason})
                ctx.progress.message(f"gameday: {abort_reason}; removing faults and writing results")
            finally:
                engine.stop()
    finally:
        ctx.progress.close()
        fault_ctx.close()
        writer.close()
    ledger.add(bill.snapshot(journal.elapsed(), "run_end"))
    bill.close()
    journal.write("run_end", sent=engine.sent, recorded=engine.recorded, aborted=abort_reason)
    journal.close()
    result = finish(
        folder.path,
        plan,
        ledger=ledger,
        sent=engine.sent,
        started_wall=started_wall,
        baseline=ctx.baseline,
        tolerance=ctx.tolerance,
    )
    final = folder.finalize()
    log.info("results in %s", final)
    return RunOutcome(result=result, folder=final)


def _phase_loop(
    ctx: RunContext,
    journal: EventJournal,
    guard: RollbackGuard,
    engine: Any,
    watcher: AbortWatcher,
    live: LiveStats,
    ledger: BillLedger,
    bill: BillReader,
) -> str | None:
    """Phases on the journal's clock; returns the abort reason, or None when every phase ran."""
    scenario = ctx.scenario
    run_start = journal.elapsed()
    phase_start = run_start
    for phase in scenario.phases:
        journal.write("phase_start", phase=phase.name, duration_s=phase.duration_s)
        engine.set_phase(phase.name)
        ledger.add(bill.snapshot(journal.elapsed(), f"phase_start:{phase.name}"))
        for spec in phase.faults:
            active = guard.inject(spec, phase=phase.name)
            ctx.progress.message(f"gameday: [{phase.name}] injected {active.describe()}")
        phase_end = phase_start + phase.duration_s
        next_bill = journal.elapsed() + BILL_EVERY_S
        while (now := journal.elapsed()) < phase_end:
            reason = watcher.check(now)
            if reason is not None:
                journal.write("abort", phase=phase.name, detail={"reason": reason})
                ctx.progress.message(f"gameday: aborting: {reason}")
                return reason
            if now >= next_bill:
                ledger.add(bill.snapshot(now, "tick"))
                next_bill = now + BILL_EVERY_S
            ctx.progress.update(
                live.snapshot(phase, now - phase_start, now - run_start, scenario.duration_s, engine.sent)
            )
            time.sleep(min(TICK_S, max(0.0, phase_end - now)))
        removed = guard.remove_phase(phase.name)
        for active in removed:
            ctx.progress.message(f"gameday: [{phase.name}] removed {active.describe()}")
        ledger.add(bill.snapshot(journal.elapsed(), f"phase_end:{phase.name}"))
        journal.write("phase_end", phase=phase.name)
        phase_start = phase_end
    return None
