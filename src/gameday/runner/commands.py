"""`gameday run`: one scenario end to end, from the command line to an exit code.

The order matters here and only here: Locust (through `gameday.load.engine`) monkey-patches the
process with gevent on import, so it is imported before anything opens a socket or a thread.
"""

from __future__ import annotations

# Locust patches sockets and ssl with gevent on import: before anything imports requests or ssl.
import gameday.load.engine  # noqa: F401

# isort: split
import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gameday.errors import ConfigError
from gameday.measure.result import RunResult
from gameday.runner.options import DEFAULT_SCENARIO, RunOptions, default_file

if TYPE_CHECKING:
    from gameday.faults.journal import EventJournal
    from gameday.load.engine import LoadEngine
    from gameday.measure.record import RequestRecord

__all__ = ["options_from_args", "quiet_interrupts", "run", "run_scenario"]

log = logging.getLogger("gameday.run")


def options_from_args(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        scenario_path=Path(args.scenario or DEFAULT_SCENARIO),
        stack_path=Path(args.stack) if args.stack else None,
        target_url=args.target,
        adapter=args.adapter,
        time_scale=args.time_scale,
        seed=args.seed,
        workers=args.workers,
        out=Path(args.out) if args.out else Path("results"),
        allow_remote=args.allow_remote,
        toxiproxy_url=args.toxiproxy,
    )


def run(args: argparse.Namespace) -> int:
    from gameday.verdict.exitcode import exit_code

    quiet_interrupts()
    options = options_from_args(args)
    if args.scenario is None:
        options = replace(options, scenario_path=default_file(DEFAULT_SCENARIO))
    if not options.scenario_path.exists():
        raise ConfigError(
            f"{options.scenario_path}: no such scenario file. Shipped ones are in scenarios/ "
            "(e.g. scenarios/provider-outage.yaml); run from the repository root or give a path."
        )
    result, folder = run_scenario(options)
    print_verdicts(result, folder)
    return exit_code(result)


def quiet_interrupts() -> None:
    """Ctrl-C and SIGTERM end a run with a message and rollback, never with a printed traceback."""
    from gameday.faults.guard import RunInterrupted
    from gameday.load._locust import pass_quietly

    pass_quietly(RunInterrupted)


def run_scenario(
    options: RunOptions, *, baseline: RunResult | None = None, tolerance: float = 0.2
) -> tuple[RunResult, Path]:
    """Validate, bring the stack up (or find it up), run the phases, bring down what we started."""
    from gameday.config.scenario import Scenario
    from gameday.load.engine import LoadEngine
    from gameday.runner.lifecycle import RunContext, run_phases
    from gameday.runner.options import load_scenario, stack_path_for
    from gameday.runner.progress import Progress

    scenario: Scenario = load_scenario(options)
    from gameday.stack.api import bring_down, ensure_up, read_state  # after the input is checked

    adapter = options.adapter or scenario.target.adapter
    root = Path.cwd()
    running = read_state(root)
    stack_path = stack_path_for(options, scenario, running.get("stack") if running else None)
    state, started = ensure_up(stack_path, toxiproxy_url=options.toxiproxy_url, root=root)
    try:
        target = options.target_url or scenario.target.url or state.get("gateway_url")
        if not target:
            raise ConfigError(
                f"no target: {stack_path} runs no gateway and neither the scenario (`target: {{url: ...}}`) "
                "nor --target names one"
            )
        load = scenario.load.scaled(options.time_scale) if options.time_scale != 1.0 else scenario.load

        def make_engine(sink: Callable[[RequestRecord], None], journal: EventJournal) -> LoadEngine:
            return LoadEngine(
                load,
                target,
                adapter=adapter,
                seed=scenario.seed,
                record_sink=sink,
                workers=options.workers,
                origin=journal.start,
                initial_phase=scenario.phases[0].name,
                max_duration_s=scenario.duration_s + load.request_timeout_s + 60,
            )

        ctx = RunContext(
            scenario=scenario,
            state=state,
            target_url=target,
            make_engine=make_engine,
            out=options.out,
            progress=Progress(quiet=options.quiet),
            time_scale=options.time_scale,
            baseline=baseline,
            tolerance=tolerance,
        )
        outcome = run_phases(ctx)
        return outcome.result, outcome.folder
    finally:
        if started:
            bring_down(root)


def print_verdicts(result: RunResult, folder: Path, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    for verdict in result.verdicts:
        mark = "PASS" if verdict.passed else "FAIL"
        print(f"  {mark}  {verdict.sentence}", file=out)
    integrity = result.integrity
    print(f"  requests: {integrity.recorded} recorded of {integrity.sent} sent", file=out)
    if result.aborted:
        print(f"{result.scenario}: ABORTED ({result.abort_reason}); results in {folder}", file=out)
    else:
        word = "PASSED" if result.passed else "FAILED"
        print(f"{result.scenario}: {word}; results in {folder} (report.html, runbook.md)", file=out)
