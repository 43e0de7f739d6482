"""Outputs of runs that went wrong: no requests, an early abort, no bill, no faults."""

from __future__ import annotations

from pathlib import Path

from gameday.measure.compute import compute_result
from gameday.measure.events import Event
from gameday.measure.plan import RunPlan
from gameday.measure.record import RequestRecord
from gameday.report.html import render as render_report
from gameday.runbook.render import render as render_runbook
from gameday.verdict import exit_code, judge

PLAN = RunPlan.model_validate(
    {
        "scenario": "tiny",
        "phases": [{"name": "baseline", "duration_s": 5}, {"name": "burst", "duration_s": 5}],
        "expectations": [{"metric": "error_rate", "max": 0.1}],
    }
)


def test_aborted_run_without_requests_still_renders(tmp_path: Path) -> None:
    events = [
        Event(t=0.0, wall=1.0, event="phase_start", phase="baseline"),
        Event(t=0.5, wall=1.5, event="abort", detail={"reason": "the target refused every connection"}),
    ]
    result = judge(compute_result(PLAN, [], events, None, sent=0))
    assert result.aborted
    assert result.abort_reason == "the target refused every connection"
    assert exit_code(result) == 3
    assert result.verdicts[0].sentence == "error_rate over the whole run has no value: no requests over the run"
    files = render_report(result, [], events, tmp_path)
    assert (tmp_path / "report.html") in files
    html = (tmp_path / "report.html").read_text()
    assert "ABORTED" in html
    assert "the target refused every connection" in html
    assert "No bill was read" in html
    render_runbook(result, [], tmp_path)
    runbook = (tmp_path / "runbook.md").read_text()
    assert "**The run was aborted**: the target refused every connection" in runbook
    assert "No fault was injected in this run" in runbook
    memo = (tmp_path / "memo.md").read_text()
    assert "**Decision: NO-GO.**" in memo
    assert "## Economics: not observed" in memo


def test_run_without_faults_or_bill(tmp_path: Path) -> None:
    records = [
        RequestRecord(t=i * 0.5, phase="baseline" if i < 10 else "burst", task="chat", status=200, ttft_s=0.1,
                      e2e_s=0.3, out_tokens=4, model="tiny", provider="local-vllm")
        for i in range(20)
    ]  # fmt: skip
    result = judge(compute_result(PLAN, records, [], None, sent=20))
    assert result.passed
    assert result.value("spend_usd")[1] == "no bill was read from the providers (see bill errors in summary.json)"
    render_report(result, records, [], tmp_path)
    render_runbook(result, records, tmp_path)
    memo = (tmp_path / "memo.md").read_text()
    assert "**Decision: GO.**" in memo
    assert "no fault was injected: resilience not observed" in memo
