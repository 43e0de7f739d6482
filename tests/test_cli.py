from __future__ import annotations

from pathlib import Path

from support.procs import run_cli


def test_help_lists_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("run", "up", "down", "status", "mock", "gateway", "toxiproxy", "validate", "nightly"):
        assert command in result.stdout


def test_validate_unknown_kind_lists_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("kind: potato\n")
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "'potato' is not a known kind" in result.stderr
    assert "scenario" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_missing_kind(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: a\n")
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "kind: required field is missing" in result.stderr


def test_bad_flag_value_is_a_clear_error() -> None:
    result = run_cli("run", "--time-scale", "-1")
    assert result.returncode == 2
    assert "--time-scale" in result.stderr
    assert "Traceback" not in result.stderr
