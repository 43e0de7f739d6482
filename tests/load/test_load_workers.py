"""`--workers 2`: Locust's master in the load's process and two worker processes on loopback.

Every request is sent once and recorded once (the fake server logs each request id), both
workers' histograms merge into the percentiles of the merged records, and what the master sets
(the phase, the burst multiplier, the malformed share) reaches every worker's requests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from loadrun import FakeServer, run_load
from measuring import by_request_id, hdr_percentile, nearest_rank

RATE = 60
SURGE_AT, MALFORMED_AT, SECONDS = 1.5, 2.5, 4.0
WORKLOAD = {
    "name": "workers",
    "classes": [{"name": "chat", "weight": 1, "model": "ok", "stream_share": 0.5, "max_tokens": 16,
                 "prompt_tokens": {"min": 10, "max": 40}}],
}  # fmt: skip


def test_two_workers_send_and_record_every_request_once_with_the_masters_controls(
    tmp_path: Path, fake_server_factory: Callable[..., FakeServer]
) -> None:
    server = fake_server_factory(name="workers")
    at = ["0:phase=warm", f"{SURGE_AT}:phase=surge", f"{SURGE_AT}:multiplier=2", f"{MALFORMED_AT}:malformed=0.5"]
    load = {"model": "open", "shape": {"kind": "steady", "rate": RATE}, "request_timeout_s": 5.0}
    run = run_load(tmp_path, WORKLOAD, load, server.url, duration=SECONDS, workers=2, drain=3.0, at=at)
    assert run.returncode == 0, run.stderr
    records = run.records

    # Sent once, recorded once: the server's request ids are exactly each worker's 1..n, n its records.
    assert run.summary["sent"] == run.summary["recorded"] == len(records)
    ids = [row["id"] for row in server.rows()]
    assert len(ids) == len(set(ids)) == len(records)
    per_worker = Counter(str(r.worker) for r in records)
    assert set(per_worker) == {"1", "2"}
    assert set(ids) == {f"{w}-{n}" for w, count in per_worker.items() for n in range(1, count + 1)}
    assert set(by_request_id(records)) == set(ids)
    expected = RATE * (SURGE_AT + 2 * (SECONDS - SURGE_AT))
    assert 0.85 * expected <= len(records) <= 1.1 * expected
    assert abs(per_worker["1"] - per_worker["2"]) <= 0.1 * len(records)

    # The merged histograms hold every record once, at the records' percentiles (HDR keeps 3 digits).
    corrected = [r.e2e_corrected_s or 0.0 for r in records]
    series = {"e2e": corrected, "e2e_raw": [r.e2e_s or 0.0 for r in records],
              "ttft": [r.ttft_corrected_s for r in records if r.ttft_corrected_s is not None]}  # fmt: skip
    for name, values in series.items():
        assert run.summary["stats"]["recorded"] == len(records)
        for q in (50, 95, 99):
            merged, exact = hdr_percentile(run.summary, name, q), nearest_rank(values, q)
            assert exact - 1e-6 <= merged <= exact * 1.002 + 2e-6, (name, q, merged, exact)

    # The schedule starts once both workers are ready: no burst of requests late by their start-up time.
    start = run.summary["load_start"]
    assert min(r.intended_t or 0.0 for r in records) >= start - 1e-6
    assert max(r.omission_s for r in records if (r.intended_t or 0.0) < start + 0.5) < 0.25

    for worker in ("1", "2"):
        mine = sorted((r for r in records if str(r.worker) == worker), key=lambda r: r.t)
        # The phase the master set: every request of each worker sent before it is `warm`, after it `surge`.
        phases = [r.phase for r in mine]
        switch = phases.index("surge")
        assert set(phases[:switch]) == {"warm"}
        assert set(phases[switch:]) == {"surge"}
        assert start + SURGE_AT - 0.05 <= mine[switch].t <= start + SURGE_AT + 0.5
        # The multiplier: twice the rate after the surge, on each worker (each takes half of it).
        before = sum(1 for r in mine if start + 0.2 <= (r.intended_t or 0) < start + SURGE_AT - 0.1)
        after = sum(1 for r in mine if start + SURGE_AT + 0.5 <= (r.intended_t or 0) < start + SECONDS - 0.2)
        rate_before = before / (SURGE_AT - 0.3)
        rate_after = after / (SECONDS - SURGE_AT - 0.7)
        assert abs(rate_before - RATE / 2) <= 0.15 * RATE / 2, rate_before
        assert abs(rate_after - RATE) <= 0.15 * RATE, rate_after
        # The malformed share: none before it was set, about half after it reached the worker.
        assert not any(r.expected_4xx for r in mine if r.t < start + MALFORMED_AT - 0.05)
        late = [r for r in mine if r.t >= start + MALFORMED_AT + 0.5]
        share = sum(r.expected_4xx for r in late) / len(late)
        assert 0.25 <= share <= 0.75, (worker, share, len(late))
