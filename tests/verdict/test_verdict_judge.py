"""Verdict sentences, exit codes and JUnit XML, on the synthetic provider-outage run."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gameday.measure.compute import compute_result
from gameday.measure.result import RunResult
from gameday.verdict import exit_code, judge, junit_xml, suite_exit_code
from measure.synthrun import make_plan, make_run

EXPECTATIONS = [
    {"metric": "ttft_p95_s", "phase": "outage", "class": "chat", "max": 0.5},
    {"metric": "fallback_correctness", "phase": "outage", "min": 0.99},
    {"metric": "error_rate", "phase": "baseline", "max": 0.01},
    {"metric": "ttft_p95_s", "phase": "outage", "class": "translate", "max": 2.5},
    {"metric": "peak_spend_per_min_usd", "max_ceiling_ratio": 0.1},
    {"metric": "time_to_detect_s", "phase": "outage", "max": 10, "name": "premium outage detected within 10 s"},
]


def _judged(expectations: list[dict], ceiling: float | None = 2.0, sent: int | None = None) -> RunResult:
    run = make_run(plan=make_plan(expectations, ceiling=ceiling))
    return judge(compute_result(run.plan, run.records, run.events, run.ledger, sent=sent))


@pytest.fixture(scope="module")
def result() -> RunResult:
    return _judged(EXPECTATIONS, sent=300)


def test_failure_above_a_max_names_metric_place_value_and_bound(result: RunResult) -> None:
    v = result.verdicts[0]
    measured = result.value("ttft_p95_s", "outage", "chat")[0]
    assert measured is not None
    assert not v.passed
    assert v.sentence == f"ttft_p95_s in phase outage for class chat was {measured:.3g} s, above the bound 0.5 s"


def test_failure_below_a_min(result: RunResult) -> None:
    v = result.verdicts[1]
    assert not v.passed
    assert v.sentence.startswith("fallback_correctness in phase outage was ")
    assert v.sentence.endswith("%, below the bound 99%")


def test_pass_says_within(result: RunResult) -> None:
    v = result.verdicts[2]
    assert v.passed
    assert v.sentence == "error_rate in phase baseline was 0%, within the bound (max 1%)"


def test_no_data_is_a_failure_that_says_so(result: RunResult) -> None:
    v = result.verdicts[3]
    assert not v.passed
    assert v.measured is None
    assert v.sentence == (
        "ttft_p95_s in phase outage for class translate has no value: no requests of class translate in phase outage"
    )


def test_ceiling_ratio_bound(result: RunResult) -> None:
    v = result.verdicts[4]
    assert not v.passed
    assert "above the bound $0.2/min, 0.1x the ceiling $2/min" in v.sentence
    assert v.sentence.startswith("peak_spend_per_min_usd over the whole run was $")


def test_named_expectation_and_integrity(result: RunResult) -> None:
    assert result.verdicts[5].name == "premium outage detected within 10 s"
    assert result.verdicts[5].passed
    integrity = result.verdicts[-1]
    assert integrity.kind == "integrity"
    assert integrity.passed
    assert integrity.sentence == "300 requests recorded of 300 sent"


def test_ceiling_missing_fails_with_reason() -> None:
    result = _judged([{"metric": "peak_spend_per_min_usd", "max_ceiling_ratio": 1.0}], ceiling=None)
    (v,) = result.verdicts
    assert not v.passed
    assert "the scenario sets no ceiling_usd_per_min" in v.sentence


def test_close_values_get_enough_digits() -> None:
    from gameday.verdict.wording import fmt_pair

    assert fmt_pair("fallback_correctness", 0.98996, 0.99) == ("98.996%", "99%")
    assert fmt_pair("ttft_p95_s", 2.5004, 2.5) == ("2.5004 s", "2.5 s")


def test_exit_codes(result: RunResult) -> None:
    assert exit_code(result) == 1
    passing = _judged([{"metric": "error_rate", "phase": "baseline", "max": 0.5}])
    assert exit_code(passing) == 0
    aborted = passing.model_copy(update={"aborted": True, "abort_reason": "error_rate over the last 10 s ..."})
    assert exit_code(aborted) == 3
    assert suite_exit_code([passing, result]) == 1
    assert suite_exit_code([passing, aborted, result]) == 3
    assert suite_exit_code([passing]) == 0
    assert suite_exit_code([passing], extra_failed=True) == 1


def test_missing_records_fail_integrity() -> None:
    result = _judged([], sent=305)
    (v,) = result.verdicts
    assert not v.passed
    assert v.sentence == "300 requests recorded of 305 sent: 5 missing from requests.jsonl"


def test_junit_xml_parses_back(result: RunResult) -> None:
    root = ET.fromstring(junit_xml([result]))
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "provider-outage"
    cases = suite.findall("testcase")
    assert len(cases) == len(result.verdicts) == int(suite.get("tests", "0"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == int(suite.get("failures", "0")) == sum(not v.passed for v in result.verdicts)
    by_name = {c.get("name"): c for c in cases}
    failure = by_name["ttft_p95_s in outage for translate"].find("failure")
    assert failure is not None
    assert failure.get("message") == result.verdicts[3].sentence
    assert by_name["premium outage detected within 10 s"].find("failure") is None
    assert root.get("failures") == suite.get("failures")


def test_junit_marks_an_abort_as_an_error() -> None:
    base = _judged([{"metric": "error_rate", "phase": "baseline", "max": 0.5}])
    aborted = judge(base.model_copy(update={"aborted": True, "abort_reason": "error_rate too high"}))
    root = ET.fromstring(junit_xml(aborted))
    errors = root.findall(".//error")
    assert len(errors) == 1
    assert errors[0].get("message") == "the run was aborted: error_rate too high"
    assert root.find("testsuite").get("errors") == "1"  # type: ignore[union-attr]


def test_result_round_trips_through_summary_json(result: RunResult, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result.save(tmp_path / "summary.json")
    again = RunResult.load(tmp_path / "summary.json")
    assert again == result
    assert again.plan.expectations[0].workload_class == "chat"
