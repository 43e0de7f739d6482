"""`gameday reset` and `gameday down` repair a stack from its state file alone: toxics, disabled or deleted
proxies, mock error rates, faults and price overrides; and a runner killed with SIGKILL leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
from stack_support import TOKEN, StackDir, pid_alive, processes_under, provider_stack

HEADERS = {"Authorization": f"Bearer {TOKEN}"}
SCRIPT = Path(__file__).with_name("stack_runner_script.py")


def dirty(state: dict[str, Any]) -> None:
    """One of each: a toxic, a disabled proxy, a mock error rate, a protocol fault, a price override."""
    toxiproxy, mock = state["toxiproxy_url"], state["services"]["premium"]["url"]
    with requests.Session() as http:
        toxic = {"type": "latency", "attributes": {"latency": 300}}
        http.post(f"{toxiproxy}/proxies/premium/toxics", json=toxic, timeout=5).raise_for_status()
        http.patch(f"{toxiproxy}/proxies/premium", json={"enabled": False}, timeout=5).raise_for_status()
        for path, body in [
            ("/admin/errors", {"status": 429, "rate": 0.5, "retry_after_s": 1}),
            ("/admin/faults", {"kind": "stream_cut", "rate": 1.0, "after_tokens": 2}),
            ("/admin/prices", {"model": "frontier-large", "input": 30.0, "output": 150.0}),
        ]:
            http.post(mock + path, json=body, headers=HEADERS, timeout=5).raise_for_status()


def test_reset_removes_every_fault_and_recreates_a_deleted_proxy(stack_dir: StackDir) -> None:
    provider_stack(stack_dir)
    up = stack_dir.gameday("up", "--stack", "stack.yaml")
    assert up.returncode == 0, up.stderr
    state = stack_dir.state()
    toxiproxy, mock = state["toxiproxy_url"], state["services"]["premium"]["url"]
    listen = state["proxies"]["premium"]["listen"]
    assert state["proxies"]["premium"]["upstream"] == f"127.0.0.1:{state['services']['premium']['port']}"
    assert requests.get(f"http://{listen}/health", timeout=5).status_code == 200  # the proxy reaches the mock

    dirty(state)
    status = stack_dir.gameday("status")
    assert "DISABLED" in status.stdout
    assert "gameday reset" in status.stdout

    reset = stack_dir.gameday("reset")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "the stack is clean" in reset.stdout
    proxy = requests.get(f"{toxiproxy}/proxies/premium", timeout=5).json()
    assert proxy["enabled"] is True
    assert proxy["toxics"] == []
    mock_state = requests.get(f"{mock}/admin/state", headers=HEADERS, timeout=5).json()
    assert mock_state["errors"] == []
    assert mock_state["faults"] == []
    assert requests.get(f"{mock}/pricing", timeout=5).json()["models"]["frontier-large"] == {
        "input": 3.0,
        "output": 15.0,
    }

    requests.delete(f"{toxiproxy}/proxies/premium", timeout=5).raise_for_status()
    reset = stack_dir.gameday("reset")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "proxies created again: premium" in reset.stdout
    assert requests.get(f"http://{listen}/health", timeout=5).status_code == 200  # same address as before


def test_reset_reports_what_it_cannot_reach(stack_dir: StackDir) -> None:
    provider_stack(stack_dir)
    assert stack_dir.gameday("up", "--stack", "stack.yaml").returncode == 0
    premium = stack_dir.pids()["premium"]
    os.kill(premium, signal.SIGKILL)
    reset = stack_dir.gameday("reset")
    assert reset.returncode == 1
    assert "premium: POST" in reset.stderr
    assert "connection refused" in reset.stderr
    assert "toxiproxy: every toxic removed" in reset.stdout  # the rest was still reset

    down = stack_dir.gameday("down")
    assert down.returncode == 0, down.stderr
    assert "already stopped: premium" in down.stdout
    assert processes_under(stack_dir.root) == []


def test_sigkilled_runner_is_repaired_by_gameday_down(stack_dir: StackDir) -> None:
    stack = provider_stack(stack_dir)
    runner = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(stack), str(stack_dir.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert runner.stdout is not None
    lines = [runner.stdout.readline().strip() for _ in range(3)]
    if lines != ["started True", "again False", "dirty"]:
        runner.kill()
        raise AssertionError(f"runner stand-in failed: {lines}\n{runner.communicate(timeout=10)[1]}")
    pids = stack_dir.pids()
    runner.kill()
    runner.communicate(timeout=10)
    assert runner.returncode == -signal.SIGKILL
    assert all(pid_alive(pid) for pid in pids.values())  # the services outlive their runner, faults too
    state = stack_dir.state()
    assert requests.get(f"{state['toxiproxy_url']}/proxies/premium", timeout=5).json()["toxics"] != []

    status = stack_dir.gameday("status")
    assert status.returncode == 0
    assert "faults are in place" in status.stdout
    down = stack_dir.gameday("down")
    assert down.returncode == 0, down.stderr
    assert "stopped: premium, toxiproxy" in down.stdout
    assert down.stderr == ""  # the reset before stopping found everything and cleared it
    assert not any(pid_alive(pid) for pid in pids.values())
    assert processes_under(stack_dir.root) == []
    assert not stack_dir.state_path.exists()


def test_mock_dying_at_startup_is_reported_and_nothing_is_left(stack_dir: StackDir, tmp_path: Path) -> None:
    profile = tmp_path / "broken.yaml"
    profile.write_text("kind: provider-profile\nprovider: broken\nmodels: {}\nflavour: openai\n")
    stack_dir.write_stack(
        [
            {"name": "toxiproxy", "kind": "toxiproxy", "port": 0, "prefer_real": False},
            {"name": "broken", "kind": "mock", "port": 0, "profile": str(profile)},
        ]
    )
    up = stack_dir.gameday("up", "--stack", "stack.yaml")
    assert up.returncode == 2
    assert "broken (mock) exited during start-up; nothing is left running" in up.stderr
    assert "flavour" in up.stderr  # the mock's own error, from its log
    assert "Traceback" not in up.stderr.split("Last lines of")[0]
    assert not stack_dir.state_path.exists()
    assert processes_under(stack_dir.root) == []  # the toxiproxy that did start was stopped
