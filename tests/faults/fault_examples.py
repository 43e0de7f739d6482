"""One valid YAML example of every fault kind, shared by the tests."""

from __future__ import annotations

EXAMPLES = {
    "latency": "{kind: latency, provider: premium, latency_ms: 300, jitter_ms: 50, stream: upstream}",
    "outage": "{kind: outage, provider: premium, mode: reset_peer, timeout_ms: 100}",
    "slow_stream": "{kind: slow_stream, provider: premium, mode: slicer, average_size_bytes: 16, delay_us: 5000}",
    "http_errors": "{kind: http_errors, provider: efficient, status: 429, rate: 0.25, retry_after_s: 2}",
    "first_token_delay": "{kind: first_token_delay, provider: premium, delay_s: 2.5}",
    "token_throttle": "{kind: token_throttle, provider: premium, tokens_per_s: 5, model: frontier-large}",
    "stream_cut": "{kind: stream_cut, provider: premium, after_tokens: 10, rate: 0.5}",
    "sse_error": "{kind: sse_error, provider: premium, after_tokens: 3}",
    "stall": "{kind: stall, provider: premium, after_tokens: 3, stall_s: 10}",
    "malformed_chunk": "{kind: malformed_chunk, provider: premium}",
    "truncated_body": "{kind: truncated_body, provider: premium, keep_fraction: 0.3}",
    "price_change": "{kind: price_change, provider: premium, model: frontier-large, factor: 3}",
    "burst": "{kind: burst, factor: 2.5}",
    "malformed": "{kind: malformed, share: 0.3}",
}
