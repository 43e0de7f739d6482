"""The load's YAML: shipped workloads are valid, and every mistake is named with its file, line and fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gameday.config.load import ADAPTERS, Adapter, LoadSpec, resolve_adapter
from gameday.config.workload import Workload
from gameday.config.yamlio import load_model
from gameday.errors import ConfigError
from gameday.load.trace import read_trace
from support.procs import REPO, run_cli

WORKLOADS = REPO / "scenarios" / "workloads"


def test_the_mixed_workload_has_five_classes_with_weights_and_tiers() -> None:
    workload = load_model(WORKLOADS / "mixed.yaml", Workload)
    by_name = {c.name: c for c in workload.classes}
    assert list(by_name) == ["chat", "code", "summarize", "extract", "reasoning"]
    assert {by_name["chat"].tier, by_name["reasoning"].tier} == {"high"}
    assert {by_name["summarize"].tier, by_name["extract"].tier} == {"low"}
    assert all(c.weight > 0 and c.max_tokens > 0 for c in workload.classes)


def test_the_replay_workload_reads_its_trace() -> None:
    workload = load_model(WORKLOADS / "replay.yaml", Workload)
    entries = workload.trace_entries
    assert len(entries) > 100
    assert {e.task for e in entries} <= {c.name for c in workload.classes}
    times = [e.t for e in entries]
    assert times == sorted(times)
    assert times[-1] < 60
    # The recorded burst: about three times the traffic between 20 and 30 s.
    burst = sum(1 for t in times if 20 <= t < 30) / 10
    calm = sum(1 for t in times if t < 20 or t >= 30) / 50
    assert burst > 2 * calm


def test_the_malformed_workload_is_all_corpus() -> None:
    workload = load_model(WORKLOADS / "malformed.yaml", Workload)
    assert workload.malformed.share == 1.0
    assert workload.malformed.count >= 500


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


WORKLOAD = "kind: workload\nname: w\nclasses:\n  - {name: chat, weight: 1}\n"


@pytest.mark.parametrize(
    ("load", "message"),
    [
        ("workload: w.yaml\nmodel: closed\nshape: {kind: steady, rate: 5}\n", "load.yaml:3: shape: .*use `users:`"),
        ("workload: w.yaml\nmodel: open\nshape: {kind: steady, users: 5}\n", "shape: .*use `rate:`"),
        ("workload: w.yaml\n", "load.yaml:1: shape: required unless the workload replays a trace"),
        ("workload: w.yaml\nshape: {kind: sine, rate: 3}\n", "unknown shape kind 'sine'. Valid kinds: steady, step"),
        ("workload: nope.yaml\nshape: {kind: steady, rate: 1}\n", "nope.yaml: no such file"),
        ("workload: w.yaml\nshape: {kind: steady, rate: 1}\nrequest_timeout_s: 0\n", "request_timeout_s: .*greater"),
        ("workload: w.yaml\nshape: {kind: steady, rate: 1}\nheaders: {Host: x}\n", "set by the load itself: Host"),
        ("workload: w.yaml\nshape: {kind: steady, rate: 1}\nrate: 3\n", "rate: unknown field"),
    ],
)
def test_load_spec_mistakes_name_the_line_and_the_fix(tmp_path: Path, load: str, message: str) -> None:
    _write(tmp_path, "w.yaml", WORKLOAD)
    with pytest.raises(ConfigError, match=message):
        load_model(_write(tmp_path, "load.yaml", load), LoadSpec)


def test_a_trace_workload_refuses_a_shape(tmp_path: Path) -> None:
    _write(tmp_path, "t.jsonl", '{"t": 0, "task": "chat", "prompt_tokens": 10}\n')
    _write(tmp_path, "w.yaml", WORKLOAD + "trace: {path: t.jsonl}\n")
    spec = load_model(_write(tmp_path, "ok.yaml", "workload: w.yaml\n"), LoadSpec)
    assert spec.load_workload().trace_entries[0].prompt_tokens == 10
    with pytest.raises(ConfigError, match="replays a trace on its own schedule; remove `shape`"):
        load_model(_write(tmp_path, "bad.yaml", "workload: w.yaml\nshape: {kind: steady, rate: 1}\n"), LoadSpec)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"t": 0, "task": "poetry", "prompt_tokens": 10}',
            r"t.jsonl:2: task 'poetry' is not a class .* Classes: chat",
        ),
        ('{"t": -1, "task": "chat", "prompt_tokens": 10}', r"t.jsonl:2: t: Input should be greater than or equal"),
        ("not json", r"t.jsonl:2: not a JSON object"),
        ('{"t": 1, "task": "chat"}', r"t.jsonl:2: prompt_tokens: Field required"),
    ],
)
def test_trace_mistakes_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path, "t.jsonl", '{"t": 0, "task": "chat", "prompt_tokens": 10}\n' + line + "\n")
    with pytest.raises(ConfigError, match=message):
        read_trace(path, {"chat"})


def test_gameday_validate_reports_a_bad_workload_without_a_traceback(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.yaml", "kind: workload\nname: w\nclasses:\n  - {name: chat, weight: -1, tier: top}\n")
    result = run_cli("validate", str(bad))
    assert result.returncode == 2
    assert "bad.yaml:4: classes.0.weight" in result.stderr + result.stdout
    assert "classes.0.tier" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_adapters_resolve_by_name_or_mapping() -> None:
    assert resolve_adapter("gameday").model is not None
    assert resolve_adapter("gameday").model.header == "x-gameday-model"
    assert resolve_adapter("openai") == ADAPTERS["openai"]
    custom = resolve_adapter({"model": {"header": "x-litellm-model"}, "cost_usd": {"body": "usage.cost"}})
    assert isinstance(custom, Adapter)
    assert custom.cost_usd is not None
    assert custom.cost_usd.body == "usage.cost"
    with pytest.raises(ConfigError, match=r"adapter 'litellm' is unknown\. Valid adapters: gameday, openai"):
        resolve_adapter("litellm")
    with pytest.raises(ValueError, match=r"give `header:` \(a response header\), `body:`"):
        Adapter.model_validate({"model": {}})


def test_with_header_and_body_the_body_value_wins_and_the_header_stands_alone() -> None:
    from gameday.load.adapters import AdapterReader

    adapter = resolve_adapter("gameday")
    streamed = AdapterReader(adapter)
    streamed.headers({"x-gameday-cost-usd": "0.5", "x-gameday-model": "m"})
    streamed.body({"model": "m", "choices": []})
    streamed.body({"usage": {"prompt_tokens": 3, "completion_tokens": 4, "cost_usd": 0.000123}})
    assert streamed.served().cost_usd == 0.000123
    plain = AdapterReader(adapter)
    plain.headers({"x-gameday-cost-usd": "0.25"})
    plain.body({"model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
    assert plain.served().cost_usd == 0.25


def test_the_pure_parts_of_the_load_do_not_import_locust() -> None:
    code = (
        "import sys, gameday.config.load, gameday.config.workload, gameday.load, gameday.load.shapes, "
        "gameday.load.schedule, gameday.load.mix, gameday.load.malformed, gameday.load.caller, gameday.load.sse, "
        "gameday.load.adapters, gameday.load.livestats, gameday.load.control;"
        "bad = [m for m in ('locust', 'gevent') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
