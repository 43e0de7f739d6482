"""Calibration: against a server whose latency distribution is known exactly, at 200 requests per
second on the open model, the load's P50 and P95 (from its records and from its merged HDR
histograms, raw and corrected for coordinated omission) fall within 2% of the truth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fakeserver import lognormal_quantile
from loadrun import FakeServer, run_load
from measuring import by_request_id, hdr_percentile, nearest_rank, relative_error

# P95 = e^(0.35 * 1.645) = 1.78 s. Delays this long keep what the client adds on a busy machine (scheduling
# delays of a few ms when other processes compete for the 2 cores) well inside 1%.
MEDIAN_S, SIGMA = 1.0, 0.35
RATE, REQUESTS = 200, 1600  # 8 s of load
TOLERANCE = 0.02


def _ms(what: str, values: list[float]) -> str:
    return f"{what}: p50 {nearest_rank(values, 50) * 1e3:.2f} ms, p99 {nearest_rank(values, 99) * 1e3:.2f} ms"


def test_p50_and_p95_within_two_percent_of_a_known_distribution_at_200_rps(
    tmp_path: Path, fake_server_factory: Callable[..., FakeServer]
) -> None:
    server = fake_server_factory(
        "--delay-median-s", str(MEDIAN_S), "--delay-sigma", str(SIGMA), "--delay-strata", str(REQUESTS), name="calib"
    )
    workload = {
        "name": "calibration",
        "classes": [{"name": "chat", "weight": 1, "model": "dist", "stream_share": 0.0, "max_tokens": 16,
                     "prompt_tokens": {"min": 20, "max": 60}}],
    }  # fmt: skip
    # Exactly one block of strata is sent: the delays dealt are the distribution's quantiles, one each.
    load = {"model": "open", "shape": {"kind": "steady", "rate": RATE}, "request_timeout_s": 10.0,
            "max_in_flight": 1000, "max_requests": REQUESTS}  # fmt: skip
    run = run_load(tmp_path, workload, load, server.url, duration=REQUESTS / RATE + 1.0, drain=5.0)

    assert run.returncode == 0, run.stderr
    records = run.records
    assert run.summary["sent"] == run.summary["recorded"] == len(records) == REQUESTS
    intended = sorted(r.intended_t or 0.0 for r in records)
    assert intended[-1] - intended[0] == pytest.approx((REQUESTS - 1) / RATE, rel=1e-3)
    late = sorted(r.omission_s for r in records)
    assert nearest_rank(late, 50) < 0.02, "the load did not send at 200 req/s"
    assert all(r.status == 200 and r.error is None for r in records)

    # The server's side: every request arrived once, and was held for the delay it was dealt.
    done = {row["id"]: row for row in server.rows("done") if "delay_s" in row}
    arrived = [row["id"] for row in server.rows()]
    assert len(arrived) == len(set(arrived)) == len(records)
    matched = by_request_id(records)
    assert set(matched) == set(done)
    for request_id, record in matched.items():
        # The client's clock starts before the server's and stops after it.
        assert (record.e2e_s or 0.0) >= done[request_id]["delay_s"] - 1e-5, request_id
    overhead = sorted((matched[i].e2e_s or 0.0) - row["delay_s"] for i, row in done.items())

    truth = {q: lognormal_quantile(q / 100, MEDIAN_S, SIGMA) for q in (50, 95)}
    planned = [row["planned_s"] for row in done.values()]
    applied = sorted(row["delay_s"] - row["planned_s"] for row in done.values())
    measured = {
        "records raw": lambda q: nearest_rank((r.e2e_s or 0.0 for r in records), q),
        "records corrected": lambda q: nearest_rank((r.e2e_corrected_s or 0.0 for r in records), q),
        "hdr raw": lambda q: hdr_percentile(run.summary, "e2e_raw", q),
        "hdr corrected": lambda q: hdr_percentile(run.summary, "e2e", q),
    }
    report = [
        _ms("server late on its delay", applied),
        _ms("client beyond the server", overhead),
        _ms("sent late", late),
    ]
    for q, true in truth.items():
        # The delays dealt are the quantiles themselves (one per stratum): the truth is the formula.
        assert relative_error(nearest_rank(planned, q), true) < 0.002, (q, nearest_rank(planned, q), true)
        for name, percentile in measured.items():
            value = percentile(q)
            report.append(f"P{q} {name}: {value:.4f} s vs {true:.4f} s ({(value - true) / true:+.2%})")
            assert relative_error(value, true) <= TOLERANCE, "\n".join(report)
    print("\n".join(report))
