"""Start the runner stand-in (`fault_runner_script.py`) and wait until it has injected its faults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["start_stand_in"]

SCRIPT = Path(__file__).with_name("fault_runner_script.py")


def start_stand_in(journal: Path, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--journal", str(journal), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "injected":
        proc.kill()
        _, err = proc.communicate(timeout=10)
        pytest.fail(f"runner stand-in did not inject: {line!r}\n{err}")
    return proc
