"""Measurement: request records, HDR histograms per phase and series, the bill, the metrics, the result.

The runner's side: write records with `RecordWriter` as requests end, take `BillReader.snapshot`
at every phase boundary (into a `BillLedger`), then `compute_result(plan, records, events, ledger,
sent=...)`. Everything downstream (verdicts, report, runbook) reads the `RunResult`.

Names are imported lazily: the load engine imports `gameday.measure.record` in processes that
Locust monkey-patches, and must not drag `requests` (and `ssl`) in before the patching.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "BillLedger": "bill",
    "BillReader": "bill",
    "BillSnapshot": "bill",
    "ProviderBill": "bill",
    "RUN_SLICE": "compute",
    "build_histograms": "compute",
    "compute_result": "compute",
    "Event": "events",
    "PhaseWindow": "events",
    "load_events": "events",
    "phase_windows": "events",
    "ResultsDir": "folder",
    "HistogramSet": "histograms",
    "Series": "histograms",
    "load_histograms": "histograms",
    "save_histograms": "histograms",
    "FaultPlan": "plan",
    "PhasePlan": "plan",
    "RunPlan": "plan",
    "ERROR_KINDS": "record",
    "RecordWriter": "record",
    "RequestRecord": "record",
    "iter_records": "record",
    "read_records": "record",
    "SCHEMA_VERSION": "result",
    "FaultObservation": "result",
    "Metrics": "result",
    "RunResult": "result",
    "SliceResult": "result",
    "Verdict": "result",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'gameday.measure' has no attribute {name!r}")
    return getattr(import_module(f"gameday.measure.{_WHERE[name]}"), name)
