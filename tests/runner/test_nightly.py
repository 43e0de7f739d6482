"""`gameday nightly`: a suite, one exit code, one JUnit file, and regressions against a baseline run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from scenario_support import TOKEN, write_stack

from support.procs import REPO

SCENARIO = {
    "kind": "scenario",
    "load": {
        "workload": str(REPO / "scenarios" / "workloads" / "gameday.yaml"),
        "model": "open",
        "shape": {"kind": "steady", "rate": 6},
    },
    "phases": [
        {"name": "baseline", "duration_s": 20},
        {"name": "slow", "duration_s": 20, "faults": [{"kind": "latency", "provider": "premium", "latency_ms": 300}]},
    ],
    "expectations": [
        {"metric": "error_rate", "max": 0.05},
        {"metric": "unrecorded_requests", "max": 0},
    ],
}


def _nightly(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gameday", "nightly", "suite.yaml", *args],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "GAMEDAY_ADMIN_TOKEN": TOKEN},
    )  # fmt: skip


@pytest.mark.slow
def test_nightly_runs_a_suite_writes_junit_and_fails_on_a_regression_against_its_baseline(tmp_path: Path) -> None:
    write_stack(tmp_path)
    for name in ("first", "second"):
        doc = {**SCENARIO, "name": name, "stack": "stack.yaml"}
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    suite = {"kind": "suite", "name": "mini", "regression_tolerance": 0.5,
             "scenarios": [{"scenario": "first.yaml", "time_scale": 0.2}, "second.yaml"]}  # fmt: skip
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))

    first = _nightly(tmp_path, "--junit", "night1.xml", "--out", "night1", "--time-scale", "0.5")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "mini: 2/2 scenarios passed" in first.stdout
    cases = list(ET.parse(tmp_path / "night1.xml").getroot().iter("testcase"))
    assert len(cases) >= 4, "one test case per expectation of each scenario"
    assert all(c.find("failure") is None for c in cases)
    assert not (tmp_path / ".gameday" / "state.json").exists(), "the stack nightly started is down again"

    # Make last night look twice as fast for `first`: tonight's same P95 is then a regression.
    runs = [p for p in (tmp_path / "night1").iterdir() if p.name.endswith("-first") and not p.is_symlink()]
    summary_path = runs[0] / "summary.json"
    summary = json.loads(summary_path.read_text())
    values = summary["run"]["overall"]["values"]
    values["e2e_p95_s"] = values["e2e_p95_s"] / 4
    summary_path.write_text(json.dumps(summary))

    second = _nightly(
        tmp_path, "--junit", "night2.xml", "--out", "night2", "--baseline", "night1", "--time-scale", "0.5"
    )
    assert second.returncode == 1, second.stdout + second.stderr
    assert "FAIL  e2e_p95_s over the whole run was" in second.stdout
    assert "beyond the tolerance 50%" in second.stdout
    failures = [
        c for c in ET.parse(tmp_path / "night2.xml").getroot().iter("testcase") if c.find("failure") is not None
    ]
    assert [c.get("name") for c in failures] == ["no regression of e2e_p95_s over the run"]
    assert "mini: 1/2 scenarios passed" in second.stdout
