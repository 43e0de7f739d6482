"""Metrics on a small hand-built run whose every answer is worked out by hand in the comments."""

from __future__ import annotations

import pytest

from gameday.measure.bill import BillLedger, BillSnapshot, ModelBill, ProviderBill
from gameday.measure.compute import compute_result
from gameday.measure.events import Event
from gameday.measure.plan import FaultPlan, PhasePlan, RunPlan
from gameday.measure.record import RequestRecord as R
from gameday.measure.result import RunResult

PLAN = RunPlan(
    scenario="hand",
    phases=[
        PhasePlan(name="base", duration_s=10),
        PhasePlan(
            name="fault",
            duration_s=10,
            faults=[FaultPlan(kind="outage", target="p1")],
            allowed_models={"chat": ["m1", "m2"], "chat@high": ["m1"]},
        ),
        PhasePlan(name="after", duration_s=10),
    ],
    allowed_models={"chat": ["m1"], "chat@high": ["m1"]},
    ceiling_usd_per_min=1.0,
)

RECORDS = [
    # base: r1, r2 served by m1; r3 a 500; r4 a malformed request refused with a 400 (not an error).
    R(
        t=0,
        phase="base",
        task="chat",
        status=200,
        ttft_s=0.1,
        e2e_s=1.0,
        out_tokens=10,
        model="m1",
        provider="p1",
        cost_usd=0.01,
    ),
    R(
        t=1,
        phase="base",
        task="chat",
        tier="high",
        status=200,
        ttft_s=0.2,
        e2e_s=2.0,
        out_tokens=10,
        model="m1",
        provider="p1",
        cost_usd=0.01,
    ),
    R(t=2, phase="base", task="chat", status=500, error="http_5xx", e2e_s=0.5),
    R(t=3, phase="base", task="chat", status=400, error="http_4xx", e2e_s=0.05, expected_4xx=True),
    # fault: r5 a 502; r6-r8 fallbacks to m2 on p2 (r7 is chat@high: m2 not allowed; r8 has empty content);
    # r9 a malformed request that got a 5xx (mishandled, and an error).
    R(t=10, phase="fault", task="chat", status=502, error="http_5xx", e2e_s=0.5),
    R(
        t=11,
        phase="fault",
        task="chat",
        status=200,
        ttft_s=0.3,
        e2e_s=1.5,
        out_tokens=20,
        model="m2",
        provider="p2",
        fallback=True,
        cost_usd=0.002,
    ),
    R(
        t=12,
        phase="fault",
        task="chat",
        tier="high",
        status=200,
        ttft_s=0.3,
        e2e_s=1.0,
        out_tokens=5,
        model="m2",
        provider="p2",
        fallback=True,
        cost_usd=0.001,
    ),
    R(
        t=13,
        phase="fault",
        task="chat",
        status=200,
        ttft_s=0.1,
        e2e_s=0.2,
        out_tokens=0,
        model="m2",
        provider="p2",
        fallback=True,
    ),
    R(t=14, phase="fault", task="chat", status=502, error="http_5xx", e2e_s=0.05, expected_4xx=True),
    # after: every 0.5 s; slow (5 s) until t=23, then 1 s.
    *(
        R(
            t=20 + k * 0.5,
            phase="after",
            task="chat",
            status=200,
            ttft_s=0.1,
            e2e_s=5.0 if 20 + k * 0.5 < 23 else 1.0,
            out_tokens=4,
            model="m1",
            provider="p1",
        )
        for k in range(20)
    ),
]

EVENTS = [
    Event(t=0, event="phase_start", phase="base"),
    Event(t=10, event="phase_end", phase="base"),
    Event(t=10, event="phase_start", phase="fault"),
    Event(t=10, event="fault_inject", phase="fault", fault="outage", target="p1"),
    Event(t=20, event="fault_remove", phase="fault", fault="outage", target="p1"),
    Event(t=20, event="phase_end", phase="fault"),
    Event(t=20, event="phase_start", phase="after"),
    Event(t=30, event="phase_end", phase="after"),
]


def _snap(t: float, p1: float, p2: float) -> BillSnapshot:
    return BillSnapshot(
        t=t,
        bills={
            "p1": ProviderBill(provider="p1", models={"m1": ModelBill(usd=p1)}, total_usd=p1),
            "p2": ProviderBill(provider="p2", models={"m2": ModelBill(usd=p2)}, total_usd=p2),
        },
    )


LEDGER = BillLedger(snapshots=[_snap(0, 0, 0), _snap(10, 0.02, 0), _snap(20, 0.02, 0.0033), _snap(30, 0.07, 0.0033)])


@pytest.fixture(scope="module")
def result() -> RunResult:
    return compute_result(PLAN, RECORDS, EVENTS, LEDGER, sent=len(RECORDS) + 1)


def _v(result: RunResult, metric: str, phase: str | None = None, cls: str | None = None) -> float | None:
    return result.value(metric, phase, cls)[0]


def test_baseline_phase_counts_rates_and_latency(result: RunResult) -> None:
    assert _v(result, "requests", "base") == 4
    assert _v(result, "error_rate", "base") == pytest.approx(1 / 4)  # r3 only; r4's 400 was expected
    assert _v(result, "task_success_rate", "base") == pytest.approx(3 / 4)  # r1, r2, r4
    assert _v(result, "malformed_handling_rate", "base") == 1.0
    assert _v(result, "fallback_correctness", "base") == 1.0
    assert _v(result, "ttft_p50_s", "base") == pytest.approx(0.1, rel=1e-3)  # rank round(0.5*2)=1 of [.1, .2]
    assert _v(result, "e2e_p95_s", "base") == pytest.approx(2.0, rel=1e-3)  # r4 (malformed) left out
    assert _v(result, "time_to_useful_answer_p50_s", "base") == pytest.approx(1.0, rel=1e-3)


def test_fault_phase_metrics(result: RunResult) -> None:
    assert _v(result, "requests", "fault") == 5
    assert _v(result, "error_rate", "fault") == pytest.approx(2 / 5)  # r5, r9
    assert _v(result, "error_rate_http_5xx", "fault") == pytest.approx(2 / 5)
    assert _v(result, "error_rate_timeout", "fault") == 0.0
    assert _v(result, "fallback_rate", "fault") == pytest.approx(3 / 5)
    # Served: r6, r7, r8. r7 is chat@high served by m2, which the phase allows for chat but not chat@high.
    assert _v(result, "fallback_correctness", "fault") == pytest.approx(2 / 3)
    assert _v(result, "task_success_rate", "fault") == pytest.approx(2 / 5)  # r6, r7 (r8 empty, r9 a 5xx)
    assert _v(result, "malformed_handling_rate", "fault") == 0.0
    assert _v(result, "throughput_rps", "fault") == pytest.approx(0.5)
    assert _v(result, "success_rps", "fault") == pytest.approx(0.2)
    assert _v(result, "tokens_per_s", "fault") == pytest.approx(2.5)  # (20 + 5 + 0) / 10 s
    assert _v(result, "claimed_spend_usd", "fault") == pytest.approx(0.003)
    fault = result.slice("fault")
    assert fault is not None
    assert fault.overall.errors_by_kind == {"http_5xx": 2}
    assert fault.overall.served_by == {"p2/m2": 3}


def test_bill_metrics(result: RunResult) -> None:
    assert _v(result, "spend_usd", "fault") == pytest.approx(0.0033)
    assert _v(result, "spend_per_min_usd", "fault") == pytest.approx(0.0033 / 10 * 60)
    assert _v(result, "peak_spend_per_min_usd", "fault") == pytest.approx(0.0033 / 10 * 60)  # 10 s < 60 s window
    assert _v(result, "claim_error_ratio", "fault") == pytest.approx((0.003 - 0.0033) / 0.0033)
    assert _v(result, "cost_per_success_usd", "fault") == pytest.approx(0.0033 / 2)
    assert _v(result, "cost_per_success_usd", "fault", "chat") == pytest.approx(0.0033 / 2)  # chat claimed it all
    assert _v(result, "claim_error_ratio", "base") == pytest.approx(0.0)
    assert _v(result, "spend_usd") == pytest.approx(0.0733)
    after = result.slice("after")
    assert after is not None
    assert after.overall.get("claim_error_ratio") is None
    assert "claimed no cost" in after.overall.why_missing("claim_error_ratio")
    assert result.slice("fault").spend_by_model == {"p2/m2": pytest.approx(0.0033)}  # type: ignore[union-attr]


def test_time_to_detect_and_recover(result: RunResult) -> None:
    (obs,) = result.faults
    # First steered answer: r6 (fallback), sent at 11, done at 12.5; injected at 10.
    assert obs.time_to_detect_s == pytest.approx(2.5)
    assert obs.steered == 3
    assert obs.steered_to == {"p2/m2": 3}
    # Baseline E2E P95 = 2.0 s (rank 3 of [0.5, 1, 2]); windows of 10/4 = 2.5 s hold 5 records; the first
    # window with all five at 1 s starts at 23.
    assert obs.recovery_window_s == pytest.approx(2.5)
    assert obs.time_to_recover_s == pytest.approx(3.0)
    assert _v(result, "time_to_detect_s", "fault") == pytest.approx(2.5)
    assert _v(result, "time_to_recover_s") == pytest.approx(3.0)
    base = result.slice("base")
    assert base is not None
    assert base.overall.get("time_to_detect_s") is None
    assert base.overall.why_missing("time_to_detect_s") == "no fault was injected in phase base"


def test_sent_versus_recorded(result: RunResult) -> None:
    assert result.integrity.recorded == len(RECORDS)
    assert result.integrity.matches is False
    assert _v(result, "unrecorded_requests") == 1


def test_empty_class_and_phase_say_why(result: RunResult) -> None:
    value, why = result.value("ttft_p95_s", "fault", "summarize")
    assert value is None
    assert why == "no requests of class summarize in phase fault"
    value, why = result.value("error_rate", "nowhere")
    assert value is None
    assert why == "phase nowhere never ran"


def test_no_detection_when_nothing_is_steered() -> None:
    calm = [r for r in RECORDS if not r.fallback]
    result = compute_result(PLAN, calm, EVENTS, LEDGER)
    (obs,) = result.faults
    assert obs.time_to_detect_s is None
    assert obs.detect_note.startswith("not observed")
    assert result.value("time_to_detect_s", "fault")[1].startswith("phase fault: not observed")


def test_coordinated_omission_correction() -> None:
    late = R(
        t=5.0, intended_t=4.0, phase="base", task="chat", status=200, ttft_s=0.1, e2e_s=0.5, out_tokens=1, model="m1"
    )
    assert late.e2e_corrected_s == pytest.approx(1.5)
    assert late.ttft_corrected_s == pytest.approx(1.1)
    result = compute_result(PLAN, [late], [], None)
    assert result.value("e2e_p50_s", "base")[0] == pytest.approx(1.5, rel=1e-3)


def test_the_claim_is_held_against_the_bill_of_the_requests_that_completed_in_the_slice() -> None:
    # One request sent at 9 s in phase a, answered at 12 s in phase b: the provider billed it in b
    # (bills count at completion), so b's claim must include it and a's must not.
    plan = RunPlan(scenario="straddle", phases=[PhasePlan(name="a", duration_s=10), PhasePlan(name="b", duration_s=10)])
    records = [
        R(t=1, phase="a", task="chat", status=200, ttft_s=0.1, e2e_s=1.0, out_tokens=5, model="m", cost_usd=0.02),
        R(t=9, phase="a", task="chat", status=200, ttft_s=0.1, e2e_s=3.0, out_tokens=5, model="m", cost_usd=0.05),
        R(t=13, phase="b", task="chat", status=200, ttft_s=0.1, e2e_s=1.0, out_tokens=5, model="m", cost_usd=0.01),
    ]
    events = [
        Event(t=0.0, event="phase_start", phase="a"),
        Event(t=10.0, event="phase_end", phase="a"),
        Event(t=10.0, event="phase_start", phase="b"),
        Event(t=20.0, event="phase_end", phase="b"),
    ]
    ledger = BillLedger()
    for t, usd in ((0.0, 0.0), (10.0, 0.02), (20.0, 0.08)):
        bill = ProviderBill(provider="p", models={"m": ModelBill(usd=usd)}, total_usd=usd)
        ledger.add(BillSnapshot(t=t, wall=1000 + t, bills={"p": bill}))
    result = compute_result(plan, records, events, ledger)
    assert _v(result, "claimed_spend_usd", "a") == pytest.approx(0.07)  # by send time, as the claim was made
    assert _v(result, "claim_error_ratio", "a") == pytest.approx(0.0)  # 0.02 completed in a, 0.02 billed
    assert _v(result, "claim_error_ratio", "b") == pytest.approx(0.0)  # 0.05 + 0.01 completed in b, 0.06 billed
    assert _v(result, "claim_error_ratio") == pytest.approx(0.0)
