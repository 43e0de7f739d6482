"""The price book against a real `/pricing` server on an ephemeral loopback port."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.gateway.prices import STALE_AFTER_POLLS, FeedError, Price, PriceBook, UnknownPrice, parse_feed

STATIC = {
    ("premium", "frontier-large"): (3.0, 15.0),
    ("premium", "frontier-alt"): (2.5, 10.0),
    ("efficient", "swift-mini"): (0.15, 0.6),
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FeedServer:
    """A provider's `/pricing` feed whose answers the test changes: prices, or a failure."""

    def __init__(self) -> None:
        self.models: dict[str, dict[str, Any]] = {"frontier-large": {"input": 3.0, "output": 15.0}}
        self.status = 200
        self.raw: bytes | None = None  # when set, sent as the body instead of the JSON
        self.polls = 0
        self.url = ""

    async def pricing(self, request: web.Request) -> web.StreamResponse:
        self.polls += 1
        if self.raw is not None:
            return web.Response(body=self.raw, content_type="application/json")
        if self.status != 200:
            return web.json_response({"error": {"message": "down"}}, status=self.status)
        return web.json_response(
            {
                "provider": "premium",
                "currency": "USD",
                "unit": "per_million_tokens",
                "models": self.models,
                "updated_at": "2024-01-01T00:00:00Z",
            }
        )


@asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    feed = FeedServer()
    app = web.Application()
    app.router.add_get("/pricing", feed.pricing)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    feed.url = f"http://127.0.0.1:{port}"
    try:
        yield feed
    finally:
        await runner.cleanup()


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout=30))


async def eventually(condition: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_feed_prices_win_over_static_ones_and_unlisted_models_fall_back_to_static() -> None:
    async def main() -> None:
        async with feed_server() as feed:
            feed.models = {"frontier-large": {"input": 4.0, "output": 20.0}, "frontier-new": {"input": 1, "output": 2}}
            book = PriceBook(STATIC, {"premium": feed.url}, refresh_s=60.0)
            await book.start()
            try:
                assert book.price("premium", "frontier-large") == Price(4.0, 20.0, stale=False, source="feed")
                assert book.price("premium", "frontier-new") == Price(1.0, 2.0, stale=False, source="feed")
                # not in the feed: the static price, flagged stale
                assert book.price("premium", "frontier-alt") == Price(2.5, 10.0, stale=True, source="static")
                # no feed for this provider at all
                assert book.price("efficient", "swift-mini") == Price(0.15, 0.6, stale=True, source="static")
                with pytest.raises(UnknownPrice, match=r"efficient/frontier-large.*static price"):
                    book.price("efficient", "frontier-large")
                snap = book.snapshot()
                assert snap["prices"]["premium"]["frontier-large"] == {
                    "input": 4.0,
                    "output": 20.0,
                    "stale": False,
                    "source": "feed",
                }
                assert snap["feeds"]["premium"]["url"] == f"{feed.url}/pricing"
                assert snap["feeds"]["premium"]["last_error"] is None
                assert snap["feeds"]["premium"]["updated_at"] == "2024-01-01T00:00:00Z"
            finally:
                await book.stop()

    run(main)


def test_a_price_change_on_the_feed_is_picked_up_by_background_polling() -> None:
    async def main() -> None:
        async with feed_server() as feed:
            book = PriceBook(STATIC, {"premium": feed.url}, refresh_s=0.05)
            await book.start()
            try:
                assert book.price("premium", "frontier-large").output == 15.0
                feed.models = {"frontier-large": {"input": 9.0, "output": 45.0}}  # tripled
                await eventually(lambda: book.price("premium", "frontier-large").output == 45.0)
                assert book.price("premium", "frontier-large") == Price(9.0, 45.0, stale=False, source="feed")
                polls = feed.polls
            finally:
                await book.stop()
            await asyncio.sleep(0.2)
            assert feed.polls == polls, "polling must stop with stop()"

    run(main)


@pytest.mark.parametrize(
    ("failure", "expected_error"),
    [
        ({"status": 500}, "HTTP 500"),
        ({"raw": b"{not json"}, "JSON"),
        ({"raw": b'{"models": {"frontier-large": {"input": -1, "output": 2}}}'}, "models.frontier-large.input"),
        ({"raw": b'{"models": []}'}, "models"),
    ],
)
def test_a_failing_feed_keeps_its_last_price_and_marks_it_stale_after_three_intervals(
    failure: dict[str, Any], expected_error: str
) -> None:
    async def main() -> None:
        clock = FakeClock()
        async with feed_server() as feed:
            book = PriceBook(STATIC, {"premium": feed.url}, refresh_s=10.0, clock=clock)
            try:
                await book.refresh()  # polls driven by hand: the fake clock decides staleness
                assert book.price("premium", "frontier-large") == Price(3.0, 15.0, stale=False, source="feed")
                feed.models = {"frontier-large": {"input": 9.0, "output": 45.0}}
                for name, value in failure.items():
                    setattr(feed, name, value)
                clock.now = 25.0
                await book.refresh()
                kept = book.price("premium", "frontier-large")
                assert kept == Price(3.0, 15.0, stale=False, source="feed")
                assert expected_error in book.snapshot()["feeds"]["premium"]["last_error"]
                clock.now = STALE_AFTER_POLLS * 10.0 + 0.001
                assert book.price("premium", "frontier-large") == Price(3.0, 15.0, stale=True, source="feed")
                # the feed comes back: fresh again, with its new price
                feed.status, feed.raw = 200, None
                await book.refresh()
                assert book.price("premium", "frontier-large") == Price(9.0, 45.0, stale=False, source="feed")
                assert book.snapshot()["feeds"]["premium"]["last_error"] is None
            finally:
                await book.stop()

    run(main)


def test_listeners_hear_each_changed_feed_price_once() -> None:
    async def main() -> None:
        heard: list[tuple[str, str, Price]] = []
        async with feed_server() as feed:
            feed.models = {"frontier-large": {"input": 3, "output": 15}, "frontier-alt": {"input": 2.5, "output": 10}}
            book = PriceBook(STATIC, {"premium": feed.url}, refresh_s=60.0)
            book.add_listener(lambda provider, model, price: heard.append((provider, model, price)))
            try:
                await book.refresh()
                assert sorted(m for _, m, _ in heard) == ["frontier-alt", "frontier-large"]  # first feed prices
                heard.clear()
                await book.refresh()
                assert heard == []  # nothing changed
                feed.models["frontier-large"] = {"input": 9, "output": 45}
                await book.refresh()
                assert heard == [("premium", "frontier-large", Price(9.0, 45.0, stale=False, source="feed"))]
            finally:
                await book.stop()

    run(main)


def test_price_at_says_what_a_request_sent_then_was_charged_erring_high_around_a_change() -> None:
    async def main() -> None:
        clock = FakeClock()
        async with feed_server() as feed:
            book = PriceBook(STATIC, {"premium": feed.url}, refresh_s=10.0, clock=clock)
            try:
                await book.refresh()  # t=0: 3/15
                clock.now = 10.0
                await book.refresh()  # unchanged
                feed.models = {"frontier-large": {"input": 9.0, "output": 45.0}}  # changed somewhere in (10, 20]
                clock.now = 20.0
                await book.refresh()
                feed.models = {"frontier-large": {"input": 1.0, "output": 1.0}}  # changed somewhere in (20, 30]
                clock.now = 30.0
                await book.refresh()

                def at(sent_at: float) -> tuple[float, float]:
                    price = book.price_at("premium", "frontier-large", sent_at)
                    return price.input, price.output

                assert at(-100.0) == (3.0, 15.0)
                assert at(10.0) == (3.0, 15.0)  # the poll at 10 still saw 3/15: certainly that price
                assert at(15.0) == (9.0, 45.0)  # either price: the higher
                assert at(20.0) == (9.0, 45.0)
                assert at(25.0) == (9.0, 45.0)  # 9/45 or 1/1: the higher
                assert at(30.0) == (1.0, 1.0)
                assert at(99.0) == (1.0, 1.0)
                # no feed price for the model: the static price, as `price` says
                assert book.price_at("premium", "frontier-alt", 15.0) == book.price("premium", "frontier-alt")
            finally:
                await book.stop()

    run(main)


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.floats(0.5, 10.0), min_size=2, max_size=8),
    change_points=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 50)), max_size=8),
    probes=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
)
def test_price_at_is_never_below_the_price_charged_and_exact_away_from_changes(
    gaps: list[float], change_points: list[tuple[float, int]], probes: list[float]
) -> None:
    """Polls at given instants, at most one price change between two polls (more would be invisible)."""
    polls = [0.0]
    for gap in gaps:
        polls.append(polls[-1] + gap)
    changes: dict[int, tuple[float, float]] = {}  # poll interval k (between polls k-1 and k) -> (instant, output)
    for where, output in change_points:
        k = 1 + int(where * (len(polls) - 1)) % (len(polls) - 1)
        changes[k] = (polls[k - 1] + (polls[k] - polls[k - 1]) * (0.01 + 0.98 * where), float(output))

    def truth(t: float) -> float:
        charged = 100.0
        for instant, output in sorted(changes.values()):
            if instant <= t:
                charged = output
        return charged

    async def main() -> None:
        clock = FakeClock()
        async with feed_server() as feed:
            book = PriceBook(STATIC, {"premium": feed.url}, refresh_s=1.0, clock=clock)
            try:
                for poll in polls:
                    clock.now = poll
                    feed.models = {"frontier-large": {"input": 1.0, "output": truth(poll)}}
                    await book.refresh()
            finally:
                await book.stop()
        for probe in probes:
            sent_at = probe * polls[-1]
            said = book.price_at("premium", "frontier-large", sent_at).output
            assert said >= truth(sent_at)
            ambiguous = any(
                polls[k - 1] < sent_at < polls[k] for k in changes if truth(polls[k]) != truth(polls[k - 1])
            )
            if not ambiguous:
                assert said == truth(sent_at)

    run(main)


def test_an_unreachable_feed_at_start_leaves_static_prices_in_use() -> None:
    async def main() -> None:
        async with feed_server() as feed:
            dead_url = feed.url
        book = PriceBook(STATIC, {"premium": dead_url}, refresh_s=0.05)
        await book.start()  # must not raise: the gateway starts on static prices
        try:
            assert book.price("premium", "frontier-large") == Price(3.0, 15.0, stale=True, source="static")
            snap = book.snapshot()["feeds"]["premium"]
            assert snap["age_s"] is None
            assert snap["stale"] is True
            assert "GET" in snap["last_error"]
        finally:
            await book.stop()

    run(main)


def test_a_feed_dropping_a_model_falls_back_to_its_static_price() -> None:
    async def main() -> None:
        async with feed_server() as feed:
            feed.models = {"frontier-large": {"input": 4, "output": 16}, "frontier-alt": {"input": 1, "output": 1}}
            book = PriceBook(STATIC, {"premium": feed.url}, refresh_s=60.0)
            try:
                await book.refresh()
                assert book.price("premium", "frontier-alt").source == "feed"
                feed.models = {"frontier-large": {"input": 4, "output": 16}}
                await book.refresh()
                assert book.price("premium", "frontier-alt") == Price(2.5, 10.0, stale=True, source="static")
            finally:
                await book.stop()

    run(main)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({}, "models"),
        ({"models": {"m": 3}}, "models.m"),
        ({"models": {"m": {"input": 1}}}, "models.m.output"),
        ({"models": {"m": {"input": "1", "output": 1}}}, "models.m.input"),
        ({"models": {"m": {"input": True, "output": 1}}}, "models.m.input"),
        ({"models": {"m": {"input": 1, "output": float("nan")}}}, "models.m.output"),
    ],
)
def test_parse_feed_names_the_bad_field(body: Any, field: str) -> None:
    with pytest.raises(FeedError, match=rf"^{field}:"):
        parse_feed(body)


def test_parse_feed_reads_the_mock_contract() -> None:
    assert parse_feed({"provider": "p", "models": {"a": {"input": 1, "output": 2.5}}, "updated_at": 1}) == {
        "a": (1.0, 2.5)
    }


def test_refresh_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="refresh_s"):
        PriceBook(STATIC, {}, refresh_s=0)
