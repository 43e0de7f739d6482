"""The response cache: which requests get a key, LRU eviction and TTL expiry under an injected clock."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.gateway.cache import CachedResponse, ResponseCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def body(**extra: Any) -> dict[str, Any]:
    return {"model": "frontier-large", "messages": [{"role": "user", "content": "hi"}], **extra}


def answer(text: str = "ok", status: int = 200) -> CachedResponse:
    return CachedResponse(body=text.encode(), headers={"x-gameday-model": "frontier-large"}, status=status)


@pytest.mark.parametrize(
    ("extra", "cacheable"),
    [
        ({"temperature": 0}, True),
        ({"temperature": 0.0}, True),
        ({"seed": 42, "temperature": 0.9}, True),
        ({"temperature": 0, "stream": False}, True),
        ({"temperature": 0, "n": 1}, True),
        ({}, False),  # OpenAI's default temperature is 1: sampling
        ({"temperature": 0.2}, False),
        ({"temperature": 0, "stream": True}, False),
        ({"seed": 1, "stream": True}, False),
        ({"temperature": 0, "n": 2}, False),
        ({"temperature": False}, False),  # a bool is not a temperature
        ({"seed": True}, False),
        ({"seed": "7"}, False),
        ({"temperature": "0"}, False),
    ],
)
def test_only_deterministic_requests_get_a_key(extra: dict[str, Any], cacheable: bool) -> None:
    cache = ResponseCache(60.0)
    assert (cache.key(body(**extra)) is not None) is cacheable


def test_key_ignores_key_order_and_metadata_but_not_content() -> None:
    cache = ResponseCache(60.0)
    a = cache.key({"temperature": 0, "model": "m", "messages": [{"role": "user", "content": "x"}]})
    b = cache.key({"messages": [{"content": "x", "role": "user"}], "model": "m", "temperature": 0, "user": "u1"})
    assert a == b
    assert cache.key(body(temperature=0, stream=False)) == cache.key(body(temperature=0))
    different = [
        body(temperature=0, max_tokens=10),
        {**body(temperature=0), "model": "swift-mini"},
        {**body(temperature=0), "messages": [{"role": "user", "content": "hi!"}]},
        body(seed=1),
        body(seed=2),
    ]
    keys = {cache.key(b) for b in different} | {cache.key(body(temperature=0))}
    assert len(keys) == len(different) + 1


def test_scope_separates_the_same_body_routed_differently() -> None:
    cache = ResponseCache(60.0)
    request = body(temperature=0)
    assert cache.key(request, scope="high") != cache.key(request, scope="low")
    assert cache.key(request, scope="high") == cache.key(request, scope="high")


def test_hit_then_expiry_after_ttl() -> None:
    clock = FakeClock()
    cache = ResponseCache(10.0, clock=clock)
    key = cache.key(body(temperature=0))
    assert key is not None
    assert cache.get(key) is None
    cache.put(key, answer("first"))
    clock.now = 9.999
    hit = cache.get(key)
    assert hit is not None
    assert hit.body == b"first"
    assert hit.headers["x-gameday-model"] == "frontier-large"
    clock.now = 10.0
    assert cache.get(key) is None
    assert len(cache) == 0
    assert cache.stats() | {"ttl_s": None} == {
        "entries": 0,
        "max_entries": 1024,
        "ttl_s": None,
        "hits": 1,
        "misses": 2,
        "evictions": 0,
    }


def test_errors_are_not_stored() -> None:
    cache = ResponseCache(10.0)
    cache.put("k", answer(status=503))
    assert cache.get("k") is None


def test_least_recently_used_entry_is_evicted_first() -> None:
    cache = ResponseCache(60.0, max_entries=3)
    for name in "abc":
        cache.put(name, answer(name))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", answer("d"))
    assert cache.get("b") is None
    assert [k for k in "acd" if cache.get(k) is not None] == ["a", "c", "d"]
    assert cache.stats()["evictions"] == 1


def test_a_put_refreshes_an_entry_and_its_age() -> None:
    clock = FakeClock()
    cache = ResponseCache(10.0, clock=clock)
    cache.put("k", answer("old"))
    clock.now = 8.0
    cache.put("k", answer("new"))
    clock.now = 15.0
    hit = cache.get("k")
    assert hit is not None
    assert hit.body == b"new"


@pytest.mark.parametrize(("ttl", "size", "field"), [(0.0, 10, "ttl_s"), (float("inf"), 10, "ttl_s"), (5.0, 0, "max")])
def test_bad_configuration_is_refused_naming_the_argument(ttl: float, size: int, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ResponseCache(ttl, max_entries=size)


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(st.tuples(st.sampled_from(["put", "get", "tick"]), st.integers(0, 9)), max_size=200),
    size=st.integers(1, 6),
)
def test_behaves_like_a_reference_lru_with_ttl(ops: list[tuple[str, int]], size: int) -> None:
    """Against a plain reference model: never more than max_entries, never an expired or evicted answer."""
    clock = FakeClock()
    ttl = 5.0
    cache = ResponseCache(ttl, max_entries=size, clock=clock)
    model: dict[str, tuple[float, bytes]] = {}  # key -> (stored_at, body), insertion order = recency
    for op, n in ops:
        key = f"k{n}"
        if op == "tick":
            clock.now += n
        elif op == "put":
            body_bytes = f"{key}@{clock.now}".encode()
            cache.put(key, answer(body_bytes.decode()))
            model.pop(key, None)
            model[key] = (clock.now, body_bytes)
            while len(model) > size:
                del model[next(iter(model))]
        else:
            got = cache.get(key)
            entry = model.get(key)
            if entry is not None and clock.now - entry[0] >= ttl:
                del model[key]
                entry = None
            if entry is None:
                assert got is None
            else:
                assert got is not None
                assert got.body == entry[1]
                model[key] = model.pop(key)  # now most recently used
        assert len(cache) <= size
