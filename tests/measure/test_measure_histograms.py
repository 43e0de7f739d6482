"""HDR histograms: merging equals recording the union; percentiles stay within HDR precision."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.measure.detect import nearest_rank
from gameday.measure.histograms import HistogramSet, load_histograms, save_histograms, to_us

seconds = st.floats(min_value=1e-6, max_value=600.0, allow_nan=False, allow_infinity=False)
samples = st.lists(seconds, min_size=1, max_size=300)
percentile = st.sampled_from([0.1, 1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0])


def _hset(values: list[float]) -> HistogramSet:
    h = HistogramSet()
    for v in values:
        h.record("e2e", v)
    return h


@settings(max_examples=60, deadline=None)
@given(a=samples, b=samples)
def test_merge_of_encoded_histograms_equals_histogram_of_the_union(a: list[float], b: list[float]) -> None:
    # Workers encode, the master decodes and adds: the result must be what one process would have seen.
    merged = HistogramSet.decode(_hset(a).encode()).add(HistogramSet.decode(_hset(b).encode()))
    union = _hset(a + b)
    assert merged.count("e2e") == len(a) + len(b)
    for p in (1.0, 50.0, 90.0, 95.0, 99.0, 100.0):
        assert merged.percentiles("e2e", [p]) == union.percentiles("e2e", [p])
    assert merged.histograms["e2e"].get_min_value() == union.histograms["e2e"].get_min_value()
    assert merged.histograms["e2e"].get_max_value() == union.histograms["e2e"].get_max_value()


@settings(max_examples=80, deadline=None)
@given(values=samples, p=percentile)
def test_percentiles_within_hdr_precision_of_exact(values: list[float], p: float) -> None:
    h = _hset(values)
    got = h.percentiles("e2e", [p])
    assert got is not None
    exact_us = nearest_rank([to_us(v) for v in values], p)
    got_us = got[p] * 1_000_000
    # 3 significant digits: the reported value is the top of the bucket holding the exact one.
    assert abs(got_us - exact_us) <= max(1.0, exact_us * 2e-3)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(min_value=1, max_value=2000), min_size=1, max_size=200), p=percentile)
def test_small_values_are_exact(values: list[int], p: float) -> None:
    # Below 2048 us every microsecond has its own bucket at 3 significant digits: no rounding at all.
    h = HistogramSet()
    for v in values:
        h.record("ttft", v / 1_000_000)
    got = h.percentiles("ttft", [p])
    assert got is not None
    assert round(got[p] * 1_000_000) == nearest_rank(values, p)


def test_out_of_range_values_are_clamped_not_lost() -> None:
    h = HistogramSet()
    h.record("e2e", 10_000.0)  # beyond 10 minutes
    h.record("e2e", 0.0)
    assert h.count("e2e") == 2
    got = h.percentiles("e2e", [100.0])
    assert got is not None
    assert 599.0 < got[100.0] < 601.0


def test_empty_series_has_no_percentiles() -> None:
    assert HistogramSet().percentiles("e2e") is None


def test_save_and_load_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sets = {"outage": _hset([0.1, 0.2, 0.3]), "run": _hset([0.1, 0.2, 0.3, 4.0])}
    paths = save_histograms(tmp_path / "histograms", sets)
    assert sorted(p.name for p in paths) == ["outage.json", "run.json"]
    loaded = load_histograms(tmp_path / "histograms")
    assert loaded["run"].percentiles("e2e") == sets["run"].percentiles("e2e")
