"""Metrics of one slice of records (a phase or the run, all classes or one) from records and histograms.

Populations, so every reader agrees:
- latency percentiles leave malformed-corpus requests out (a quick 4xx would flatter them); TTFT
  over requests that got a first token, E2E over every request that ended (errors included: a slow
  503 is latency users feel), time to useful answer over successful tasks only. Under an open
  arrival model latencies run from the intended send time (coordinated omission corrected).
- error_rate: any error or non-2xx, except the 4xx a malformed request should get.
- fallback_correctness: served requests (2xx with a model name) whose class has allowed models in
  the scenario; failed requests are not counted here, they are in error_rate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from gameday.config.expectations import METRICS
from gameday.measure.histograms import HistogramSet, Series, series_key
from gameday.measure.plan import RunPlan
from gameday.measure.record import ERROR_KINDS, RequestRecord
from gameday.measure.result import Metrics

__all__ = ["error_kind", "record_metrics", "where_text"]

_LATENCY: tuple[tuple[Series, str, tuple[float, ...]], ...] = (
    (Series.TTFT, "ttft", (50.0, 95.0, 99.0)),
    (Series.E2E, "e2e", (50.0, 95.0, 99.0)),
    (Series.ITL, "itl", (50.0, 95.0)),
    (Series.USEFUL, "time_to_useful_answer", (50.0, 95.0)),
)
_WHY_EMPTY = {
    Series.TTFT: "no request {where} got a first token",
    Series.E2E: "no request {where} ended with a measured latency",
    Series.ITL: "no streamed answer {where} had two tokens or more",
    Series.USEFUL: "no request {where} succeeded",
}


def where_text(phase: str | None, workload_class: str | None) -> str:
    """`of class chat in phase outage`, `in phase outage`, `of class chat over the run`, `over the run`."""
    cls = f"of class {workload_class} " if workload_class else ""
    return f"{cls}{'in phase ' + phase if phase else 'over the run'}"


def error_kind(record: RequestRecord) -> str:
    """The record's error kind, or one derived from its status when the load did not name one."""
    if record.error is not None:
        return record.error
    if record.status == 0:
        return "connect"
    if record.is_4xx:
        return "http_4xx"
    if record.status >= 500:
        return "http_5xx"
    return "bad_body"


def record_metrics(
    records: Sequence[RequestRecord],
    hists: HistogramSet,
    plan: RunPlan,
    duration_s: float,
    phase: str | None,
    workload_class: str | None = None,
) -> Metrics:
    """Every record-derived metric of the slice; bill and fault metrics are added by the caller."""
    where = where_text(phase, workload_class)
    m = Metrics()
    n = len(records)
    m.values["requests"] = float(n)
    if n == 0:
        m.values["successes"] = 0.0
        m.values["errors"] = 0.0
        for name in _record_metric_names():
            if name not in m.values:
                m.values[name] = None
                m.notes[name] = f"no requests {where}"
        return m

    failed = [r for r in records if r.failed]
    kinds = Counter(error_kind(r) for r in failed)
    m.errors_by_kind = dict(sorted(kinds.items()))
    successes = sum(1 for r in records if r.succeeded)
    m.values["successes"] = float(successes)
    m.values["errors"] = float(len(failed))
    m.values["error_rate"] = len(failed) / n
    for kind in ERROR_KINDS:
        m.values[f"error_rate_{kind}"] = kinds.get(kind, 0) / n
    m.values["fallback_rate"] = sum(1 for r in records if r.fallback) / n
    m.values["task_success_rate"] = successes / n
    m.served_by = dict(
        sorted(Counter(f"{r.provider or '?'}/{r.model}" for r in records if r.served).items(), key=lambda kv: -kv[1])
    )

    judged = correct = 0
    served = 0
    for r in records:
        if not r.served:
            continue
        served += 1
        allowed = plan.allowed_for(r.phase, r.task, r.tier)
        if allowed is None:
            continue
        judged += 1
        correct += r.model in allowed
    if judged:
        m.values["fallback_correctness"] = correct / judged
    else:
        m.values["fallback_correctness"] = None
        m.notes["fallback_correctness"] = (
            f"no request {where} was served" if not served else f"the scenario allows no models for the classes {where}"
        )

    malformed = [r for r in records if r.expected_4xx]
    if malformed:
        m.values["malformed_handling_rate"] = sum(1 for r in malformed if r.malformed_handled) / len(malformed)
    else:
        m.values["malformed_handling_rate"] = None
        m.notes["malformed_handling_rate"] = f"no malformed requests {where}"

    if duration_s > 0:
        m.values["throughput_rps"] = n / duration_s
        m.values["success_rps"] = successes / duration_s
        m.values["tokens_per_s"] = sum(r.out_tokens for r in records if r.is_2xx) / duration_s
    else:
        for name in ("throughput_rps", "success_rps", "tokens_per_s"):
            m.values[name] = None
            m.notes[name] = f"the slice {where} lasted no time"

    claims = [r.cost_usd for r in records if r.cost_usd is not None]
    if claims:
        m.values["claimed_spend_usd"] = sum(claims)
        m.values["claimed_spend_per_min_usd"] = sum(claims) / duration_s * 60.0 if duration_s > 0 else None
    else:
        for name in ("claimed_spend_usd", "claimed_spend_per_min_usd"):
            m.values[name] = None
            m.notes[name] = f"the gateway claimed no cost for any request {where}"

    for series, prefix, pcts in _LATENCY:
        key = series_key(series, "class", workload_class) if workload_class else series_key(series)
        values = hists.percentiles(key, pcts)
        for p in pcts:
            name = f"{prefix}_p{int(p)}_s"
            m.values[name] = None if values is None else values[p]
            if values is None:
                m.notes[name] = _WHY_EMPTY[series].format(where=where)
    return m


def _record_metric_names() -> list[str]:
    return [name for name, info in METRICS.items() if info.scope == "records"]
