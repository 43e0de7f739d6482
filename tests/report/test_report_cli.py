"""`gameday report DIR` re-renders from a results folder alone; bad folders give clear errors."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import pytest

from gameday.measure.folder import ResultsDir
from gameday.report.pipeline import finish
from measure.synthrun import make_plan, make_run, write_folder
from support.procs import run_cli

EXPECT = [
    {"metric": "fallback_correctness", "phase": "outage", "min": 0.99},
    {"metric": "error_rate", "phase": "baseline", "max": 0.01},
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = make_run(plan=make_plan(EXPECT))
    folder = write_folder(tmp_path_factory.mktemp("results") / "20250101T000000Z-provider-outage", run)
    finish(folder, run.plan, ledger=run.ledger, sent=len(run.records), started_wall=1_700_000_000.0)
    return folder


def test_finish_writes_every_output(results: Path) -> None:
    names = {p.name for p in results.iterdir()}
    assert {"summary.json", "junit.xml", "bill.json", "histograms", "report.html", "runbook.md", "memo.md"} <= names
    assert {p.name for p in (results / "plots").iterdir()} == {"latency.png", "errors.png", "models.png", "spend.png"}
    assert {p.name for p in (results / "histograms").iterdir()} == {
        "baseline.json", "outage.json", "recovery.json", "run.json",
    }  # fmt: skip
    summary = json.loads((results / "summary.json").read_text())
    assert summary["schema_version"] == 1
    assert [v["passed"] for v in summary["verdicts"]] == [False, True, True]
    assert not list(results.glob("*.tmp"))


def test_report_cli_re_renders_from_the_folder_alone(results: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    for name in ("report.html", "runbook.md", "memo.md"):
        (copy / name).unlink()
    shutil.rmtree(copy / "plots")
    proc = run_cli("report", str(copy))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    html = (copy / "report.html").read_text()
    assert str(copy / "report.html") in proc.stdout
    # Self-contained: four PNG plots inline, no external resources.
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 4
    assert all(base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert not re.search(r'(src|href)="https?://', html)
    summary = ResultsDir(copy).result()
    for v in summary.verdicts:
        assert v.sentence in html
    assert "fallback_correctness in phase outage was" in html
    for phase in ("baseline", "outage", "recovery"):
        assert f"<th>{phase}</th>" in html
    assert "ttft_p95_s" in html
    assert "NO-GO" in html


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    proc = run_cli("report", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "no such results folder" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_folder_that_is_not_a_run(tmp_path: Path) -> None:
    proc = run_cli("report", str(tmp_path))
    assert proc.returncode == 2
    assert "not a results folder" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "summary.json").write_text('{"schema_version": 1, "plan": '), "summary.json: not valid JSON"),
        (lambda d: (d / "summary.json").write_text('{"schema_version": 99}'), "schema_version 99"),
        (lambda d: (d / "summary.json").unlink(), "summary.json: no such file"),
        (lambda d: (d / "summary.json").write_text('{"schema_version": 1, "plan": {}}'), "summary.json: plan.scenario"),
    ],
)
def test_corrupt_results_are_clear_errors(results: Path, tmp_path: Path, damage, message: str) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    damage(copy)
    proc = run_cli("report", str(copy))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupt_records_name_the_line(results: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(results, copy)
    lines = (copy / "requests.jsonl").read_text().splitlines()
    lines[4] = "{broken"
    (copy / "requests.jsonl").write_text("\n".join(lines) + "\n")
    proc = run_cli("report", str(copy))
    assert proc.returncode == 2
    assert "requests.jsonl:5: not a valid request record" in proc.stderr
    assert "Traceback" not in proc.stderr
