"""Helpers for the stack tests: stack files in a tmp folder, the CLI run there, processes looked up by pid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml

from support.procs import REPO, run_cli

__all__ = [
    "REPO",
    "TOKEN",
    "StackDir",
    "fake_toxiproxy_server",
    "mock_service",
    "pid_alive",
    "processes_under",
    "provider_stack",
]

TOKEN = "stack-tests-token"


def pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def mock_service(name: str, port: int = 0) -> dict[str, Any]:
    return {"name": name, "kind": "mock", "port": port, "profile": str(REPO / "mocks" / f"{name}.yaml")}


@dataclass
class StackDir:
    """A working folder holding a stack file; `gameday` commands run with it as their cwd."""

    root: Path

    def write_stack(
        self,
        services: list[dict[str, Any]],
        proxies: list[dict[str, Any]] | None = None,
        name: str = "stack.yaml",
        **top: Any,
    ) -> Path:
        doc = {"kind": "stack", "name": "test", "startup_timeout_s": 60, **top, "services": services}
        if proxies:
            doc["proxies"] = proxies
        path = self.root / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    def gameday(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env={"GAMEDAY_ADMIN_TOKEN": TOKEN, **(env or {})}, timeout=timeout, cwd=self.root)

    @property
    def state_path(self) -> Path:
        return self.root / ".gameday" / "state.json"

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_path.read_text())

    def pids(self) -> dict[str, int]:
        return {n: s["pid"] for n, s in self.state()["services"].items() if s.get("pid")}


def fake_toxiproxy_server(bin_dir: Path, *, fail_lines: int = 0, stubborn: bool = False) -> dict[str, str]:
    """A `toxiproxy-server` on PATH (the real binary cannot be installed here): it takes the real one's
    flags and runs the embedded server; with `fail_lines`, it prints that many lines and exits 3; when
    `stubborn`, it ignores SIGTERM and outlives its server. Returns the environment that puts it on PATH."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "toxiproxy-server"
    args = 'while [ $# -gt 0 ]; do case "$1" in -host) H=$2; shift 2;; -port) P=$2; shift 2;; *) shift;; esac; done\n'
    serve = f'{sys.executable} -m gameday toxiproxy --host "$H" --port "$P"'
    if fail_lines:
        body = f'i=1; while [ $i -le {fail_lines} ]; do echo "startup line $i"; i=$((i+1)); done; exit 3\n'
    elif stubborn:
        body = f"trap '' TERM\n{args}{serve} &\nwhile true; do sleep 0.1; done\n"
    else:
        body = f"{args}exec {serve}\n"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def provider_stack(stack_dir: StackDir, **top: Any) -> Path:
    """Toxiproxy, the premium mock and its proxy, every port 0."""
    return stack_dir.write_stack(
        [{"name": "toxiproxy", "kind": "toxiproxy", "port": 0, "prefer_real": False}, mock_service("premium")],
        [{"name": "premium", "port": 0, "upstream": "premium"}],
        **top,
    )


def processes_under(root: Path) -> list[psutil.Process]:
    """Live processes whose command line mentions `root` (every service of a stack there does)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and str(root) in " ".join(proc.info["cmdline"] or ()):
                found.append(proc)
        except psutil.Error:
            continue
    return found
