"""The spend ceiling: reservations, settlement, release and the rolling window, under any interleaving."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.gateway.budget import SpendBudget, cost_usd, worst_case_usd
from gameday.gateway.prices import Price

EPS = 1e-9  # status() reports floats converted from exact pico-dollars


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_worst_case_is_all_input_plus_max_tokens_of_output() -> None:
    frontier_large = Price(input=3.0, output=15.0, stale=False, source="feed")
    assert worst_case_usd(frontier_large, 1000, 500) == pytest.approx(0.003 + 0.0075)
    assert cost_usd(frontier_large, 1000, 120) == pytest.approx(0.003 + 0.0018)
    assert worst_case_usd(frontier_large, 0, 0) == 0


def test_a_reservation_that_would_pass_the_ceiling_is_refused_until_money_is_freed() -> None:
    budget = SpendBudget(1.0, 60.0, clock=FakeClock())
    first = budget.reserve(0.6)
    assert first is not None
    assert budget.reserve(0.5) is None  # 0.6 + 0.5 > 1.0
    second = budget.reserve(0.4)  # exactly reaching the ceiling is allowed
    assert second is not None
    assert budget.status()["left"] == pytest.approx(0.0)
    budget.release(second)
    budget.settle(first, 0.1)  # cheaper than the worst case: 0.5 comes back
    status = budget.status()
    assert status["spent_in_window"] == pytest.approx(0.1)
    assert status["reserved"] == pytest.approx(0.0)
    assert status["left"] == pytest.approx(0.9)
    assert budget.reserve(0.9) is not None
    assert budget.status()["refused"] == 1


def test_no_ceiling_always_reserves_but_still_counts() -> None:
    budget = SpendBudget(None, 60.0, clock=FakeClock())
    reservations = [budget.reserve(1e6) for _ in range(5)]
    assert all(r is not None for r in reservations)
    budget.settle(reservations[0], 2.5)  # type: ignore[arg-type]
    status = budget.status()
    assert status["ceiling"] is None
    assert status["left"] is None
    assert status["spent_in_window"] == pytest.approx(2.5)
    assert status["reserved"] == pytest.approx(4e6)
    assert status["in_flight"] == 4


def test_settle_and_release_free_a_reservation_once() -> None:
    budget = SpendBudget(1.0, 60.0, clock=FakeClock())
    r = budget.reserve(0.5)
    assert r is not None
    budget.settle(r, 0.2)
    budget.settle(r, 0.2)  # a second settle is not a second charge
    budget.release(r)  # nor does a release after settling give money back
    status = budget.status()
    assert status["spent_in_window"] == pytest.approx(0.2)
    assert status["reserved"] == pytest.approx(0.0)
    assert status["in_flight"] == 0

    r2 = budget.reserve(0.5)
    assert r2 is not None
    budget.release(r2)
    budget.release(r2)
    assert budget.status()["reserved"] == pytest.approx(0.0)
    assert budget.status()["in_flight"] == 0


def test_actual_cost_above_the_reservation_is_recorded_in_full() -> None:
    # A price tripled while the request was in flight: the bill is the truth, later requests pay for it.
    budget = SpendBudget(1.0, 60.0, clock=FakeClock())
    r = budget.reserve(0.3)
    assert r is not None
    budget.settle(r, 0.9)
    assert budget.status()["spent_in_window"] == pytest.approx(0.9)
    assert budget.reserve(0.2) is None


def test_adjust_raises_an_in_flight_reservation_past_the_ceiling_and_blocks_new_ones() -> None:
    # The price feed tripled while requests were in flight: their reservations follow, new ones wait.
    budget = SpendBudget(1.0, 60.0, clock=FakeClock())
    r = budget.reserve(0.3)
    assert r is not None
    budget.adjust(r, 0.9)
    assert r.usd == pytest.approx(0.9)
    assert budget.status()["reserved"] == pytest.approx(0.9)
    assert budget.reserve(0.2) is None
    budget.adjust(r, 0.1)
    assert budget.reserve(0.2) is not None
    budget.settle(r, 0.1)
    budget.adjust(r, 5.0)  # settled: nothing left to adjust
    assert budget.status()["reserved"] == pytest.approx(0.2)
    assert budget.status()["spent_in_window"] == pytest.approx(0.1)


def test_spend_rolls_out_of_the_window_exactly_window_s_after_it_was_settled() -> None:
    clock = FakeClock(100.0)
    budget = SpendBudget(1.0, 10.0, clock=clock)
    r = budget.reserve(1.0)
    assert r is not None
    clock.now = 105.0
    budget.settle(r, 1.0)  # recorded at 105, not at 100 when it was reserved
    clock.now = 114.999
    assert budget.reserve(0.01) is None
    clock.now = 115.0
    assert budget.status()["spent_in_window"] == 0
    assert budget.reserve(1.0) is not None


@pytest.mark.parametrize(
    ("ceiling", "window", "field"),
    [(-1.0, 60.0, "ceiling_usd"), (float("nan"), 60.0, "ceiling_usd"), (1.0, 0.0, "window_s"), (1.0, -5, "window_s")],
)
def test_bad_configuration_is_refused_naming_the_argument(ceiling: float, window: float, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SpendBudget(ceiling, window)


def test_negative_or_infinite_amounts_are_refused() -> None:
    budget = SpendBudget(1.0, 60.0)
    with pytest.raises(ValueError, match="USD"):
        budget.reserve(-0.1)
    r = budget.reserve(0.1)
    assert r is not None
    with pytest.raises(ValueError, match="USD"):
        budget.settle(r, float("inf"))
    assert r.open  # a refused settle leaves the reservation as it was


# -- properties ----------------------------------------------------------------------------------------
_amounts = st.floats(min_value=0.0, max_value=0.4, allow_nan=False, allow_infinity=False)
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), _amounts),
        st.tuples(st.just("settle"), st.integers(0, 50), st.floats(0.0, 1.0)),
        st.tuples(st.just("release"), st.integers(0, 50)),
        st.tuples(st.just("tick"), st.floats(0.0, 7.0)),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(ceiling=st.floats(0.0, 2.0), window=st.floats(0.5, 20.0), ops=_ops)
def test_spent_plus_reserved_never_passes_the_ceiling(ceiling: float, window: float, ops: list[tuple]) -> None:
    clock = FakeClock()
    budget = SpendBudget(ceiling, window, clock=clock)
    live: list = []
    settled: list[tuple[float, float]] = []  # (instant, usd): the reference model of the window
    for op in ops:
        if op[0] == "reserve":
            before = budget.status()
            r = budget.reserve(op[1])
            if r is None:
                # refused only when it really would not fit
                assert before["spent_in_window"] + before["reserved"] + op[1] > ceiling - EPS
            else:
                live.append(r)
        elif op[0] == "settle" and live:
            r = live.pop(op[1] % len(live))
            actual = r.usd * op[2]  # actual <= reserved
            budget.settle(r, actual)
            settled.append((clock.now, actual))
        elif op[0] == "release" and live:
            budget.release(live.pop(op[1] % len(live)))
        elif op[0] == "tick":
            clock.now += op[1]
        status = budget.status()
        assert status["spent_in_window"] + status["reserved"] <= ceiling + EPS
        assert status["in_flight"] == len(live)
        assert status["reserved"] == pytest.approx(sum(r.usd for r in live), abs=EPS)
        in_window = sum(usd for t, usd in settled if t > clock.now - window)
        assert status["spent_in_window"] == pytest.approx(in_window, abs=EPS)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.tuples(st.floats(0.0, 30.0), st.floats(0.0, 1.0)), min_size=1, max_size=40),
    window=st.floats(0.1, 10.0),
)
def test_window_rolls_off_with_an_injected_clock(steps: list[tuple[float, float]], window: float) -> None:
    """Each step moves the clock on by a gap, then spends; exactly the spends of the last window_s count."""
    clock = FakeClock(0.0)
    budget = SpendBudget(None, window, clock=clock)
    record: list[tuple[float, float]] = []
    for gap, usd in steps:
        clock.now += gap
        expected = sum(u for t, u in record if t > clock.now - window)
        assert budget.status()["spent_in_window"] == pytest.approx(expected, abs=EPS)
        r = budget.reserve(usd)
        assert r is not None
        budget.settle(r, usd)
        record.append((clock.now, usd))
    clock.now += window * 1.000001
    assert budget.status()["spent_in_window"] == 0


def test_ceiling_holds_for_64_concurrent_requests_on_one_event_loop() -> None:
    """Reservations are taken before the first await, so concurrent requests cannot share the last dollar."""
    ceiling = 1.0
    budget = SpendBudget(ceiling, 60.0)
    rng = random.Random(7)
    peaks: list[float] = []
    outcomes = {"served": 0, "refused": 0}

    async def request(worst: float) -> None:
        await asyncio.sleep(rng.random() * 0.005)
        r = budget.reserve(worst)
        if r is None:
            outcomes["refused"] += 1
            return
        status = budget.status()
        peaks.append(status["spent_in_window"] + status["reserved"])
        await asyncio.sleep(rng.random() * 0.01)  # upstream time: other requests run meanwhile
        if rng.random() < 0.1:
            budget.release(r)
        else:
            budget.settle(r, worst * rng.uniform(0.2, 1.0))
        outcomes["served"] += 1

    async def main() -> None:
        await asyncio.gather(*(request(rng.uniform(0.01, 0.1)) for _ in range(64)))

    asyncio.run(main())
    assert outcomes["served"] + outcomes["refused"] == 64
    assert outcomes["refused"] > 0, "the load was meant to hit the ceiling"
    assert max(peaks) <= ceiling + EPS
    assert budget.status()["spent_in_window"] <= ceiling + EPS
    assert budget.status()["in_flight"] == 0
