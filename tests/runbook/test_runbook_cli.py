"""`gameday runbook DIR`: runbook and memo from what was observed, and only that."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gameday.measure.plan import FaultPlan, PhasePlan
from gameday.report.pipeline import finish
from measure.synthrun import make_plan, make_run, write_folder
from support.procs import run_cli


def _folder(root: Path, name: str, effect: bool, expectations: list[dict]) -> Path:
    plan = make_plan(expectations)
    if not effect:
        # The fault aims at a provider this traffic never uses, so nothing should move.
        phases = [
            p
            if p.name != "outage"
            else PhasePlan(name="outage", duration_s=10, faults=[FaultPlan(kind="latency", target="local-vllm")])
            for p in plan.phases
        ]
        plan = plan.model_copy(update={"phases": phases})
    run = make_run(plan=plan, effect=effect)
    if not effect:
        run.events = [
            e.model_copy(update={"target": "local-vllm", "fault": "latency"}) if e.fault else e for e in run.events
        ]
    folder = write_folder(root / name, run)
    finish(folder, plan, ledger=run.ledger, sent=len(run.records))
    for out in ("runbook.md", "memo.md"):
        (folder / out).unlink()
    return folder


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(
        tmp_path_factory.mktemp("r"),
        "outage",
        True,
        [{"metric": "fallback_correctness", "phase": "outage", "min": 0.99}],
    )


@pytest.fixture(scope="module")
def calm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(tmp_path_factory.mktemp("r"), "calm", False, [{"metric": "error_rate", "max": 0.01}])


def test_runbook_for_an_outage(outage: Path) -> None:
    proc = run_cli("runbook", str(outage))
    assert proc.returncode == 0, proc.stderr
    text = (outage / "runbook.md").read_text()
    assert "## 1. outage on premium (phase `outage`)" in text
    assert "error rate went 0% -> " in text
    # The signal table recommends thresholds derived from the numbers.
    assert "| error rate | 0% -> " in text
    assert "`error_rate > " in text
    assert "steered 43 requests away while the fault was active: to efficient/swift-mini x43" in text
    assert "first steered answer 2.77 s after injection (time to detect)" in text
    assert "breaker state: not observed" in text
    assert "served by a model not allowed for their class and tier: swift-mini x" in text
    # Manual actions carry exact commands with the admin token.
    assert 'curl -sS -H "Authorization: Bearer $GAMEDAY_ADMIN_TOKEN" -X POST http://127.0.0.1:8080/admin/' in text
    assert "premium" in text
    assert "[latency plot](plots/latency.png)" in text
    assert "latency came back" in text


def test_memo_for_an_outage(outage: Path) -> None:
    run_cli("runbook", str(outage))
    memo = (outage / "memo.md").read_text()
    assert "**Decision: NO-GO.**" in memo
    assert "fallback_correctness in phase outage was" in memo
    for delta in ("Capability", "Latency", "Economics", "Risk", "Engineering"):
        assert f"## {delta}: " in memo
    assert "## Capability: concern" in memo
    assert "300 of 300 requests recorded" in memo


def test_fault_with_no_effect_is_not_observed(calm: Path) -> None:
    proc = run_cli("runbook", str(calm))
    assert proc.returncode == 0, proc.stderr
    text = (calm / "runbook.md").read_text()
    assert "## 1. latency on local-vllm (phase `outage`)" in text
    assert "**Effect: not observed**" in text
    assert "not observed: users saw no change in latency, errors or task success" in text
    assert "not observed: no request was steered away while the fault was active" in text
    assert "not observed: no signal moved beyond its noise floor" in text
    assert "steered" not in text.split("### What the gateway did by itself")[1].split("###")[0].replace(
        "no request was steered away", ""
    )
    memo = (calm / "memo.md").read_text()
    assert "**Decision: GO.**" in memo
    assert "faults the gateway did not steer around: outage" in memo


def test_runbook_errors_are_clear(tmp_path: Path, outage: Path) -> None:
    proc = run_cli("runbook", str(tmp_path / "missing"))
    assert proc.returncode == 2
    assert "no such results folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    copy = tmp_path / "copy"
    shutil.copytree(outage, copy)
    (copy / "summary.json").write_text("garbage")
    proc = run_cli("runbook", str(copy))
    assert proc.returncode == 2
    assert "summary.json: not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
