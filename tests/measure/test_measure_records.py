"""Request records and events on disk: written line by line, read back, damage reported precisely."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gameday.errors import ConfigError
from gameday.measure.events import Event, load_events, phase_windows
from gameday.measure.plan import PhasePlan, RunPlan
from gameday.measure.record import RecordWriter, RequestRecord, read_records

FIELDS = [
    "t", "phase", "task", "tier", "stream", "status", "error", "ttft_s", "e2e_s", "in_tokens", "out_tokens", "model",
    "provider", "route", "attempts", "fallback", "cost_usd", "worker", "expected_4xx", "intended_t",
]  # fmt: skip


def _rec(i: int, **kw: object) -> RequestRecord:
    base: dict[str, object] = {"t": i * 0.1, "phase": "p", "task": "chat", "status": 200, "out_tokens": 3, "model": "m"}
    return RequestRecord.model_validate({**base, **kw})


def test_fields_are_the_design_contract() -> None:
    assert list(RequestRecord.model_fields) == FIELDS


def test_writer_appends_and_reader_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    with RecordWriter(path) as w:
        w.write(_rec(0))
        # Written and flushed at once: a reader sees it before the writer closes.
        assert read_records(path) == [_rec(0)]
        w.write_many([_rec(1, error="timeout", status=0), _rec(2, expected_4xx=True, status=400)])
    with RecordWriter(path) as w:  # reopening appends
        w.write(_rec(3))
    assert [r.t for r in read_records(path)] == [0.0, 0.1, 0.2, pytest.approx(0.3)]


def test_concurrent_writers_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    with RecordWriter(path) as w:
        threads = [
            threading.Thread(target=lambda k=k: [w.write(_rec(k * 100 + i)) for i in range(100)]) for k in range(4)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert w.count == 400
    assert len(read_records(path)) == 400


def test_a_torn_last_line_is_skipped_but_a_bad_middle_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    with RecordWriter(path) as w:
        w.write_many([_rec(0), _rec(1)])
    with path.open("ab") as f:
        f.write(b'{"t": 0.3, "phase": "p", "ta')  # the writer was killed mid-line
    assert len(read_records(path)) == 2
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], '{"t": "soon", "phase": "p", "task": "chat"}', lines[1]]) + "\n")
    with pytest.raises(ConfigError, match=r"requests.jsonl:2: not a valid request record: t:"):
        read_records(path)


def test_missing_records_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        read_records(tmp_path / "requests.jsonl")


@pytest.mark.parametrize(
    ("kw", "succeeded", "failed"),
    [
        ({}, True, False),
        ({"out_tokens": 0}, False, False),  # 2xx with empty content: not a success, not an error
        ({"status": 503, "error": "http_5xx"}, False, True),
        ({"status": 0, "error": "timeout"}, False, True),
        ({"status": 400, "error": "http_4xx", "expected_4xx": True}, True, False),  # malformed, refused: correct
        ({"status": 500, "error": "http_5xx", "expected_4xx": True}, False, True),
        ({"status": 200, "expected_4xx": True}, False, False),  # malformed passed through: not a success
        ({"status": 200, "error": "stream_cut"}, False, True),
    ],
)
def test_success_and_failure_definitions(kw: dict[str, object], succeeded: bool, failed: bool) -> None:
    r = _rec(0, **kw)
    assert r.succeeded is succeeded
    assert r.failed is failed


def test_unknown_fields_and_error_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="bogus"):
        _rec(0, bogus=1)
    with pytest.raises(ValueError, match="error"):
        _rec(0, error="exploded")


PLAN = RunPlan(scenario="s", phases=[PhasePlan(name="a", duration_s=5), PhasePlan(name="b", duration_s=5)])


def test_phase_windows_from_events_and_abort(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"t": 0.0, "wall": 1.0, "event": "phase_start", "phase": "a"}\n'
        '{"t": 5.1, "wall": 6.1, "event": "phase_end", "phase": "a"}\n'
        '{"t": 5.1, "wall": 6.1, "event": "phase_start", "phase": "b"}\n'
        '{"t": 7.0, "wall": 8.0, "event": "abort", "detail": "error_rate too high", "extra": 1}\n'
        '{"t": 7.2, "wall": 8'
    )
    events = load_events(path)
    assert [e.event for e in events] == ["phase_start", "phase_end", "phase_start", "abort"]
    windows = phase_windows(events, PLAN)
    assert [(w.name, w.start_s, w.end_s, w.ended) for w in windows] == [("a", 0.0, 5.1, True), ("b", 5.1, 7.0, False)]


def test_phase_windows_without_events_follow_the_plan() -> None:
    windows = phase_windows([], PLAN)
    assert [(w.name, w.start_s, w.end_s) for w in windows] == [("a", 0.0, 5.0), ("b", 5.0, 10.0)]


def test_bad_event_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"t": 0.0, "event": "phase_start"}\nnot json\n{"t": 1.0, "event": "x"}\n')
    with pytest.raises(ConfigError, match=r"events.jsonl:2: not valid JSON"):
        load_events(path)
    assert Event(t=1, event="x").phase is None
