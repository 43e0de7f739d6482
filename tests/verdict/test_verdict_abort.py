"""Live abort_if over a sliding window of finished requests."""

from __future__ import annotations

from gameday.config.expectations import AbortCondition
from gameday.measure.record import RequestRecord
from gameday.verdict import AbortWatcher


def _r(t: float, ok: bool = True, e2e: float = 0.5, task: str = "chat", phase: str = "p") -> RequestRecord:
    if ok:
        return RequestRecord(t=t, phase=phase, task=task, status=200, e2e_s=e2e, ttft_s=0.1, out_tokens=5, model="m")
    return RequestRecord(t=t, phase=phase, task=task, status=503, error="http_5xx", e2e_s=e2e)


def _cond(**kw: object) -> AbortCondition:
    return AbortCondition.model_validate({"metric": "error_rate", "window_s": 10, "max": 0.5, **kw})


def test_fires_when_the_window_breaks_the_bound() -> None:
    w = AbortWatcher([_cond()])
    for i in range(20):
        w.feed(_r(i * 0.5, ok=True, e2e=0.1))
    assert w.check(10.0) is None
    for i in range(20):
        w.feed(_r(10 + i * 0.25, ok=False, e2e=0.1))
    # Window (5.3, 15.3]: 9 ok records (done at 5.6 .. 9.6) and 20 failures -> 20/29.
    reason = w.check(15.3)
    assert reason is not None
    assert reason == "abort_if: error_rate over the last 10 s was 69%, above the bound 50% (29 requests)"
    assert w.check(16.0) == reason  # sticky


def test_old_records_slide_out_of_the_window() -> None:
    w = AbortWatcher([_cond()])
    for i in range(20):
        w.feed(_r(i * 0.1, ok=False, e2e=0.01))
    for i in range(20):
        w.feed(_r(20 + i * 0.1, ok=True, e2e=0.01))
    assert w.check(25.0) is None  # the failures ended 23 s before: outside the 10 s window


def test_min_requests_protects_against_one_early_failure() -> None:
    w = AbortWatcher([_cond(min_requests=5)])
    w.feed(_r(0.0, ok=False))
    assert w.check(1.0) is None


def test_filters_by_class_and_phase_and_watches_latency() -> None:
    w = AbortWatcher(
        [
            AbortCondition.model_validate(
                {"metric": "e2e_p95_s", "window_s": 5, "max": 2.0, "class": "summarize", "min_requests": 3}
            )
        ]
    )
    for i in range(10):
        w.feed(_r(i * 0.1, e2e=5.0, task="chat"))
    assert w.check(6.0) is None  # slow, but not the watched class
    for i in range(3):
        w.feed(_r(1 + i * 0.1, e2e=3.0, task="summarize"))
    reason = w.check(6.0)
    assert (
        reason == "abort_if: e2e_p95_s for class summarize over the last 5 s was 3 s, above the bound 2 s (3 requests)"
    )


def test_min_bound_and_no_conditions() -> None:
    w = AbortWatcher([AbortCondition.model_validate({"metric": "task_success_rate", "min": 0.9, "min_requests": 4})])
    for i in range(4):
        w.feed(_r(i, ok=i != 0))
    assert w.check(4.0) == ("abort_if: task_success_rate over the last 10 s was 75%, below the bound 90% (4 requests)")
    idle = AbortWatcher([])
    idle.feed(_r(0, ok=False))
    assert idle.check(1.0) is None
