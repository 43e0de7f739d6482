"""What each model costs now: the providers' `/pricing` feeds, polled on an interval, over static prices.

A feed price is trusted while its provider's feed keeps answering; when polls fail the last feed price
stays in use but is flagged stale once it is older than `STALE_AFTER_POLLS` intervals. A model no feed
has priced falls back to the policy's static price, which is stale by definition (nobody confirmed it).
Prices are USD per million tokens, as the feeds and the policy state them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

__all__ = ["STALE_AFTER_POLLS", "FeedError", "Price", "PriceBook", "UnknownPrice", "parse_feed"]

STALE_AFTER_POLLS = 3
HISTORY_PER_MODEL = 32  # price changes kept per model for `price_at` (requests last seconds, not hours)
_FEED_TIMEOUT = aiohttp.ClientTimeout(total=5.0, sock_connect=2.0)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens for one model, and where the numbers came from."""

    input: float
    output: float
    stale: bool
    source: Literal["feed", "static"]


class UnknownPrice(KeyError):
    """Neither a feed nor the static table prices this model: the policy must list a static price for it."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown price"


class FeedError(ValueError):
    """A `/pricing` body we cannot read; the message names the field."""


@dataclass(frozen=True, slots=True)
class _Change:
    """A feed price first seen at `seen_at`; the provider changed it at some instant in (`after`, `seen_at`]."""

    after: float
    seen_at: float
    price: tuple[float, float]


@dataclass(slots=True)
class _Feed:
    base_url: str
    prices: dict[str, tuple[float, float]]
    fetched_at: float | None = None  # clock() of the last good poll
    last_error: str | None = None
    updated_at: Any = None  # the provider's own timestamp, passed through to snapshots
    history: dict[str, list[_Change]] = field(default_factory=dict)  # per model, oldest first


def parse_feed(body: Any) -> dict[str, tuple[float, float]]:
    """`{"models": {m: {"input", "output"}}}` -> {m: (input, output)}; raises `FeedError` naming the bad field."""
    if not isinstance(body, dict):
        raise FeedError("body: expected a JSON object")
    models = body.get("models")
    if not isinstance(models, dict):
        raise FeedError("models: expected an object of model -> {input, output}")
    out: dict[str, tuple[float, float]] = {}
    for model, entry in models.items():
        if not isinstance(entry, dict):
            raise FeedError(f"models.{model}: expected an object with input and output")
        pair = []
        for side in ("input", "output"):
            value = entry.get(side)
            # bool is an int subclass, and `true` is no price
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise FeedError(f"models.{model}.{side}: expected a non-negative number, got {value!r}")
            pair.append(float(value))
        out[str(model)] = (pair[0], pair[1])
    return out


class PriceBook:
    """Current prices per (provider, model). `await start()` polls once, then keeps polling in the background."""

    def __init__(
        self,
        static: Mapping[tuple[str, str], tuple[float, float]],
        feeds: Mapping[str, str],
        refresh_s: float,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not refresh_s > 0:
            raise ValueError(f"refresh_s must be greater than 0, got {refresh_s!r}")
        self._static = dict(static)
        self._feeds = {provider: _Feed(url.rstrip("/"), {}) for provider, url in feeds.items()}
        self.refresh_s = refresh_s
        self._session = session
        self._owns_session = session is None
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[str, str, Price], None]] = []

    # -- reads -----------------------------------------------------------------------------------------
    def price(self, provider: str, model: str) -> Price:
        feed = self._feeds.get(provider)
        if feed is not None and model in feed.prices:
            input_usd, output_usd = feed.prices[model]
            return Price(input_usd, output_usd, self._is_stale(feed), "feed")
        static = self._static.get((provider, model))
        if static is not None:
            return Price(static[0], static[1], True, "static")
        raise UnknownPrice(
            f"no price for {provider}/{model}: its provider's /pricing feed does not list it and the policy "
            "gives no static price; add one under the policy's prices"
        )

    def price_at(self, provider: str, model: str, sent_at: float) -> Price:
        """What a provider that charges the price in effect at a request's start charged for one sent at `sent_at`.

        A change seen at a poll happened at some instant since the poll before it, so for a request sent
        in that interval either price may apply: the higher one is returned (the budget errs on the safe
        side, only for requests sent in the poll interval around a change). Settling with this rather
        than with `price` keeps the gateway's spend next to the bill when a price changes mid-flight.
        """
        feed = self._feeds.get(provider)
        if feed is None or model not in feed.prices or not feed.history.get(model):
            return self.price(provider, model)
        changes = feed.history[model]
        candidates = [changes[0]]
        for change in changes[1:]:
            if change.seen_at <= sent_at:
                candidates = [change]  # certainly in effect by then: older prices no longer apply
            elif change.after < sent_at:
                candidates.append(change)  # may have been in effect
        return Price(
            max(c.price[0] for c in candidates),
            max(c.price[1] for c in candidates),
            self._is_stale(feed),
            "feed",
        )

    def snapshot(self) -> dict[str, Any]:
        """Every known price and every feed's health, JSON-ready, for the admin API and metrics."""
        now = self._clock()
        keys = set(self._static) | {(p, m) for p, feed in self._feeds.items() for m in feed.prices}
        prices: dict[str, dict[str, Any]] = {}
        for provider, model in sorted(keys):
            price = self.price(provider, model)
            prices.setdefault(provider, {})[model] = {
                "input": price.input,
                "output": price.output,
                "stale": price.stale,
                "source": price.source,
            }
        feeds = {
            provider: {
                "url": f"{feed.base_url}/pricing",
                "age_s": None if feed.fetched_at is None else round(now - feed.fetched_at, 3),
                "stale": self._is_stale(feed),
                "last_error": feed.last_error,
                "updated_at": feed.updated_at,
            }
            for provider, feed in sorted(self._feeds.items())
        }
        return {"unit": "USD per million tokens", "refresh_s": self.refresh_s, "prices": prices, "feeds": feeds}

    def _is_stale(self, feed: _Feed) -> bool:
        if feed.fetched_at is None:
            return True
        return self._clock() - feed.fetched_at > STALE_AFTER_POLLS * self.refresh_s

    def add_listener(self, listener: Callable[[str, str, Price], None]) -> None:
        """Call `listener(provider, model, new_price)` whenever a poll changes a feed price (e.g. to re-reserve)."""
        self._listeners.append(listener)

    # -- polling ---------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Poll every feed once (failures leave static prices in use), then keep polling every `refresh_s`."""
        if self._task is not None:
            return
        await self.refresh()
        self._task = asyncio.create_task(self._poll_forever(), name="price-feeds")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def refresh(self) -> dict[str, Any]:
        """Poll every feed now (the admin API's price refresh); returns the snapshot after it."""
        await asyncio.gather(*(self._poll(provider, feed) for provider, feed in self._feeds.items()))
        return self.snapshot()

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            await self.refresh()

    async def _poll(self, provider: str, feed: _Feed) -> None:
        url = f"{feed.base_url}/pricing"
        try:
            async with self._get_session().get(url, timeout=_FEED_TIMEOUT) as reply:
                if reply.status != 200:
                    raise FeedError(f"answered HTTP {reply.status}")
                body = await reply.json(content_type=None)
            prices = parse_feed(body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:  # FeedError and bad JSON are ValueErrors
            message = f"GET {url}: {type(exc).__name__}: {exc}" if str(exc) else f"GET {url}: {type(exc).__name__}"
            if message != feed.last_error:  # once per change, not once per poll
                log.warning("price feed of %s failed, keeping its last prices: %s", provider, message)
            feed.last_error = message
            return
        now = self._clock()
        changed = [m for m, pair in prices.items() if feed.prices.get(m) != pair]
        for model in changed:
            history = feed.history.setdefault(model, [])
            # A model's first feed price is taken as always in effect: nothing better is known about before.
            after = -math.inf if not history or feed.fetched_at is None else feed.fetched_at
            history.append(_Change(after, now if history else -math.inf, prices[model]))
            del history[:-HISTORY_PER_MODEL]
        feed.prices = prices
        feed.fetched_at = now
        feed.last_error = None
        feed.updated_at = body.get("updated_at")
        for model in changed:
            for listener in self._listeners:
                listener(provider, model, self.price(provider, model))

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session
