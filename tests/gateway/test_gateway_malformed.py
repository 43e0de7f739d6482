"""Bad requests get a 4xx in OpenAI's error shape naming the field, never a 5xx: a table, then the load's corpus."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import orjson
from gw_support import FakeUpstream, Running, all_to, make_policy, run, running_gateway

from gameday.load.malformed import build_corpus

GOOD: dict[str, Any] = {"model": "auto", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}


def body(**change: Any) -> bytes:
    data = {**GOOD, **change}
    return orjson.dumps({k: v for k, v in data.items() if v is not DROP})


def msg(**fields: Any) -> bytes:
    return body(messages=[fields])


DROP = object()

# (name, raw body, expected status, expected `param` (None: none named), content type)
TABLE: list[tuple[str, bytes, int, str | None]] = [
    ("empty body", b"", 400, None),
    ("whitespace body", b" \n ", 400, None),
    ("truncated json", body()[:-5], 400, None),
    ("trailing comma", body()[:-1] + b",}", 400, None),
    ("single quotes", body().replace(b'"', b"'"), 400, None),
    ("NaN literal", body()[:-1] + b',"temperature":NaN}', 400, None),
    ("two objects", body() + body(), 400, None),
    ("deep nesting", b"[" * 5000 + b"]" * 5000, 400, None),
    ("invalid utf-8 byte", body().replace(b"hello", b"hel\xfflo"), 400, None),
    ("overlong utf-8", body().replace(b"hello", b"\xc0\xafhello"), 400, None),
    ("lone surrogate escape", body().replace(b"hello", b"\\ud800hello"), 400, None),
    ("top-level array", b"[]", 400, None),
    ("top-level string", b'"hello"', 400, None),
    ("top-level null", b"null", 400, None),
    ("top-level number", b"42", 400, None),
    ("unknown parameter", body(temprature=0.5), 400, "temprature"),
    ("no model", body(model=DROP), 400, "model"),
    ("model a number", body(model=42), 400, "model"),
    ("model a list", body(model=["auto"]), 400, "model"),
    ("unknown model", body(model="gpt-17"), 400, "model"),
    ("no messages", body(messages=DROP), 400, "messages"),
    ("messages a string", body(messages="hello"), 400, "messages"),
    ("messages an object", body(messages={"role": "user", "content": "hi"}), 400, "messages"),
    ("messages empty", body(messages=[]), 400, "messages"),
    ("message a string", body(messages=["hello"]), 400, "messages[0]"),
    ("message null", body(messages=[None]), 400, "messages[0]"),
    ("no role", msg(content="hi"), 400, "messages[0].role"),
    ("unknown role", msg(role="wizard", content="hi"), 400, "messages[0].role"),
    ("role a number", msg(role=7, content="hi"), 400, "messages[0].role"),
    ("no content", msg(role="user"), 400, "messages[0].content"),
    ("content null", msg(role="user", content=None), 400, "messages[0].content"),
    ("content a number", msg(role="user", content=42), 400, "messages[0].content"),
    ("content an object", msg(role="user", content={"text": "hi"}), 400, "messages[0].content"),
    ("content empty", msg(role="user", content=""), 400, "messages[0].content"),
    ("content spaces", msg(role="user", content="  \n\t "), 400, "messages[0].content"),
    ("content zero-width only", msg(role="user", content="\u200b\u200d\ufeff"), 400, "messages[0].content"),
    ("content bidi only", msg(role="user", content="\u202e\u2066\u2069"), 400, "messages[0].content"),
    ("content NUL", msg(role="user", content="hi\u0000there"), 400, "messages[0].content"),
    ("content escape char", msg(role="user", content="hi\u001bthere"), 400, "messages[0].content"),
    ("content parts empty", msg(role="user", content=[]), 400, "messages[0].content"),
    ("content part unknown type", msg(role="user", content=[{"type": "nonsense"}]), 400, "messages[0].content"),
    ("content part text a number", msg(role="user", content=[{"type": "text", "text": 5}]), 400,
     "messages[0].content[0].text"),
    ("unknown message field", msg(role="user", content="hi", mood="happy"), 400, "messages[0].mood"),
    ("second message blank", body(messages=[GOOD["messages"][0], {"role": "user", "content": " "}]), 400,
     "messages[1].content"),
    ("max_tokens a string", body(max_tokens="64"), 400, "max_tokens"),
    ("max_tokens a bool", body(max_tokens=True), 400, "max_tokens"),
    ("max_tokens a float", body(max_tokens=64.5), 400, "max_tokens"),
    ("max_tokens zero", body(max_tokens=0), 400, "max_tokens"),
    ("max_tokens negative", body(max_tokens=-1), 400, "max_tokens"),
    ("max_tokens absurd", body(max_tokens=10**12), 400, "max_tokens"),
    ("max_tokens 2^63", body(max_tokens=2**63), 400, "max_tokens"),
    ("max_completion_tokens absurd", body(max_completion_tokens=10**9), 400, "max_completion_tokens"),
    ("temperature a string", body(temperature="hot"), 400, "temperature"),
    ("temperature too high", body(temperature=2.5), 400, "temperature"),
    ("temperature negative", body(temperature=-0.1), 400, "temperature"),
    ("top_p over 1", body(top_p=1.01), 400, "top_p"),
    ("top_p a list", body(top_p=[0.9]), 400, "top_p"),
    ("n zero", body(n=0), 400, "n"),
    ("n huge", body(n=10_000), 400, "n"),
    ("n a float", body(n=1.5), 400, "n"),
    ("n two", body(n=2), 400, "n"),
    ("stream a string", body(stream="yes"), 400, "stream"),
    ("stream a number", body(stream=1), 400, "stream"),
    ("stream_options a string", body(stream_options="usage"), 400, "stream_options"),
    ("include_usage a string", body(stream=True, stream_options={"include_usage": "yes"}), 400,
     "stream_options.include_usage"),
    ("stop a number", body(stop=42), 400, "stop"),
    ("stop five strings", body(stop=["a", "b", "c", "d", "e"]), 400, "stop"),
    ("stop list with null", body(stop=[None]), 400, "stop"),
    ("presence_penalty too high", body(presence_penalty=9), 400, "presence_penalty"),
    ("frequency_penalty a string", body(frequency_penalty="0"), 400, "frequency_penalty"),
    ("logit_bias a list", body(logit_bias=[1, 2]), 400, "logit_bias"),
    ("logit_bias out of range", body(logit_bias={"1234": 500}), 400, "logit_bias.1234"),
    ("logit_bias not a token id", body(logit_bias={"hello": 1}), 400, "logit_bias"),
    ("top_logprobs huge", body(top_logprobs=1000), 400, "top_logprobs"),
    ("user a number", body(user=5), 400, "user"),
    ("gigantic prompt", msg(role="user", content="word " * 240_000), 400, "messages"),
]  # fmt: skip


async def post(gw: Running, raw: bytes, content_type: str = "application/json", **headers: str) -> tuple[int, Any]:
    data = io.BytesIO(raw) if len(raw) > 500_000 else raw  # aiohttp warns about big raw bytes bodies
    async with gw.session.post(
        f"{gw.url}/v1/chat/completions", data=data, headers={"content-type": content_type, **headers}
    ) as reply:
        return reply.status, await reply.read()


def error_of(raw: bytes) -> dict[str, Any]:
    data = orjson.loads(raw)
    assert set(data) == {"error"}
    assert set(data["error"]) == {"message", "type", "param", "code"}
    assert data["error"]["message"]
    return data["error"]


def test_a_table_of_malformed_bodies_gets_400s_naming_the_field() -> None:
    assert len(TABLE) >= 50

    async def main() -> None:
        fake = FakeUpstream()
        await fake.start()
        try:
            async with running_gateway(make_policy(), all_to(fake.url)) as gw:
                for name, raw, status, param in TABLE:
                    got, reply = await post(gw, raw)
                    assert got == status, (name, got, reply[:300])
                    assert error_of(reply)["param"] == param, name
                # ...and the same gateway still serves a good request
                got, reply = await post(gw, body())
                assert got == 200, reply
        finally:
            await fake.stop()
        assert len(fake.hits) == 1  # none of the bad ones went upstream

    run(main)


def test_headers_content_type_and_size_limits() -> None:
    async def main() -> None:
        fake = FakeUpstream()
        await fake.start()
        policy = make_policy(guardrails={"max_body_bytes": 4096})
        try:
            async with running_gateway(policy, all_to(fake.url)) as gw:
                for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
                    got, reply = await post(gw, body(), ctype)
                    assert got == 415
                    assert error_of(reply)["code"] == "unsupported_media"
                got, reply = await post(gw, msg(role="user", content="x" * 5000))
                assert got == 413
                assert error_of(reply)["code"] == "too_large"
                got, reply = await post(gw, body(), **{"x-gameday-tier": "urgent"})
                assert got == 400
                assert error_of(reply)["param"] == "x-gameday-tier"
                got, reply = await post(gw, body(), **{"x-gameday-task": "a b"})
                assert got == 400
                assert error_of(reply)["param"] == "x-gameday-task"
        finally:
            await fake.stop()

    run(main)


def test_the_load_generators_malformed_corpus_never_gets_a_5xx() -> None:
    corpus = build_corpus("auto", count=500, seed=1)

    async def main() -> None:
        fake = FakeUpstream()
        await fake.start()
        try:
            async with running_gateway(make_policy(), all_to(fake.url)) as gw:
                for case in corpus:
                    got, reply = await post(gw, case.body, case.content_type)
                    if case.expected_4xx:
                        assert 400 <= got < 500, (case.category, case.name, got, reply[:200])
                        error_of(reply)
                    else:
                        assert got == 200, (case.category, case.name, got, reply[:200])
        finally:
            await fake.stop()
        assert len(fake.hits) == sum(not case.expected_4xx for case in corpus)  # only the well-formed went upstream

    run(main, timeout=60)


def test_a_chunked_upload_past_the_limit_is_cut_off_with_413() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"model": "auto", "messages": [{"role": "user", "content": "'
        for _ in range(100):
            yield b"x" * 1024

    async def main() -> None:
        async with running_gateway(make_policy(guardrails={"max_body_bytes": 8192}), {}) as gw:
            url, headers = f"{gw.url}/v1/chat/completions", {"content-type": "application/json"}
            async with gw.session.post(url, data=chunks(), headers=headers) as reply:
                assert reply.status == 413
                assert error_of(await reply.read())["code"] == "too_large"

    run(main)
