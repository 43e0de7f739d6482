"""Load shapes are pure functions of the elapsed time: checked over many instants, no sleeping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from gameday.load.shapes import BurstShape, RampShape, Shape, SteadyShape, StepShape

SHAPE: TypeAdapter[Shape] = TypeAdapter(Shape)
levels = st.floats(min_value=0, max_value=10_000, allow_nan=False)
durations = st.floats(min_value=0.01, max_value=10_000, allow_nan=False)
instants = st.floats(min_value=-10, max_value=100_000, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(rate=levels, t=instants)
def test_steady_is_constant(rate: float, t: float) -> None:
    shape = SteadyShape(rate=rate)
    stage = shape.tick(t)
    assert stage is not None
    assert stage.level == rate
    assert shape.tick(t) == stage  # pure: same input, same output


@settings(max_examples=200, deadline=None)
@given(
    start=levels, step=st.floats(min_value=-100, max_value=100), every=durations, steps=st.integers(1, 50), t=instants
)
def test_step_changes_only_at_step_boundaries(start: float, step: float, every: float, steps: int, t: float) -> None:
    shape = StepShape(start=start, step=step, every_s=every, steps=steps)
    level = shape.tick(t).level  # type: ignore[union-attr]
    done = min(steps, int(max(t, 0) // every))
    assert level == max(0.0, start + done * step)
    assert 0 <= level <= shape.peak() + 1e-9
    # Inside one step the level does not move.
    base = done * every
    if done < steps and t >= 0:
        assert shape.tick(base + every * 0.01).level == shape.tick(base + every * 0.99).level  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(a=levels, b=levels, over=durations, t1=instants, t2=instants)
def test_ramp_is_monotonic_between_its_ends(a: float, b: float, over: float, t1: float, t2: float) -> None:
    shape = RampShape.model_validate({"from": a, "to": b, "over_s": over})
    lo, hi = sorted((t1, t2))
    first, second = shape.tick(lo).level, shape.tick(hi).level  # type: ignore[union-attr]
    assert min(a, b) - 1e-6 <= first <= max(a, b) + 1e-6
    assert (second - first) * (b - a) >= -1e-6  # moves toward `to`, never back
    assert shape.tick(over + 1).level == pytest.approx(b)  # type: ignore[union-attr]
    assert shape.tick(0).level == pytest.approx(a)  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(rate=st.floats(min_value=0.1, max_value=1000), factor=st.floats(min_value=0.1, max_value=100),
       at=st.floats(min_value=0, max_value=1000), length=durations, t=instants)  # fmt: skip
def test_burst_multiplies_inside_its_window_only(
    rate: float, factor: float, at: float, length: float, t: float
) -> None:
    shape = BurstShape(rate=rate, factor=factor, at_s=at, for_s=length)
    level = shape.tick(t).level  # type: ignore[union-attr]
    inside = at <= max(t, 0) < at + length
    assert level == pytest.approx(rate * factor if inside else rate)


@settings(max_examples=100, deadline=None)
@given(period=st.floats(min_value=1, max_value=100), share=st.floats(min_value=0.05, max_value=1), n=st.integers(0, 20))
def test_periodic_burst_repeats(period: float, share: float, n: int) -> None:
    shape = BurstShape(rate=10, factor=3, at_s=5, for_s=period * share * 0.99, every_s=period)
    inside = 5 + n * period + period * share * 0.5
    assert shape.tick(inside).level == pytest.approx(30)  # type: ignore[union-attr]
    outside = 5 + n * period + period * (share * 0.99 + (1 - share * 0.99) / 2)
    assert shape.tick(outside).level == pytest.approx(10)  # type: ignore[union-attr]


@settings(max_examples=100, deadline=None)
@given(duration=durations, t=instants)
def test_a_shape_ends_after_its_duration(duration: float, t: float) -> None:
    shape = SteadyShape(rate=5, duration_s=duration)
    assert (shape.tick(t) is None) == (max(t, 0) >= duration)


@settings(max_examples=100, deadline=None)
@given(factor=st.floats(min_value=0.01, max_value=10), k=st.integers(0, 9))
def test_time_scale_stretches_the_shape(factor: float, k: int) -> None:
    shape = StepShape(start=1, step=2, every_s=10, steps=5, duration_s=80)
    scaled = shape.scaled(factor)
    t = k * 10 + 5  # mid-step: far from every boundary
    a, b = shape.tick(t), scaled.tick(t * factor)
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        assert a.level == b.level


def test_shapes_parse_by_kind_and_refuse_unknown_kinds() -> None:
    assert isinstance(SHAPE.validate_python({"kind": "ramp", "from": 1, "to": 9, "over_s": 3}), RampShape)
    with pytest.raises(ValidationError, match=r"unknown shape kind 'sine'\. Valid kinds: steady, step, ramp, burst"):
        SHAPE.validate_python({"kind": "sine", "rate": 3})
    with pytest.raises(ValidationError, match="a shape needs `kind:`"):
        SHAPE.validate_python({"rate": 3})
    with pytest.raises(ValidationError, match="exactly one of `rate`"):
        SHAPE.validate_python({"kind": "steady", "rate": 3, "users": 4})
    with pytest.raises(ValidationError, match="for_s"):
        SHAPE.validate_python({"kind": "burst", "rate": 3, "factor": 2, "at_s": 0, "for_s": 10, "every_s": 5})
