"""`gameday up`, `down`, `reset`, `status`: a long-lived stack, managed from `.gameday/state.json`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gameday.stack.api import start_stack
from gameday.stack.inspect import StackStatus, inspect_stack, render_table
from gameday.stack.plan import parse_port_flags
from gameday.stack.repair import reset_stack
from gameday.stack.state import read_state
from gameday.stack.teardown import bring_down

__all__ = ["down", "reset", "status", "up"]

EXIT_OK, EXIT_DOWN, EXIT_NO_STACK = 0, 1, 2


def _root(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "workdir", None) or Path.cwd()).resolve()


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def up(args: argparse.Namespace) -> int:
    root = _root(args)
    ports = parse_port_flags(getattr(args, "port", None) or [])
    state = start_stack(args.stack, toxiproxy_url=args.toxiproxy, ports=ports, root=root, progress=_err)
    print(_status_text(inspect_stack(state)))
    print(
        f"\nstack {state['name']} is up; state in {root / '.gameday' / 'state.json'}, logs in {root / '.gameday/logs'}"
    )
    if state.get("gateway_url"):
        print(f"gateway: {state['gateway_url']}/v1/chat/completions")
    print("admin token: GAMEDAY_ADMIN_TOKEN (or `admin_token` in the state file); `gameday down` stops everything.")
    return EXIT_OK


def status(args: argparse.Namespace) -> int:
    root = _root(args)
    state = read_state(root)
    if state is None:
        print(f"no stack is up in {root} (no .gameday/state.json). Start one with `gameday up`.")
        return EXIT_NO_STACK
    current = inspect_stack(state)
    print(f"stack {state.get('name', '?')} ({state.get('stack')}), {state.get('status', 'up')}")
    print(_status_text(current))
    for name, log, tail in current.dead_logs():
        print(f"\n{name} is not running. Last lines of {log}:\n{tail}")
    if current.proxies_error:
        print(f"\nproxies: {current.proxies_error}")
    if current.faults_present:
        print("\nfaults are in place (toxics or disabled proxies); `gameday reset` removes them.")
    if not current.healthy:
        print("\nthe stack is not healthy; `gameday down` then `gameday up` restarts it.")
        return EXIT_DOWN
    return EXIT_OK


def reset(args: argparse.Namespace) -> int:
    root = _root(args)
    state = read_state(root)
    if state is None:
        print(f"no stack is up in {root} (no .gameday/state.json); nothing to reset.")
        return EXIT_NO_STACK
    report = reset_stack(state)
    for line in report.done:
        print(line)
    if report.problems:
        _err("faults may remain:")
        for line in report.problems:
            _err(f"  {line}")
        return EXIT_DOWN
    print("the stack is clean: no toxic, every proxy enabled, no mock fault or override.")
    return EXIT_OK


def down(args: argparse.Namespace) -> int:
    root = _root(args)
    report = bring_down(root)
    if not report.found:
        print(f"no stack is up in {root}; nothing to stop.")
        return EXIT_OK
    for line in report.reset_problems:
        _err(f"note: {line}")
    if report.already_gone:
        print(f"already stopped: {', '.join(report.already_gone)}")
    if report.stopped:
        print(f"stopped: {', '.join(report.stopped)}")
    if report.survivors:
        _err(
            f"still running after SIGKILL: {', '.join(report.survivors)}; the state file is kept, "
            "run `gameday down` again."
        )
        return EXIT_DOWN
    print("the stack is down.")
    return EXIT_OK


def _status_text(current: StackStatus) -> str:
    rows = [
        [s.name, s.kind, s.url or "-", str(s.pid or "-"), "alive" if s.alive else "dead", s.health]
        for s in current.services
    ]
    text = render_table(["SERVICE", "KIND", "URL", "PID", "PROCESS", "HEALTH"], rows)
    if current.proxies:
        proxy_rows = [
            [
                p.name,
                p.listen,
                p.upstream,
                ("enabled" if p.enabled else "DISABLED") if p.present else "MISSING",
                str(p.toxics),
            ]
            for p in current.proxies
        ]
        text += "\n\n" + render_table(["PROXY", "LISTEN", "UPSTREAM", "STATE", "TOXICS"], proxy_rows)
    return text
