"""`/metrics` of a mock: requests, tokens, spend, errors by kind, requests running and waiting.

The `openai` flavor uses our own `gameday_mock_*` names; the `vllm` flavor uses vLLM's names and
labels (`vllm:num_requests_running{model_name=...,engine="0"}`...) so dashboards and alerts written
for a real vLLM read the mock unchanged. Both flavors also keep `gameday_mock_requests_total`,
`gameday_mock_errors_total` and `gameday_mock_spend_usd_total` (vLLM has no errors by kind).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from gameday.mocks.controls import CapacityBook
from gameday.promtext import Counter, Histogram, LabelValues, Registry

__all__ = ["METRIC_NAMES", "MockMetrics"]

# vLLM's own buckets, so histogram_quantile over the mock and a real vLLM compare like for like.
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
                40.0, 80.0, 160.0, 640.0, 2560.0)  # fmt: skip
E2E_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
               480.0, 960.0, 1920.0, 7680.0)  # fmt: skip
ITL_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
               80.0)  # fmt: skip

METRIC_NAMES: dict[str, dict[str, str]] = {
    "openai": {
        "running": "gameday_mock_requests_running",
        "waiting": "gameday_mock_requests_waiting",
        "prompt_tokens": "gameday_mock_prompt_tokens_total",
        "output_tokens": "gameday_mock_completion_tokens_total",
        "success": "gameday_mock_completions_total",
        "ttft": "gameday_mock_time_to_first_token_seconds",
        "itl": "gameday_mock_inter_token_latency_seconds",
        "e2e": "gameday_mock_e2e_request_latency_seconds",
        "queue": "gameday_mock_queue_time_seconds",
    },
    "vllm": {
        "running": "vllm:num_requests_running",
        "waiting": "vllm:num_requests_waiting",
        "prompt_tokens": "vllm:prompt_tokens_total",
        "output_tokens": "vllm:generation_tokens_total",
        "success": "vllm:request_success_total",
        "ttft": "vllm:time_to_first_token_seconds",
        "itl": "vllm:inter_token_latency_seconds",
        "e2e": "vllm:e2e_request_latency_seconds",
        "queue": "vllm:request_queue_time_seconds",
    },
}


class MockMetrics:
    """The mock's metrics; running, waiting and KV usage are read from the live state at scrape time."""

    def __init__(self, flavor: Literal["openai", "vllm"], capacity: CapacityBook, kv_cache_tokens: dict[str, int]):
        self.flavor = flavor
        self.capacity = capacity
        self.kv_cache_tokens = kv_cache_tokens
        self.kv_tokens: dict[str, int] = dict.fromkeys(kv_cache_tokens, 0)
        self.registry = reg = Registry()
        names = METRIC_NAMES[flavor]
        lab: tuple[str, ...] = ("model_name", "engine") if flavor == "vllm" else ("model",)
        reg.gauge(names["running"], "Requests generating now.", lab, self._read_running)
        reg.gauge(names["waiting"], "Requests waiting for a slot.", lab, self._read_waiting)
        if flavor == "vllm":
            reg.gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", lab, self._read_kv)
            reg.gauge("vllm:gpu_cache_usage_perc", "Alias of vllm:kv_cache_usage_perc (vLLM before 0.10).", lab,
                      self._read_kv)  # fmt: skip
        self.prompt_tokens: Counter = reg.counter(names["prompt_tokens"], "Prompt tokens processed.", lab)
        self.output_tokens: Counter = reg.counter(names["output_tokens"], "Generated tokens sent.", lab)
        self.success: Counter = reg.counter(names["success"], "Requests finished.", (*lab, "finished_reason"))
        self.ttft: Histogram = reg.histogram(names["ttft"], "Time to first token.", TTFT_BUCKETS, lab)
        self.itl: Histogram = reg.histogram(names["itl"], "Inter-token latency.", ITL_BUCKETS, lab)
        self.e2e: Histogram = reg.histogram(names["e2e"], "End to end request latency.", E2E_BUCKETS, lab)
        self.queue: Histogram = reg.histogram(names["queue"], "Time spent waiting for a slot.", E2E_BUCKETS, lab)
        self.requests: Counter = reg.counter("gameday_mock_requests_total", "Requests answered, by status.",
                                             (*lab, "status"))  # fmt: skip
        self.errors: Counter = reg.counter("gameday_mock_errors_total", "Errors by kind.", (*lab, "kind"))
        self.spend: Counter = reg.counter("gameday_mock_spend_usd_total", "USD billed.", lab)

    def label(self, model: str) -> tuple[str, ...]:
        return (model, "0") if self.flavor == "vllm" else (model,)

    def _read_running(self) -> Iterable[tuple[LabelValues, float]]:
        return [(self.label(m), float(p.running)) for m, p in sorted(self.capacity.pools.items())]

    def _read_waiting(self) -> Iterable[tuple[LabelValues, float]]:
        return [(self.label(m), float(p.waiting)) for m, p in sorted(self.capacity.pools.items())]

    def _read_kv(self) -> Iterable[tuple[LabelValues, float]]:
        return [(self.label(m), min(held / self.kv_cache_tokens[m], 1.0)) for m, held in sorted(self.kv_tokens.items())]

    def render(self) -> str:
        return self.registry.render()
