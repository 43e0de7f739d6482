"""Open-model schedules, driven by a simulated clock: arrivals where the rate says, whatever the pace of asking."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.load.control import Controls
from gameday.load.schedule import ArrivalSchedule, Due, Finished, Idle, TraceSchedule, duplicates


def drive(schedule: Any, end: float, poll: float | None = None, on_time: Callable[[float], None] | None = None) -> list:
    """Ask like the dispatcher does: sleep until the announced instant (or `poll`), take what is due."""
    now, out = 0.0, []
    for _ in range(200_000):
        if on_time is not None:
            on_time(now)
        ticket = schedule.next_due(now)
        if isinstance(ticket, Finished):
            break
        if isinstance(ticket, Due):
            assert ticket.t <= now + 1e-9  # Due only once its instant has come
            out.append(ticket if ticket.item is not None else ticket.t)
            continue
        assert isinstance(ticket, Idle)
        now = min(ticket.until, now + poll) if poll else ticket.until
        if now > end:
            break
    return out


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(min_value=0.2, max_value=500), seconds=st.floats(min_value=1, max_value=20))
def test_uniform_arrivals_are_evenly_spaced_at_the_rate(rate: float, seconds: float) -> None:
    times = drive(ArrivalSchedule(lambda t: rate), seconds)
    assert abs(len(times) - (rate * seconds + 1)) <= 2
    assert times[0] == 0.0
    for a, b in itertools.pairwise(times):
        assert b - a == pytest.approx(1 / rate, rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(rate=st.floats(min_value=1, max_value=200), poll=st.floats(min_value=0.001, max_value=0.7))
def test_a_late_or_early_poller_gets_the_same_instants(rate: float, poll: float) -> None:
    # The dispatcher may wake late (a busy process) or often (multiplier changes): instants do not move.
    # Compared short of the end: an arrival on the end instant itself may fall either side by rounding.
    exact = [t for t in drive(ArrivalSchedule(lambda t: rate), 5.0) if t < 4.999]
    polled = [t for t in drive(ArrivalSchedule(lambda t: rate), 5.0, poll=poll) if t < 4.999]
    assert len(polled) == len(exact)
    assert polled == pytest.approx(exact, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(low=st.floats(min_value=1, max_value=50), high=st.floats(min_value=1, max_value=300))
def test_arrivals_follow_a_changing_rate(low: float, high: float) -> None:
    rate = lambda t: low if t < 5 else high  # noqa: E731
    times = drive(ArrivalSchedule(rate), 10.0)
    before = sum(1 for t in times if t < 5)
    after = sum(1 for t in times if 5 <= t < 10)
    assert abs(before - low * 5) <= 2
    assert abs(after - high * 5) <= 2 + high * 0.01 * 5  # the change is seen within one 10 ms step


@settings(max_examples=30, deadline=None)
@given(rate=st.floats(min_value=5, max_value=300), workers=st.integers(2, 6))
def test_workers_interleave_into_the_single_process_schedule(rate: float, workers: int) -> None:
    single = drive(ArrivalSchedule(lambda t: rate), 3.0)
    merged = sorted(
        t
        for i in range(workers)
        for t in drive(ArrivalSchedule(lambda t: rate, share=1 / workers, offset=i / workers), 3.0)
    )
    assert len(merged) == pytest.approx(len(single), abs=workers)
    n = min(len(merged), len(single)) - workers
    assert merged[:n] == pytest.approx(single[:n], abs=1e-6)


def test_poisson_arrivals_have_the_rate_on_average_and_repeat_with_the_seed() -> None:
    a = drive(ArrivalSchedule(lambda t: 100, arrivals="poisson", rng=random.Random(3)), 60.0)
    b = drive(ArrivalSchedule(lambda t: 100, arrivals="poisson", rng=random.Random(3)), 60.0)
    assert a == b
    assert abs(len(a) - 6000) < 5 * 6000**0.5
    gaps = sorted(y - x for x, y in itertools.pairwise(a))
    assert gaps[len(gaps) // 2] == pytest.approx(0.01 * 0.6931, rel=0.1)  # exponential median: ln 2 / rate


def test_a_multiplier_change_moves_only_future_arrivals() -> None:
    controls = Controls()
    schedule = ArrivalSchedule(lambda t: 10 * controls.multiplier_at(t))

    def flip(now: float) -> None:
        if now >= 2.0 and controls.multiplier == 1.0:
            controls.set_multiplier(4.0, at=now)  # seen by the dispatcher only later: the past keeps x1

    times = drive(schedule, 4.0, poll=0.05, on_time=flip)
    before = [t for t in times if t < 2.0]
    after = [t for t in times if 2.1 <= t < 4.0]
    assert before == pytest.approx([i * 0.1 for i in range(20)], abs=1e-6)
    for x, y in itertools.pairwise(after):
        assert y - x == pytest.approx(0.025, rel=1e-6)


def test_no_arrival_while_the_rate_is_zero_and_the_schedule_finishes_with_the_shape() -> None:
    rate = lambda t: None if t >= 6 else (0.0 if t < 3 else 2.0)  # noqa: E731
    times = drive(ArrivalSchedule(rate), 100.0)
    assert times
    assert min(times) >= 3.0
    assert max(times) < 6.0
    assert len(times) == pytest.approx(6, abs=1)


def test_a_trace_replays_on_its_own_clock() -> None:
    entries = [(0.0, "a"), (0.5, "b"), (0.5, "c"), (2.0, "d")]
    tickets = drive(TraceSchedule(entries, start=10.0, speed=2.0), 100.0)
    assert [(t.t, t.item) for t in tickets] == [(10.0, "a"), (10.25, "b"), (10.25, "c"), (11.0, "d")]


def test_a_trace_is_split_between_workers_without_loss_or_overlap() -> None:
    entries = [(i * 0.1, i) for i in range(101)]
    seen = [t.item for w in range(3) for t in drive(TraceSchedule(entries, index=w, workers=3), 100.0)]
    assert sorted(seen) == list(range(101))


def test_a_looping_trace_starts_over_shifted_by_its_length() -> None:
    entries = [(0.0, "x"), (1.0, "y")]
    tickets = drive(TraceSchedule(entries, loop=True, max_laps=3), 100.0)
    assert [t.t for t in tickets] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


@settings(max_examples=50, deadline=None)
@given(m=st.floats(min_value=0, max_value=20))
def test_trace_duplicates_have_the_multiplier_as_expectation(m: float) -> None:
    rng = random.Random(1)
    counts = [duplicates(m, rng) for _ in range(4000)]
    assert all(int(m) <= c <= int(m) + 1 for c in counts)
    assert sum(counts) / len(counts) == pytest.approx(m, abs=0.05)


def test_a_trace_under_a_burst_sends_each_entry_several_times() -> None:
    entries = [(i * 1.0, i) for i in range(10)]
    tickets = drive(TraceSchedule(entries, multiplier=lambda: 3.0), 100.0)
    assert [t.item for t in tickets] == [i for i in range(10) for _ in range(3)]
