"""The events journal of a run (`events.jsonl`): one JSON object a line, flushed as it happens.

Faults, phases, signals and aborts all land here with two clocks: `t`, seconds since the run
started on a monotonic clock (what plots and metrics align on), and `wall`, unix time (what a
human matches against logs). Each line is written and flushed under a lock, so a run killed
with SIGKILL still leaves every event it recorded, and threads or greenlets never interleave
half lines.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = ["EventJournal", "read_events"]


class EventJournal:
    """Append-only events log. `path=None` keeps the events in memory only (tests, dry runs)."""

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        start: float | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.clock = clock
        self.wall = wall
        self.start = clock() if start is None else start
        # Re-entrant: a signal handler may journal while the interrupted frame holds the lock.
        self._lock = threading.RLock()
        self._events: list[dict[str, Any]] = []
        self._file: IO[str] | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")

    def elapsed(self) -> float:
        """Seconds since the run started, on the journal's clock."""
        return self.clock() - self.start

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        """Record `event` now; returns the record as written. Values that JSON lacks are written as text."""
        return self.write_at(self.clock(), self.wall(), event, **fields)

    def write_at(self, clock_value: float, wall: float, event: str, **fields: Any) -> dict[str, Any]:
        """Record `event` as having happened at an earlier reading of the clocks (e.g. a signal's arrival,
        noted in the handler, where writing a file is not safe)."""
        record: dict[str, Any] = {"t": round(clock_value - self.start, 6), "wall": round(wall, 6), "event": event}
        record.update(fields)
        line = json.dumps(record, default=str, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            self._events.append(record)
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()
        return record

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """A copy of the records written through this journal, optionally only those named `event`."""
        with self._lock:
            return [dict(e) for e in self._events if event is None or e["event"] == event]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> EventJournal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_events(path: Path | str) -> list[dict[str, Any]]:
    """Read an `events.jsonl`; a torn last line (the writer was killed mid-write) is skipped."""
    events = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events
