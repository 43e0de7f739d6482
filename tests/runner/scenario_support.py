"""A whole stack on ephemeral ports in a tmp folder, and `gameday run` against it, for the end-to-end tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from support.procs import REPO

__all__ = ["TOKEN", "RunOutput", "StackUnderTest", "write_stack"]

TOKEN = "scenario-tests-token"
STACKS = REPO / "stacks"


def write_stack(root: Path, policy: Path | None = None) -> Path:
    """stacks/local.yaml with absolute paths, every port 0 (any free), and optionally another policy."""
    doc: dict[str, Any] = yaml.safe_load((STACKS / "local.yaml").read_text())
    for service in doc["services"]:
        service["port"] = 0
        for key in ("profile", "policy"):
            if key in service:
                service[key] = str((STACKS / service[key]).resolve())
        if policy is not None and service["kind"] == "gateway":
            service["policy"] = str(policy)
    for proxy in doc["proxies"]:
        proxy["port"] = 0
    path = root / "stack.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@dataclass
class RunOutput:
    returncode: int
    stdout: str
    stderr: str
    folder: Path

    def summary(self) -> dict[str, Any]:
        return json.loads((self.folder / "summary.json").read_text())

    def failed(self) -> list[str]:
        return [v["sentence"] for v in self.summary()["verdicts"] if not v["passed"]]


@dataclass
class StackUnderTest:
    root: Path

    def gameday(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gameday", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "GAMEDAY_ADMIN_TOKEN": TOKEN},
            check=False,
        )

    def up(self, policy: Path | None = None) -> None:
        result = self.gameday("up", "--stack", str(write_stack(self.root, policy)), timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"gameday up failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def down(self) -> None:
        self.gameday("down", timeout=120)

    def state(self) -> dict[str, Any]:
        return json.loads((self.root / ".gameday" / "state.json").read_text())

    def start_run(self, scenario: Path, *flags: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "gameday", "run", str(scenario), *flags],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "GAMEDAY_ADMIN_TOKEN": TOKEN},
        )

    def run(self, scenario: Path, *flags: str, timeout: float = 300) -> RunOutput:
        out = self.root / "results"
        result = self.gameday("run", str(scenario), "--out", str(out), *flags, timeout=timeout)
        latest = out / "latest"
        return RunOutput(result.returncode, result.stdout, result.stderr, latest.resolve() if latest.exists() else out)


def weakened_policy(root: Path) -> Path:
    """The reference policy with its defences taken out: no fallbacks, no first-token deadline (only a
    generous whole-request one), no spend ceiling, no input guardrails. Every shipped scenario must
    fail against it, each on the expectation that guards what was taken out."""
    doc: dict[str, Any] = yaml.safe_load((STACKS / "policies" / "reference.yaml").read_text())
    doc["name"] = "weakened"
    for route in doc["routes"]:
        route["fallbacks"] = []
    for provider in doc["providers"]:
        for model in provider["models"]:
            model.pop("ttft_s", None)
            model.pop("response_s", None)
    doc["timeouts"] = {"connect_s": 5.0, "ttft_s": 60.0, "stall_s": 60.0, "response_s": 60.0, "total_s": 120.0,
                       "stream_upstream": False}  # fmt: skip
    doc["retry"] = {**doc["retry"], "retry_passes": 0}
    doc["budget"] = {**doc["budget"], "ceiling_usd": None}
    doc["guardrails"] = {**doc["guardrails"], "validate_requests": False, "max_input_tokens": 10_000_000}
    path = root / "weakened.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
