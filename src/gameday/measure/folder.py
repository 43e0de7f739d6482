"""Reading a results folder back (for `gameday report DIR`, `gameday runbook DIR`, baselines).

Every problem (no folder, no summary, a corrupt file) is a `ConfigError` naming the file and what
to do, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from gameday.errors import ConfigError
from gameday.measure.bill import BillLedger
from gameday.measure.events import Event, load_events
from gameday.measure.record import RequestRecord, read_records
from gameday.measure.result import RunResult

__all__ = ["BILL", "EVENTS", "HISTOGRAMS", "JUNIT", "REQUESTS", "SUMMARY", "ResultsDir"]

SUMMARY, REQUESTS, EVENTS, BILL, HISTOGRAMS, JUNIT = (
    "summary.json",
    "requests.jsonl",
    "events.jsonl",
    "bill.json",
    "histograms",
    "junit.xml",
)


class ResultsDir:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise ConfigError(f"{self.path}: no such results folder. Give a folder under results/ of `gameday run`.")
        if not self.path.is_dir():
            raise ConfigError(f"{self.path}: not a folder. Give a results folder of `gameday run`.")
        if not (self.path / SUMMARY).exists() and not (self.path / REQUESTS).exists():
            raise ConfigError(
                f"{self.path}: not a results folder of `gameday run` (it has neither {SUMMARY} nor {REQUESTS})."
            )

    def file(self, name: str) -> Path:
        return self.path / name

    def result(self) -> RunResult:
        return RunResult.load(self.path / SUMMARY)

    def records(self) -> list[RequestRecord]:
        return read_records(self.path / REQUESTS)

    def events(self) -> list[Event]:
        path = self.path / EVENTS
        return load_events(path) if path.exists() else []

    def bill(self) -> BillLedger:
        path = self.path / BILL
        return BillLedger.load(path) if path.exists() else BillLedger()
