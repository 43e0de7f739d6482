"""Every command a runbook prints for the reference gateway runs as printed against a live gateway."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import requests

from gameday.runbook.actions import GATEWAY_ADMIN, actions_for
from support.procs import start_service

TOKEN = "runbook-tests-token"


def _prints(command: str, method: str, template: str) -> bool:
    path = re.sub(r"\\\{[a-z_]+\\\}", "[^/ ]+", re.escape(template))
    return re.search(rf"-X {method} http://\S+?{path}(\s|$)", command) is not None


def test_every_printed_admin_command_works_on_the_reference_gateway(tmp_path: Path) -> None:
    assert shutil.which("curl"), "the runbook prints curl command lines: install curl to check them"
    gateway = start_service(
        ["gateway", "--policy", "stacks/policies/reference.yaml"], tmp_path, name="gateway",
        env={"GAMEDAY_ADMIN_TOKEN": TOKEN},
    )  # fmt: skip
    try:
        actions = [
            *actions_for("outage", "premium", {"high": ["chat"], "code": ["code"]},
                         {"high": "frontier-alt", "code": "swift-mini"}, base_url=gateway.url),
            *actions_for("latency", "premium", {"high": ["chat"]}, {}, base_url=gateway.url),
            *actions_for("burst", None, {}, {}, base_url=gateway.url),
            *actions_for("price_change", "premium", {}, {}, base_url=gateway.url),
        ]  # fmt: skip
        commands = [line for action in actions for line in action.command.splitlines()]
        used = {name for name, (verb, path) in GATEWAY_ADMIN.items() if any(_prints(c, verb, path) for c in commands)}
        assert used == set(GATEWAY_ADMIN), f"admin paths no action prints: {set(GATEWAY_ADMIN) - used}"
        env = {**os.environ, "GAMEDAY_ADMIN_TOKEN": TOKEN}
        for command in commands:  # one shell per command, exactly as printed, failing on an HTTP error
            done = subprocess.run(
                ["bash", "-c", command.replace("curl -sS", "curl -sS --fail-with-body", 1)],
                capture_output=True, text=True, env=env, timeout=30, check=False,
            )  # fmt: skip
            assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        state = requests.get(f"{gateway.url}/admin/state", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        # The printed undo steps ran last for each kind: nothing of the runbook's is left switched on.
        assert state.json()["kill_switch"] is None
        assert state.json()["route_overrides"] == {}
    finally:
        gateway.stop()
