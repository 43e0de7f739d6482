"""The stack state file (`.gameday/state.json` under the working directory) and the lock around it.

The state is the only thing `gameday status`, `reset` and `down` need: where every service listens,
its pid, its log, the admin token and the proxies. It is written atomically (temp file, then rename)
after every step of `gameday up`, so even a half-started stack killed with SIGKILL can be taken down.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gameday.errors import StackError

__all__ = ["STATE_DIR", "read_state", "remove_state", "stack_dir", "stack_lock", "state_path", "write_state"]

STATE_DIR = ".gameday"
STATE_FILE = "state.json"


def stack_dir(root: Path) -> Path:
    return Path(root) / STATE_DIR


def state_path(root: Path) -> Path:
    return stack_dir(root) / STATE_FILE


def read_state(root: Path | None = None) -> dict[str, Any] | None:
    """The state of the stack brought up under `root` (default: the current directory), or None."""
    path = state_path(Path.cwd() if root is None else root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StackError(f"{path}: cannot read the stack state ({exc.strerror or exc}).") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StackError(
            f"{path}: the stack state is not valid JSON ({exc}). Stop its processes by hand, then delete the file."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("services", {}), dict):
        raise StackError(f"{path}: the stack state is not an object with `services`. Delete the file.")
    return data


def write_state(root: Path, state: dict[str, Any]) -> Path:
    """Write atomically: a reader (or a crash) never sees half a file."""
    path = state_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def remove_state(root: Path) -> bool:
    """Delete the state file; False when there was none."""
    try:
        state_path(root).unlink()
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def stack_lock(root: Path, timeout_s: float = 0.0) -> Iterator[None]:
    """Hold `.gameday/lock` so two `gameday up`/`down` in one folder cannot interleave."""
    directory = stack_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if timeout_s <= 0:
                raise StackError(
                    f"another gameday command is changing the stack in {root} right now; wait for it and retry."
                ) from None
            _wait_for_lock(fd, timeout_s, root)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _wait_for_lock(fd: int, timeout_s: float, root: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            continue
    raise StackError(f"another gameday command held the stack lock in {root} for over {timeout_s:g} s; retry later.")
