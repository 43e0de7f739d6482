"""The events journal: one flushed JSON line per event, safe across threads, readable after a kill."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from gameday.faults.journal import EventJournal, read_events


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_each_event_is_on_disk_before_write_returns(tmp_path: Path) -> None:
    clock = FakeClock(100.0)
    path = tmp_path / "events.jsonl"
    with EventJournal(path, clock=clock, wall=lambda: 1_700_000_000.5) as journal:
        clock.now = 102.25
        journal.write("fault_inject", phase="outage", fault="latency", target="premium", detail={"latency_ms": 5})
        # Read while the journal is still open: flushed per line, so a SIGKILL now would keep it.
        on_disk = [json.loads(line) for line in path.read_text().splitlines()]
    assert on_disk == [
        {
            "t": 2.25,
            "wall": 1_700_000_000.5,
            "event": "fault_inject",
            "phase": "outage",
            "fault": "latency",
            "target": "premium",
            "detail": {"latency_ms": 5},
        }
    ]


def test_write_at_records_an_earlier_instant(tmp_path: Path) -> None:
    clock = FakeClock(10.0)
    journal = EventJournal(None, clock=clock, wall=lambda: 5.0)
    clock.now = 30.0
    record = journal.write_at(12.5, 4.0, "signal", detail={"signal": "SIGINT"})
    assert record["t"] == 2.5
    assert record["wall"] == 4.0
    assert journal.events("signal") == [record]


def test_threads_never_interleave_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    journal = EventJournal(path)

    def writer(n: int) -> None:
        for i in range(200):
            journal.write("tick", worker=n, i=i, detail={"pad": "x" * 500})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    journal.close()
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(events) == 8 * 200
    for n in range(8):
        assert [e["i"] for e in events if e["worker"] == n] == list(range(200))


def test_read_events_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with EventJournal(path) as journal:
        journal.write("phase_start", phase="baseline")
    with path.open("a") as f:
        f.write('{"t": 1.0, "event": "fault_inj')  # the writer died mid-line
    assert [e["event"] for e in read_events(path)] == ["phase_start"]


def test_values_json_lacks_are_written_as_text(tmp_path: Path) -> None:
    with EventJournal(tmp_path / "e.jsonl") as journal:
        journal.write("note", detail={"path": tmp_path})
    assert read_events(tmp_path / "e.jsonl")[0]["detail"]["path"] == str(tmp_path)
