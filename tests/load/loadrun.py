"""Helpers for the load's integration tests: a fake OpenAI server, and real load runs in a subprocess.

The load runs through its real interface, `python -m gameday.load` (the `LoadEngine` the runner
drives, with Locust inside), in a child process: Locust monkey-patches whatever process imports
it, and the test process must stay a plain one for every other part's tests.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gameday.measure.record import RequestRecord, read_records

__all__ = ["FakeServer", "LoadRun", "closed_port", "run_load", "start_fake_server", "write_yaml"]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@dataclass
class FakeServer:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    out_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rows(self, event: str = "arrived") -> list[dict[str, Any]]:
        """The server's own log: `arrived` rows (one per request received) or `done` rows (with the
        handler's duration and the delay it applied)."""
        if not self.log_path.exists():
            return []
        rows = [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]
        return [r for r in rows if r.get("event") == event]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(1)  # handlers still sleeping (`hang`) would hold a graceful stop
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_fake_server(tmp: Path, name: str = "fake", *args: str, timeout: float = 20.0) -> FakeServer:
    ready = tmp / f"{name}.port"
    log_path = tmp / f"{name}.requests.jsonl"
    out_path = tmp / f"{name}.out"
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "fakeserver.py"),
                "--port",
                "0",
                "--ready-file",
                str(ready),
                "--log",
                str(log_path),
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            return FakeServer(proc, int(ready.read_text()), log_path, out_path)
        if proc.poll() is not None:
            raise RuntimeError(f"fake server exited: {out_path.read_text(errors='replace')}")
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    raise RuntimeError("fake server did not start")


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class LoadRun:
    returncode: int
    stderr: str
    records: list[RequestRecord]
    summary: dict[str, Any] = field(default_factory=dict)

    def by_task(self, task: str) -> list[RequestRecord]:
        return [r for r in self.records if r.task == task]


def run_load(
    tmp: Path,
    workload: dict[str, Any],
    load: dict[str, Any],
    target: str,
    *,
    duration: float,
    name: str = "run",
    adapter: str | dict[str, Any] = "gameday",
    workers: int = 0,
    seed: int = 0,
    drain: float | None = None,
    at: Sequence[str] = (),
    timeout: float = 120.0,
) -> LoadRun:
    """Run `python -m gameday.load` to completion; records are read back through the record model."""
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    write_yaml(folder / "workload.yaml", {"kind": "workload", **workload})
    load_path = write_yaml(folder / "load.yaml", {"workload": "workload.yaml", **load})
    adapter_arg = adapter if isinstance(adapter, str) else str(write_yaml(folder / "adapter.yaml", adapter))
    records_path, summary_path = folder / "requests.jsonl", folder / "summary.json"
    cmd = [sys.executable, "-m", "gameday.load", "--load", str(load_path), "--target", target, "--adapter", adapter_arg,
           "--duration", str(duration), "--seed", str(seed), "--workers", str(workers), "--records", str(records_path),
           "--summary", str(summary_path)]  # fmt: skip
    if drain is not None:
        cmd += ["--drain", str(drain)]
    for item in at:
        cmd += ["--at", item]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False)
    records = read_records(records_path) if records_path.exists() else []
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return LoadRun(proc.returncode, proc.stderr, records, summary)
