"""Every shipped scenario, end to end through `gameday run`, against two stacks on loopback:

- the reference gateway, where each must pass (exit 0) at --time-scale 0.2, and
- the same stack with a weakened policy (no fallbacks, no first-token deadline, no spend ceiling, no
  request checks), where each must fail (exit 1) on the expectation that guards what was removed.

The two runs of a scenario go side by side (separate stacks, separate ports) to keep the suite short.
After each run no fault may be left on either stack, and every request sent must have its record.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from scenario_support import RunOutput, StackUnderTest, weakened_policy

from gameday.stack.repair import check_clean
from support.procs import REPO

SCENARIOS = REPO / "scenarios"
SCALE = "0.2"
RESULT_FILES = (
    "scenario.yaml", "requests.jsonl", "events.jsonl", "bill.json", "summary.json", "report.html",
    "junit.xml", "runbook.md", "memo.md", "run.log",
)  # fmt: skip

# scenario -> (metric, phase, class) of the expectation the weakened policy must fail
GUARDS: dict[str, tuple[str, str | None, str | None]] = {
    "latency-spike": ("fallback_rate", "efficient-slow", "summarize"),
    "provider-outage": ("error_rate", "outage", "code"),
    "burst-2x": ("peak_spend_per_min_usd", "burst", None),
    "malformed-prompts": ("malformed_handling_rate", "malformed", None),
    "price-change": ("peak_spend_per_min_usd", "tripled", None),
    "stream-faults": ("ttft_p95_s", "before-first-token", "chat"),
}


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StackUnderTest, StackUnderTest]]:
    reference = StackUnderTest(tmp_path_factory.mktemp("reference"))
    weakened = StackUnderTest(tmp_path_factory.mktemp("weakened"))
    try:
        reference.up()
        weakened.up(weakened_policy(weakened.root))
        yield reference, weakened
    finally:
        reference.down()
        weakened.down()


@pytest.fixture(scope="module")
def runs(stacks: tuple[StackUnderTest, StackUnderTest]) -> dict[tuple[str, str], RunOutput]:
    """Every scenario on both stacks, a pair at a time; the results are shared by the tests below."""
    reference, weakened = stacks
    out: dict[tuple[str, str], RunOutput] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name in GUARDS:
            scenario = SCENARIOS / f"{name}.yaml"
            ref = pool.submit(reference.run, scenario, "--time-scale", SCALE)
            weak = pool.submit(weakened.run, scenario, "--time-scale", SCALE)
            out[(name, "reference")], out[(name, "weakened")] = ref.result(), weak.result()
            for stack in stacks:
                assert check_clean(stack.state()) == [], f"{name} left a fault on {stack.root.name}"
    return out


def _verdict(run: RunOutput, metric: str, phase: str | None, cls: str | None) -> dict:
    for verdict in run.summary()["verdicts"]:
        if (verdict["metric"], verdict["phase"], verdict.get("workload_class")) == (metric, phase, cls):
            return verdict
    raise AssertionError(f"no expectation on {metric} / {phase} / {cls} in {run.folder}")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(GUARDS))
def test_each_shipped_scenario_passes_against_the_reference_gateway(
    runs: dict[tuple[str, str], RunOutput], name: str
) -> None:
    run = runs[(name, "reference")]
    assert run.returncode == 0, f"{name} failed against the reference gateway:\n" + "\n".join(run.failed())
    assert "PASSED" in run.stdout
    for file in RESULT_FILES:
        assert (run.folder / file).stat().st_size > 0, f"{file} missing or empty in {run.folder}"
    assert any((run.folder / "histograms").iterdir())
    integrity = run.summary()["integrity"]
    assert integrity["sent"] == integrity["recorded"] > 50


@pytest.mark.slow
@pytest.mark.parametrize("name", list(GUARDS))
def test_each_shipped_scenario_fails_against_a_weakened_policy_on_the_right_expectation(
    runs: dict[tuple[str, str], RunOutput], name: str
) -> None:
    run = runs[(name, "weakened")]
    assert run.returncode == 1, f"{name} should fail against the weakened gateway:\n{run.stdout}\n{run.stderr}"
    metric, phase, cls = GUARDS[name]
    verdict = _verdict(run, metric, phase, cls)
    assert not verdict["passed"], f"{name}: {verdict['sentence']}"
    assert f"FAIL  {verdict['sentence']}" in run.stdout
    junit = (run.folder / "junit.xml").read_text()
    assert "<failure" in junit
    integrity = run.summary()["integrity"]
    assert integrity["sent"] == integrity["recorded"]
    # The same expectation held against the reference gateway: the weakness is what made the difference.
    assert _verdict(runs[(name, "reference")], metric, phase, cls)["passed"]


@pytest.mark.slow
def test_the_default_game_day_passes_against_the_reference_gateway(
    stacks: tuple[StackUnderTest, StackUnderTest], runs: dict[tuple[str, str], RunOutput]
) -> None:
    reference, _ = stacks
    run = reference.run(SCENARIOS / "gameday.yaml", "--time-scale", SCALE)
    assert run.returncode == 0, "\n".join(run.failed())
    summary = run.summary()
    assert [p["name"] for p in summary["phases"]][:3] == ["baseline", "latency-spike", "provider-errors"]
    runbook = (run.folder / "runbook.md").read_text()
    for phase in ("latency-spike", "provider-outage", "burst-2x", "price-change", "stream-faults"):
        assert phase in runbook
    assert check_clean(reference.state()) == []


@pytest.mark.slow
def test_sigint_mid_fault_still_writes_the_results_and_leaves_no_fault(
    stacks: tuple[StackUnderTest, StackUnderTest], runs: dict[tuple[str, str], RunOutput], tmp_path: Path
) -> None:
    reference, _ = stacks
    out = tmp_path / "results"
    proc = reference.start_run(SCENARIOS / "provider-outage.yaml", "--time-scale", SCALE, "--out", str(out))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _injected(out):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        assert _injected(out), "the run never injected its first fault"
        assert check_clean(reference.state()) != [], "the fault should be live when the signal comes"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, stdout + stderr
    assert "Traceback" not in stderr
    folder = (out / "latest").resolve()
    for file in RESULT_FILES:
        assert (folder / file).exists(), f"{file} missing after SIGINT"
    events = (folder / "events.jsonl").read_text()
    kinds = [json.loads(line)["event"] for line in events.splitlines()]
    assert "abort" in kinds
    assert kinds.count("fault_inject") == kinds.count("fault_remove") >= 1
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["aborted"] is True
    assert summary["integrity"]["sent"] == summary["integrity"]["recorded"]
    assert check_clean(reference.state()) == []


def _injected(out: Path) -> bool:
    return any("fault_inject" in p.read_text() for p in out.glob(".*partial/events.jsonl"))
