"""Rollback against a live stack: a runner stand-in is signalled or SIGKILLed mid-fault.

SIGINT/SIGTERM: the guard removes every fault itself and journals each removal. SIGKILL cannot be
caught: one `gameday reset` must then leave no toxic, no disabled proxy and no mock fault.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fault_stack import LiveStack
from stand_in import start_stand_in

from gameday.faults.journal import read_events
from support.procs import run_cli

# One fault of every kind that changes the stack (burst and malformed live in the load engine's process).
STACK_FAULTS: list[dict[str, Any]] = [
    {"kind": "latency", "provider": "premium", "latency_ms": 200, "jitter_ms": 10},
    {"kind": "outage", "provider": "premium", "mode": "reset_peer", "stream": "downstream", "toxicity": 0.5},
    {"kind": "outage", "provider": "blob", "mode": "disabled"},
    {"kind": "outage", "provider": "premium", "mode": "timeout", "timeout_ms": 100, "toxicity": 0.1},
    {"kind": "slow_stream", "provider": "blob", "rate_kb_s": 1},
    {"kind": "http_errors", "provider": "premium", "status": 429, "rate": 0.5, "retry_after_s": 1},
    {"kind": "first_token_delay", "provider": "premium", "delay_s": 1.0, "rate": 0.5},
    {"kind": "stream_cut", "provider": "premium", "after_tokens": 2},
    {"kind": "price_change", "provider": "premium", "model": "frontier-large", "factor": 2},
]


def start_runner(stack: LiveStack, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    faults = json.dumps(STACK_FAULTS)
    return start_stand_in(tmp_path / "events.jsonl", "--state", str(stack.state_path), "--faults", faults, *extra)


def test_sigkill_mid_fault_then_gameday_reset_leaves_the_stack_clean(stack: LiveStack, tmp_path: Path) -> None:
    proc = start_runner(stack, tmp_path, "--no-guard")
    dirt = stack.dirt()
    assert any("toxics" in d for d in dirt), dirt
    assert any("disabled" in d for d in dirt), dirt
    assert any("mock prices" in d for d in dirt), dirt
    proc.kill()
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert stack.dirt() == dirt  # nobody cleaned up: the faults outlived their runner

    result = run_cli("reset", cwd=stack.root, timeout=60)
    assert result.returncode == 0, result.stderr
    assert stack.dirt() == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_fault_removes_every_fault(stack: LiveStack, tmp_path: Path, signum: signal.Signals) -> None:
    proc = start_runner(stack, tmp_path)
    assert stack.dirt() != []
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert stack.dirt() == []
    events = read_events(tmp_path / "events.jsonl")
    removed = [e["fault"] for e in events if e["event"] == "fault_remove"]
    assert sorted(removed) == sorted(f["kind"] for f in STACK_FAULTS)
    assert not [e for e in events if e["event"] == "fault_remove_failed"]


def test_second_sigint_during_live_rollback_still_removes_everything(stack: LiveStack, tmp_path: Path) -> None:
    proc = start_runner(stack, tmp_path, "--slow-remove", "1.0")
    assert proc.stdout is not None
    proc.send_signal(signal.SIGINT)
    assert proc.stdout.readline().strip() == "removing slow"  # the first fault of the rollback (newest)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "SIGINT received during rollback; finishing the rollback first" in err
    assert stack.dirt() == []
    events = read_events(tmp_path / "events.jsonl")
    assert len([e for e in events if e["event"] == "fault_remove"]) == len(STACK_FAULTS) + 1
