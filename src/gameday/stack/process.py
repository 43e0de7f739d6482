"""Service processes: started detached in their own session, logs to a file, found again by pid alone.

`posix_spawn` rather than `subprocess.Popen`: the services outlive the process that starts them
(`gameday up` exits; a runner may be SIGKILLed), so nothing in it should hold a handle that warns when
dropped. Each service leads its own process group, so stopping it stops whatever it started too.
The pid is recorded with the process's start time, so a recycled pid is never mistaken for ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from gameday.errors import StackError

__all__ = ["ProcessRef", "log_tail", "spawn", "stop_all"]

TAIL_LINES = 20
_OURS = ("gameday", "toxiproxy")  # words in the command line of a process we may stop when no start time is known


@dataclass(frozen=True)
class ProcessRef:
    pid: int
    create_time: float | None = None

    @classmethod
    def of(cls, pid: int) -> ProcessRef:
        try:
            return cls(pid, psutil.Process(pid).create_time())
        except psutil.Error:
            return cls(pid, None)

    def _process(self) -> psutil.Process | None:
        """The live process this ref names, or None (gone, a zombie, or a recycled pid)."""
        try:
            proc = psutil.Process(self.pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            if self.create_time is not None:
                if abs(proc.create_time() - self.create_time) > 0.05:
                    return None
            elif not any(word in " ".join(proc.cmdline()) for word in _OURS):
                return None
        except psutil.Error:
            return None
        return proc

    def alive(self) -> bool:
        self._reap()
        return self._process() is not None

    def signal(self, signum: int) -> None:
        """Signal the process group this service leads (or the process alone, when it leads none)."""
        if self._process() is None:
            return
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(self.pid) == self.pid:
                os.killpg(self.pid, signum)
            else:
                os.kill(self.pid, signum)

    def _reap(self) -> None:
        """Collect our own dead child, if it is one, so it does not linger as a zombie."""
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(self.pid, os.WNOHANG)


def spawn(argv: Sequence[str], log_path: Path, env: Mapping[str, str]) -> ProcessRef:
    """Start `argv` in a new session with stdout and stderr appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_bytes(b"")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    try:
        pid = os.posix_spawn(argv[0], list(argv), dict(env), file_actions=actions, setsid=True)
    except OSError as exc:
        raise StackError(f"cannot start {argv[0]}: {exc.strerror or exc}.") from None
    return ProcessRef.of(pid)


def log_tail(path: str | Path | None, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of a log, for a service that died; says so when there is no log."""
    if not path:
        return "(no log)"
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc.strerror or exc})"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(the log is empty)"


def stop_all(refs: Sequence[ProcessRef], timeout_s: float = 5.0, kill_timeout_s: float = 5.0) -> list[int]:
    """SIGTERM every group, SIGKILL the ones still alive after `timeout_s`; returns the pids that survived."""
    for ref in refs:
        ref.signal(signal.SIGTERM)
    alive = _wait_gone(refs, timeout_s)
    for ref in alive:
        ref.signal(signal.SIGKILL)
    return [ref.pid for ref in _wait_gone(alive, kill_timeout_s)]


def _wait_gone(refs: Sequence[ProcessRef], timeout_s: float) -> list[ProcessRef]:
    deadline = time.monotonic() + timeout_s
    alive = [r for r in refs if r.alive()]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [r for r in alive if r.alive()]
    return alive
