"""`gameday run` and `gameday nightly` refuse bad input before anything starts: exit 2, one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.procs import REPO, run_cli


def _assert_refused(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_missing_scenario_file_names_the_file_and_where_scenarios_are(tmp_path: Path) -> None:
    result = run_cli("run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "results"), cwd=tmp_path)
    _assert_refused(result, "nope.yaml: no such scenario file", "scenarios/")
    assert not (tmp_path / "results").exists()
    assert not (tmp_path / ".gameday").exists()


def test_remote_target_is_refused_without_allow_remote(tmp_path: Path) -> None:
    scenario = REPO / "scenarios" / "burst-2x.yaml"
    result = run_cli("run", str(scenario), "--target", "http://10.1.2.3:8080", cwd=tmp_path)
    _assert_refused(result, "http://10.1.2.3:8080 is not on this machine", "--allow-remote")
    assert not (tmp_path / ".gameday").exists(), "nothing may start before the input is checked"


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--time-scale", "0"], "--time-scale"),
        (["--time-scale", "fast"], "--time-scale"),
        (["--seed", "-1"], "--seed"),
        (["--workers", "many"], "--workers"),
    ],
)
def test_bad_flags_name_the_flag(tmp_path: Path, flags: list[str], fragment: str) -> None:
    result = run_cli("run", str(REPO / "scenarios" / "burst-2x.yaml"), *flags, cwd=tmp_path)
    _assert_refused(result, fragment)


def test_invalid_scenario_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    source = (REPO / "scenarios" / "burst-2x.yaml").read_text()
    bad.write_text(source.replace("workload: workloads/gameday.yaml", "workload: workloads/gameday.yaml\n  rate: 5"))
    (tmp_path / "workloads").mkdir()
    (tmp_path / "workloads" / "gameday.yaml").write_text((REPO / "scenarios/workloads/gameday.yaml").read_text())
    result = run_cli("run", str(bad), cwd=tmp_path)
    _assert_refused(result, "bad.yaml:", "load.rate", "unknown field")
    assert not (tmp_path / ".gameday").exists()


def test_nightly_with_a_baseline_that_holds_no_run_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(
        "nightly",
        str(REPO / "scenarios" / "nightly.yaml"),
        "--junit",
        str(tmp_path / "j.xml"),
        "--baseline",
        str(empty),
        cwd=tmp_path,
    )
    _assert_refused(result, "holds no run")
    assert not (tmp_path / "j.xml").exists()
