"""An exact-match response cache for deterministic chat completions: LRU, bounded, with a TTL.

What counts as deterministic (anything else gets no key and is never cached):
- not streamed (`stream` absent or false): a cached body cannot replay a stream's timing, and users
  who stream are measuring it;
- one choice (`n` absent or 1);
- `temperature` is 0, or a `seed` is given (OpenAI documents seeded sampling as reproducible).
  An absent temperature means OpenAI's default of 1, which is sampling: not cached.

The key is a hash of the whole body with its keys sorted, so two bodies differing only in key order
share an entry, and any other difference (messages, model, max_tokens, tools...) does not. The
caller passes a `scope` when the same body may be answered differently (the route it resolved to),
so that a cache hit never bypasses a routing decision.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["CachedResponse", "ResponseCache", "is_deterministic"]

# Fields that say nothing about a non-streamed answer: left out of the key.
_IGNORED_FIELDS = frozenset({"user", "metadata", "store", "stream", "stream_options"})


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A complete non-streamed answer: body bytes as sent to the client and the headers to replay."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int = 200
    model: str | None = None
    provider: str | None = None


def is_deterministic(body: Mapping[str, Any]) -> bool:
    if body.get("stream") is True:
        return False
    n = body.get("n")
    if n is not None and n != 1:
        return False
    seed = body.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return True
    temperature = body.get("temperature")
    return isinstance(temperature, int | float) and not isinstance(temperature, bool) and temperature == 0


class ResponseCache:
    """`ResponseCache(ttl_s, max_entries)`: `key(body)` -> `get(key)` / `put(key, response)`."""

    def __init__(self, ttl_s: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        if not (math.isfinite(ttl_s) and ttl_s > 0):
            raise ValueError(f"ttl_s must be a number greater than 0, got {ttl_s!r}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be 1 or more, got {max_entries!r}")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, CachedResponse]] = OrderedDict()  # oldest use first
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def key(self, body: Mapping[str, Any], *, scope: str = "") -> str | None:
        """A key for a deterministic request, else None (see the module docstring for the rule)."""
        if not is_deterministic(body):
            return None
        kept = {k: v for k, v in body.items() if k not in _IGNORED_FIELDS}
        try:
            canonical = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # not JSON-able: cannot be an HTTP body we received, so never cache it
            return None
        digest = hashlib.blake2b(canonical, digest_size=20)
        digest.update(b"\x00" + scope.encode())
        return digest.hexdigest()

    def get(self, key: str) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        stored_at, response = entry
        if self._clock() - stored_at >= self.ttl_s:
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return response

    def put(self, key: str, response: CachedResponse) -> None:
        """Store a successful answer; anything but a 200 is not stored (errors must be retried, not replayed)."""
        if response.status != 200:
            return
        self._entries[key] = (self._clock(), response)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self.evictions += 1

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> dict[str, Any]:
        return {
            "entries": len(self._entries),
            "max_entries": self.max_entries,
            "ttl_s": self.ttl_s,
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
        }
