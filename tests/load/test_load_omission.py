"""Coordinated omission, on real sockets: a server stall holds every request for a second.

Under the open model the schedule keeps its instants while the sender is blocked (here by
`max_in_flight`): requests leave late once the stall ends, so their latency from the actual send
is short, but from the intended send it is what a user arriving then would have waited. A closed
loop stops sending while its users wait, and reports a P95 that never saw the stall.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from loadrun import FakeServer, LoadRun, run_load
from measuring import hdr_percentile, nearest_rank

STALL_AFTER_S, STALL_S = 1.0, 1.0
SECONDS = 4.0
RATE = 50
WORKLOAD = {
    "name": "stall",
    "classes": [{"name": "chat", "weight": 1, "model": "stall", "stream_share": 0.0, "max_tokens": 16,
                 "prompt_tokens": {"min": 10, "max": 20}}],
}  # fmt: skip


def _stalling(factory: Callable[..., FakeServer], name: str) -> FakeServer:
    return factory("--stall-start-s", str(STALL_AFTER_S), "--stall-s", str(STALL_S), name=name)


def _window(server: FakeServer, run: LoadRun) -> tuple[float, float]:
    """The stall, on the run's clock (both processes read the same monotonic clock)."""
    (stall,) = server.rows("stall")
    origin = run.summary["origin_monotonic"]
    return stall["from"] - origin, stall["until"] - origin


def test_a_stall_shows_in_corrected_latencies_and_a_closed_loop_hides_it(
    tmp_path: Path, fake_server_factory: Callable[..., FakeServer]
) -> None:
    open_server = _stalling(fake_server_factory, "open")
    # Four requests out at most: during the stall the sender is blocked like a closed loop would be.
    load = {"model": "open", "shape": {"kind": "steady", "rate": RATE}, "max_in_flight": 4, "request_timeout_s": 5.0}
    run = run_load(tmp_path, WORKLOAD, load, open_server.url, duration=SECONDS, drain=3.0, name="open")
    assert run.returncode == 0, run.stderr
    assert run.summary["sent"] == run.summary["recorded"] == len(run.records) == len(open_server.rows())
    assert all(r.status == 200 and r.error is None for r in run.records)
    start, end = _window(open_server, run)

    # What users arriving on schedule would have seen: the rest of the stall, or nothing.
    expected = {id(r): max(0.0, end - (r.intended_t or 0.0)) if (r.intended_t or 0.0) >= start else 0.0
                for r in run.records}  # fmt: skip
    in_stall = [r for r in run.records if start + 0.02 <= (r.intended_t or 0.0) <= end - 0.02]
    assert len(in_stall) >= 0.9 * RATE * STALL_S
    for record in in_stall:
        corrected = record.e2e_corrected_s or 0.0
        assert expected[id(record)] - 0.01 <= corrected <= expected[id(record)] + 0.3, (record, start, end)
    # Most of them left late, after the stall: measured from the actual send they look fast.
    assert sum(1 for r in in_stall if (r.e2e_s or 0.0) < 0.2) >= len(in_stall) - 8

    truth_p95 = nearest_rank(expected.values(), 95)  # about 0.8 s: the top fifth of the stall's quarter of the run
    assert 0.6 <= truth_p95 <= 1.0
    corrected_p95 = nearest_rank((r.e2e_corrected_s or 0.0 for r in run.records), 95)
    raw_p95 = nearest_rank((r.e2e_s or 0.0 for r in run.records), 95)
    assert abs(corrected_p95 - truth_p95) < 0.1, (corrected_p95, truth_p95)
    assert abs(hdr_percentile(run.summary, "e2e", 95) - corrected_p95) < 0.002
    assert raw_p95 < 0.2
    assert hdr_percentile(run.summary, "e2e_raw", 95) < 0.2

    # The same stall under a closed loop of four users at about the same rate.
    closed_server = _stalling(fake_server_factory, "closed")
    load = {"model": "closed", "shape": {"kind": "steady", "users": 4}, "think_time_s": 4 / RATE}
    closed = run_load(tmp_path, WORKLOAD, load, closed_server.url, duration=SECONDS, drain=3.0, name="closed")
    assert closed.returncode == 0, closed.stderr
    assert closed.summary["sent"] == closed.summary["recorded"] == len(closed.records)
    start, end = _window(closed_server, closed)
    # Each user sent one request into the stall and sat there: a handful of samples, not a quarter of the run.
    assert sum(1 for r in closed.records if start + 0.02 <= r.t <= end - 0.02) <= 4
    assert sum(1 for r in closed.records if (r.e2e_s or 0.0) > 0.5) <= 4
    closed_p95 = nearest_rank((r.e2e_s or 0.0 for r in closed.records), 95)
    assert closed_p95 < 0.2 < truth_p95 - 0.4
    assert hdr_percentile(closed.summary, "e2e", 95) < 0.2
    print(f"P95: open corrected {corrected_p95:.3f} s (truth {truth_p95:.3f}), open raw {raw_p95:.3f}, "
          f"closed {closed_p95:.3f}")  # fmt: skip
