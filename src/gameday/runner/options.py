"""What one `gameday run` was asked to do, resolved and checked before anything starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gameday.config.scenario import Scenario
from gameday.config.yamlio import load_model
from gameday.errors import ConfigError
from gameday.runner.loopback import is_loopback_url

__all__ = ["DEFAULT_SCENARIO", "DEFAULT_STACK", "RunOptions", "default_file", "load_scenario", "stack_path_for"]

DEFAULT_SCENARIO = Path("scenarios/gameday.yaml")
DEFAULT_STACK = Path("stacks/local.yaml")


@dataclass(frozen=True)
class RunOptions:
    scenario_path: Path = DEFAULT_SCENARIO
    stack_path: Path | None = None
    target_url: str | None = None
    adapter: str | None = None
    time_scale: float = 1.0
    seed: int | None = None
    workers: int = 0
    out: Path = Path("results")
    allow_remote: bool = False
    toxiproxy_url: str | None = None
    quiet: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)


def load_scenario(options: RunOptions) -> Scenario:
    """The scenario as it will run: validated, seeded, time-scaled, target checked."""
    scenario = load_model(options.scenario_path, Scenario)
    if options.seed is not None:
        scenario = scenario.model_copy(update={"seed": options.seed})
    if options.time_scale != 1.0:
        scenario = scenario.scaled(options.time_scale)
    target = options.target_url or scenario.target.url
    if target and not options.allow_remote and not is_loopback_url(target):
        raise ConfigError(
            f"target {target} is not on this machine. A game day injects faults and load: pass --allow-remote "
            "if you really mean to aim it there."
        )
    return scenario


def stack_path_for(options: RunOptions, scenario: Scenario, running_stack: str | None = None) -> Path:
    """--stack, else the scenario's `stack:`, else the stack already up here, else stacks/local.yaml."""
    if options.stack_path is not None:
        return options.stack_path
    if scenario.stack:
        return Path(scenario.stack)
    if running_stack:
        return Path(running_stack)
    return default_file(DEFAULT_STACK)


def default_file(relative: Path) -> Path:
    """A shipped file: from the working directory when it has one, else from this checkout."""
    if relative.exists():
        return relative
    shipped = Path(__file__).resolve().parents[3] / relative
    return shipped if shipped.exists() else relative
