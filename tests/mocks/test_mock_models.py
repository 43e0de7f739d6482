"""The pure models behind the mock: latency fits, load factors, lengths, tokens, text, buckets, slots."""

from __future__ import annotations

import asyncio
import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gameday.config.profile import Capacity, LatencyQuantiles, OutputTokens, RateLimits
from gameday.mocks.latency import LogNormal, first_token_s, per_token_factor
from gameday.mocks.lengths import output_length
from gameday.mocks.ratelimit import RateLimiter
from gameday.mocks.slots import Overloaded, SlotPool
from gameday.mocks.text import generate_tokens
from gameday.mocks.tokens import count_messages, count_text


def test_lognormal_fit_reproduces_both_quantiles() -> None:
    dist = LogNormal.from_quantiles(LatencyQuantiles(p50_s=0.6, p95_s=1.5))
    rng = random.Random(1)
    samples = sorted(dist.sample(rng) for _ in range(20_000))
    assert statistics.median(samples) == pytest.approx(0.6, rel=0.04)
    assert samples[int(0.95 * len(samples))] == pytest.approx(1.5, rel=0.05)
    fixed = LogNormal.from_quantiles(LatencyQuantiles(p50_s=0.2, p95_s=0.2))
    assert fixed.sample(rng) == pytest.approx(0.2)


def test_per_token_factor_grows_with_the_batch_and_faster_past_the_knee() -> None:
    cap = Capacity(max_concurrency=512, batching_slowdown=2.0, knee=128, past_knee_exponent=1.75)
    assert per_token_factor(cap, 0) == per_token_factor(cap, 1) == pytest.approx(1 + 2 / 128)
    assert per_token_factor(cap, 64) == pytest.approx(2.0)
    assert per_token_factor(cap, 128) == pytest.approx(3.0)
    assert per_token_factor(cap, 256) == pytest.approx(3.0 * 2**1.75)
    plain = Capacity(max_concurrency=10, batching_slowdown=0.5)
    assert per_token_factor(plain, 10) == pytest.approx(1.5)
    assert per_token_factor(plain, 2, slots=2) == pytest.approx(1.5)  # slots cut to 2 by the admin API: full at 2


def test_first_token_adds_prefill_and_contention() -> None:
    cap = Capacity(max_concurrency=8, contention_s=0.01, prefill_s_per_1k_tokens=0.1)
    assert first_token_s(0.2, cap, 1, 0) == pytest.approx(0.2)
    assert first_token_s(0.2, cap, 5, 2000) == pytest.approx(0.2 + 0.2 + 0.04)


@given(st.integers(0, 10_000), st.integers(1, 500) | st.none(), st.integers(0, 1000))
def test_output_length_respects_bounds_max_tokens_and_room(seed: int, max_tokens: int | None, room: int) -> None:
    spec = OutputTokens(mean=100, sd=80, min=5, max=300)
    n, finish = output_length(spec, random.Random(seed), max_tokens, room)
    limit = min(room, max_tokens if max_tokens is not None else room)
    assert 0 <= n <= limit
    assert n <= 300
    if finish == "stop":
        assert n >= 5
    else:
        assert n == limit


def test_token_counting_is_four_characters_a_token_plus_framing() -> None:
    assert count_text("") == 0
    assert count_text("abcd") == 1
    assert count_text("abcde") == 2
    assert count_messages(["hello there"]) == 3 + 3 + 3
    assert count_messages(["a" * 400, "b" * 40]) == 100 + 10 + 2 * 3 + 3


@given(st.integers(0, 2**32), st.integers(0, 300))
def test_generated_text_reads_back_as_the_same_token_count(seed: int, count: int) -> None:
    tokens = generate_tokens(random.Random(seed), count)
    assert len(tokens) == count
    text = "".join(tokens)
    assert count_text(text) == count
    assert generate_tokens(random.Random(seed), count) == tokens


def test_token_bucket_refuses_then_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimits(requests_per_minute=2, tokens_per_minute=1000), lambda: now[0])
    assert limiter.admit(100) is None
    assert limiter.admit(100) is None
    refused = limiter.admit(100)
    assert refused is not None
    assert refused.limit_name == "requests"
    assert refused.retry_after_s == pytest.approx(30.0)
    now[0] = 30.0
    assert limiter.admit(100) is None
    too_big = limiter.admit(5000)
    assert too_big is not None
    assert too_big.too_large
    tokens_only = RateLimiter(RateLimits(tokens_per_minute=1000), lambda: now[0])
    assert tokens_only.admit(600) is None
    refused = tokens_only.admit(600)
    assert refused is not None
    assert refused.limit_name == "tokens"
    assert refused.retry_after_s == pytest.approx(12.0)  # 200 more tokens at 1000 a minute


def test_slot_pool_queues_fifo_and_refuses_beyond_the_queue() -> None:
    async def scenario() -> list[str]:
        pool = SlotPool(max_concurrency=1, max_queue=2)
        order: list[str] = []
        await pool.acquire()

        async def waiter(name: str) -> None:
            await pool.acquire()
            order.append(name)

        tasks = [asyncio.create_task(waiter(n)) for n in ("a", "b")]
        await asyncio.sleep(0)
        assert (pool.running, pool.waiting) == (1, 2)
        with pytest.raises(Overloaded):
            await pool.acquire()
        pool.release()
        await asyncio.sleep(0)
        pool.release()
        await asyncio.gather(*tasks)
        pool.resize(3, 2)
        await pool.acquire()
        assert pool.running == 2
        return order

    assert asyncio.run(scenario()) == ["a", "b"]


def test_a_waiter_that_gives_up_leaves_the_queue() -> None:
    async def scenario() -> None:
        pool = SlotPool(max_concurrency=1, max_queue=5)
        await pool.acquire()
        gone = asyncio.create_task(pool.acquire())
        await asyncio.sleep(0)
        assert pool.waiting == 1
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert pool.waiting == 0
        pool.release()
        assert pool.running == 0

    asyncio.run(scenario())
