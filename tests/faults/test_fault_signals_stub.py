"""Signals reach the rollback: SIGINT/SIGTERM unwind into it, a second SIGINT cannot cut it short.

These run the runner stand-in with faults that need no stack; `test_fault_live_rollback.py` does
the same against real Toxiproxy and mock processes.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from stand_in import start_stand_in

from gameday.faults.journal import read_events


def start(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    return start_stand_in(tmp_path / "events.jsonl", *extra)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_rolls_back_and_journals(tmp_path: Path, signum: signal.Signals) -> None:
    proc = start(tmp_path, "--slow-remove", "0.01")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 3, err
    assert f"rolled back after interrupted by {signum.name}" in out
    assert f"{signum.name} received; removing 1 fault(s)" in err
    events = read_events(tmp_path / "events.jsonl")
    names = [e["event"] for e in events]
    assert names == ["fault_inject", "signal", "rollback_start", "fault_remove", "rollback_done"]
    assert events[1]["detail"] == {"signal": signum.name}


def test_second_sigint_during_rollback_does_not_cut_it_short(tmp_path: Path) -> None:
    proc = start(tmp_path, "--slow-remove", "1.0")
    assert proc.stdout is not None
    proc.send_signal(signal.SIGINT)
    assert proc.stdout.readline().strip() == "removing slow"
    proc.send_signal(signal.SIGINT)  # while the removal is in progress
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 3, err
    assert "SIGINT received during rollback; finishing the rollback first" in err
    events = read_events(tmp_path / "events.jsonl")
    assert [e["event"] for e in events].count("signal") == 2
    assert next(e for e in events if e["event"] == "fault_remove")["fault"] == "slow_remove"
    assert events[-1]["event"] == "rollback_done"
    assert events[-1]["detail"]["failed"] == 0
