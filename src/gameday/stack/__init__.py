"""Bring a stack up and down: local processes on loopback, their ports, health, logs and teardown.

The runner calls `gameday.stack.api` (`ensure_up`, `bring_down`, `reset_faults`, `read_state`); the CLI
calls `gameday.stack.commands`. Nothing is imported here, so `import gameday.stack` stays cheap.
"""

__all__: list[str] = []
