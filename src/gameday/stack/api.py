"""What the runner (and `gameday up`) call: bring a stack up or find it up, reset it, take it down."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gameday.config.stack import StackConfig
from gameday.config.yamlio import load_model
from gameday.errors import StackError
from gameday.stack.inspect import inspect_stack
from gameday.stack.launch import StackLauncher
from gameday.stack.plan import apply_port_overrides
from gameday.stack.repair import reset_faults
from gameday.stack.state import read_state, remove_state, stack_lock
from gameday.stack.teardown import bring_down, service_refs

__all__ = ["bring_down", "ensure_up", "load_stack", "read_state", "reset_faults", "start_stack"]


def load_stack(stack_path: Path | str, ports: Mapping[str, int] | None = None) -> StackConfig:
    """The stack file, validated, with `ports` overrides applied (`ConfigError` naming file, line and field)."""
    return apply_port_overrides(load_model(stack_path, StackConfig), ports or {})


def _any_alive(state: dict[str, Any]) -> bool:
    return any(ref.alive() for ref in service_refs(state).values())


def start_stack(
    stack_path: Path | str,
    *,
    toxiproxy_url: str | None = None,
    ports: Mapping[str, int] | None = None,
    root: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Start the stack; refuses when one is already up under `root`. A stale state (all dead) is dropped."""
    root = Path.cwd() if root is None else Path(root)
    config = load_stack(stack_path, ports)
    with stack_lock(root):
        existing = read_state(root)
        if existing is not None:
            if _any_alive(existing):
                raise StackError(
                    f"a stack is already up here ({existing.get('stack')}, state in {root / '.gameday'}). "
                    "`gameday status` shows it; `gameday down` stops it."
                )
            remove_state(root)
            if progress:
                progress("a previous stack left a state file but none of its processes runs: replacing it")
        launcher = StackLauncher(
            config, Path(stack_path).resolve(), root, toxiproxy_url=toxiproxy_url, progress=progress
        )
        return launcher.run()


def ensure_up(
    stack_path: Path | str,
    *,
    toxiproxy_url: str | None = None,
    ports: Mapping[str, int] | None = None,
    root: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], bool]:
    """The state of a healthy stack for `stack_path`, and whether this call started it.

    A stack already up (from `gameday up`) is used as it is when it runs the same stack file and every
    service is healthy; otherwise this says what is wrong rather than guess. Stop a started stack with
    `bring_down(root)`; leave a found one up.
    """
    root = Path.cwd() if root is None else Path(root)
    existing = read_state(root)
    if existing is not None and _any_alive(existing):
        wanted = str(Path(stack_path).resolve())
        if existing.get("stack") != wanted:
            raise StackError(
                f"another stack is up here ({existing.get('stack')}), not {wanted}. "
                "`gameday down` stops it, or run with that stack."
            )
        status = inspect_stack(existing)
        if not status.healthy:
            broken = [f"{s.name} ({s.health})" for s in status.services if not s.up]
            broken += [f"proxy {p.name} (missing)" for p in status.proxies if not p.present]
            raise StackError(
                f"the stack up here is not healthy: {', '.join(broken) or status.proxies_error}. "
                "`gameday status` shows it; `gameday down` then `gameday up` restarts it."
            )
        return existing, False
    state = start_stack(stack_path, toxiproxy_url=toxiproxy_url, ports=ports, root=root, progress=progress)
    return state, True
