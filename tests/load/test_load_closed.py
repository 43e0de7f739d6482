"""The closed model against a real server: N users, each sending its next request a think time
after its last answer, so the server never sees more than N at once and the rate follows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from loadrun import FakeServer, run_load
from measuring import by_request_id

USERS, THINK_S, SERVICE_S, SECONDS = 5, 0.2, 0.1, 3.0
WORKLOAD = {
    "name": "closed",
    "classes": [{"name": "chat", "weight": 1, "model": f"sleep{SERVICE_S}", "stream_share": 0.5, "max_tokens": 16,
                 "prompt_tokens": {"min": 10, "max": 40}}],
}  # fmt: skip


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    level = most = 0
    for _, step in edges:
        level += step
        most = max(most, level)
    return most


def test_users_wait_for_their_answer_and_think_before_the_next(
    tmp_path: Path, fake_server_factory: Callable[..., FakeServer]
) -> None:
    server = fake_server_factory(name="closed")
    load = {"model": "closed", "shape": {"kind": "steady", "users": USERS}, "think_time_s": THINK_S}
    run = run_load(tmp_path, WORKLOAD, load, server.url, duration=SECONDS, drain=3.0)
    assert run.returncode == 0, run.stderr
    records = run.records

    assert run.summary["sent"] == run.summary["recorded"] == len(records)
    ids = [row["id"] for row in server.rows()]
    assert len(ids) == len(set(ids)) == len(records)
    assert set(by_request_id(records)) == set(ids)
    assert all(r.status == 200 and r.error is None and r.intended_t is None for r in records)
    assert all((r.e2e_s or 0.0) >= SERVICE_S for r in records)

    # Never more than one request per user at the server, and every user at work.
    handled = [(row["at"], row["at"] + row["handler_s"]) for row in server.rows("done")]
    assert _most_at_once(handled) == USERS
    # Each user's cycle is its answer plus its think time: the rate is users / cycle.
    start = run.summary["load_start"]
    steady = [r for r in records if start + 0.5 <= r.t < start + SECONDS - 0.3]
    rate = len(steady) / (SECONDS - 0.8)
    cycle = sum(r.e2e_s or 0.0 for r in steady) / len(steady) + THINK_S
    assert abs(rate - USERS / cycle) <= 0.2 * USERS / cycle, (rate, cycle)


def test_closed_users_spread_over_two_workers_are_each_recorded_once(
    tmp_path: Path, fake_server_factory: Callable[..., FakeServer]
) -> None:
    server = fake_server_factory(name="closed-workers")
    load = {"model": "closed", "shape": {"kind": "steady", "users": 4}, "think_time_s": THINK_S}
    run = run_load(tmp_path, WORKLOAD, load, server.url, duration=2.0, workers=2, drain=3.0)
    assert run.returncode == 0, run.stderr
    ids = [row["id"] for row in server.rows()]
    assert run.summary["sent"] == run.summary["recorded"] == len(run.records) == len(ids) == len(set(ids))
    assert set(by_request_id(run.records)) == set(ids)
    assert {str(r.worker) for r in run.records} == {"1", "2"}
    assert _most_at_once([(row["at"], row["at"] + row["handler_s"]) for row in server.rows("done")]) == 4
