"""Start real `gameday` services as subprocesses on ephemeral ports and wait until they listen.

Every service takes `--port 0 --ready-file F`: it binds a free port and writes it to F, so tests
never guess ports and never sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REPO", "Service", "run_cli", "start_service"]

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        return self.proc.returncode


def start_service(
    args: Sequence[str],
    tmp_path: Path,
    name: str = "service",
    env: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> Service:
    """Run `gameday ARGS --port 0 --ready-file ...` and return once its port is bound."""
    ready = tmp_path / f"{name}.port"
    log_path = tmp_path / f"{name}.log"
    full_env = {**os.environ, **(env or {})}
    with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "gameday", *args, "--host", "127.0.0.1", "--port", "0", "--ready-file", str(ready)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=REPO,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            return Service(name, proc, int(ready.read_text()), log_path)
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError(f"{name} did not listen within {timeout}s:\n{log_path.read_text(errors='replace')}")


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120.0, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m gameday ARGS` to completion and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "gameday", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd or REPO,
        check=False,
    )
