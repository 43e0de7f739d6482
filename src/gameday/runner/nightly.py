"""`gameday nightly [SUITE] --junit FILE [--baseline RESULTS_DIR]`: a suite, one exit code, one JUnit file.

Each scenario of the suite runs as `gameday run` would, one after the other, on one stack brought up
once. A baseline is either one run's folder (it is compared with the run of the same scenario) or a
folder of runs (`results/` of last night: the newest run of each scenario is its baseline).
"""

from __future__ import annotations

# Locust patches sockets and ssl with gevent on import: before anything imports requests or ssl.
import gameday.load.engine  # noqa: F401

# isort: split
import argparse
import sys
from pathlib import Path

from gameday.config.scenario import Suite
from gameday.config.yamlio import load_model
from gameday.errors import ConfigError
from gameday.measure.folder import ResultsDir
from gameday.measure.result import RunResult
from gameday.runner.options import RunOptions

__all__ = ["load_baselines", "nightly"]


def load_baselines(path: Path) -> dict[str, RunResult]:
    """Scenario name -> its baseline run, from one results folder or a folder of them."""
    if not path.is_dir():
        raise ConfigError(f"--baseline {path}: not a folder; give a run's results folder or a folder of runs")
    if (path / "summary.json").exists():
        result = ResultsDir(path).result()
        return {result.scenario: result}
    found: dict[str, tuple[str, RunResult]] = {}
    for child in sorted(path.iterdir()):
        if child.name.startswith(".") or child.is_symlink() or not (child / "summary.json").exists():
            continue
        result = ResultsDir(child).result()
        # Folder names start with a UTC timestamp, so the last one sorted is the newest.
        if result.scenario not in found or child.name > found[result.scenario][0]:
            found[result.scenario] = (child.name, result)
    if not found:
        raise ConfigError(f"--baseline {path}: holds no run (no summary.json in it or in its sub-folders)")
    return {name: result for name, (_, result) in found.items()}


def nightly(args: argparse.Namespace) -> int:
    from gameday.config.scenario import Scenario
    from gameday.runner.commands import print_verdicts, quiet_interrupts, run_scenario
    from gameday.verdict.exitcode import suite_exit_code
    from gameday.verdict.junit import write_junit

    quiet_interrupts()
    suite = load_model(Path(args.suite), Suite)
    baselines = load_baselines(Path(args.baseline)) if args.baseline else {}
    out = Path(args.out) if args.out else Path("results")
    scenarios = [(entry, load_model(Path(entry.scenario), Scenario)) for entry in suite.scenarios]
    from gameday.stack.api import bring_down, ensure_up  # after the input is checked: nothing starts before

    stacks = {scenario.stack for _, scenario in scenarios}
    root = Path.cwd()
    first_stack = Path(next(iter(stacks))) if len(stacks) == 1 and None not in stacks else Path("stacks/local.yaml")
    _, started = ensure_up(first_stack, toxiproxy_url=getattr(args, "toxiproxy", None), root=root)
    results: list[RunResult] = []
    try:
        for index, (entry, scenario) in enumerate(scenarios, start=1):
            print(f"nightly {index}/{len(scenarios)}: {scenario.name}", file=sys.stderr)
            options = RunOptions(
                scenario_path=Path(entry.scenario),
                time_scale=entry.time_scale * args.time_scale,
                out=out,
            )
            result, folder = run_scenario(
                options, baseline=baselines.get(scenario.name), tolerance=suite.regression_tolerance
            )
            print_verdicts(result, folder)
            results.append(result)
    finally:
        if started:
            bring_down(root)
    path = write_junit(Path(args.junit), results, name=suite.name)
    code = suite_exit_code(results)
    passed = sum(r.passed for r in results)
    print(f"{suite.name}: {passed}/{len(results)} scenarios passed; JUnit in {path}")
    return code
