"""The OpenAI-compatible surface of a live mock: bodies, streams, the SDK, the error table, the feeds."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from mock_support import chat, chat_body, metric_value, raw_post
from openai import OpenAI


def test_non_stream_body_has_openai_shape_and_usage(mock: str) -> None:
    reply = chat(mock, max_tokens=50)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "fast"
    assert isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["finish_reason"] == "stop"
    content = choice["message"]["content"]
    assert len(content.split(" ")) == 12  # the profile's answer length, sd 0
    # "hello there" is 11 chars -> 3 tokens, + 3 for the message + 3 priming
    assert body["usage"] == {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}


def test_max_tokens_cuts_the_answer_with_finish_reason_length(mock: str) -> None:
    body = chat(mock, max_tokens=5).json()
    assert body["usage"]["completion_tokens"] == 5
    assert body["choices"][0]["finish_reason"] == "length"
    assert len(body["choices"][0]["message"]["content"]) == 5 * 4 - 1  # four characters a token
    assert chat(mock, max_completion_tokens=4).json()["usage"]["completion_tokens"] == 4


def test_stream_chunks_then_usage_then_done(mock: str) -> None:
    reply = raw_post(mock, chat_body(stream=True, stream_options={"include_usage": True}))
    assert reply.status == 200
    assert not reply.cut
    assert reply.headers["content-type"].startswith("text/event-stream")
    data = reply.data()
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1
    assert ids.pop().startswith("chatcmpl-")
    for c in chunks:
        assert c["object"] == "chat.completion.chunk"
        assert c["model"] == "fast"
        assert isinstance(c["created"], int)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    *content_chunks, finish, usage = chunks[1:]
    assert "".join(c["choices"][0]["delta"]["content"] for c in content_chunks).count(" ") == 11
    assert all(c["choices"][0]["finish_reason"] is None for c in content_chunks)
    assert finish["choices"] == [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]
    assert usage["choices"] == []
    assert usage["usage"] == {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}


def test_stream_without_include_usage_has_no_usage_chunk(mock: str) -> None:
    reply = raw_post(mock, chat_body(stream=True))
    chunks = reply.chunks()
    assert reply.data()[-1] == "[DONE]"
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_openai_sdk_works_unchanged(mock: str) -> None:
    client = OpenAI(base_url=f"{mock}/v1", api_key="unused", max_retries=0)
    try:
        completion = client.chat.completions.create(
            model="fast", messages=[{"role": "user", "content": "hello there"}], max_tokens=7
        )
        assert completion.model == "fast"
        assert completion.usage is not None
        assert completion.usage.completion_tokens == 7
        assert completion.choices[0].finish_reason == "length"

        stream = client.chat.completions.create(
            model="fast",
            messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert len(text.split(" ")) == 12
        assert chunks[-1].usage is not None
        assert chunks[-1].usage.completion_tokens == 12
        assert [m.id for m in client.models.list()] == ["fast", "other", "tiny-ctx", "limited"]
    finally:
        client.close()


ERROR_TABLE: list[tuple[Any, int, str | None, str]] = [
    ({"model": "fast"}, 400, "messages", "missing_required_parameter"),
    ({"messages": [{"role": "user", "content": "x"}]}, 400, "model", "missing_required_parameter"),
    ({"model": "fast", "messages": "hi"}, 400, "messages", "invalid_type"),
    ({"model": "fast", "messages": []}, 400, "messages", "empty_array"),
    ({"model": "fast", "messages": [{"content": "x"}]}, 400, "messages[0].role", "missing_required_parameter"),
    ({"model": "fast", "messages": [{"role": "robot", "content": "x"}]}, 400, "messages[0].role", "invalid_value"),
    ({"model": "fast", "messages": [{"role": "user", "content": 3}]}, 400, "messages[0].content", "invalid_type"),
    (chat_body(max_tokens="ten"), 400, "max_tokens", "invalid_type"),
    (chat_body(max_tokens=0), 400, "max_tokens", "integer_below_min_value"),
    (chat_body(stream="yes"), 400, "stream", "invalid_type"),
    (chat_body(stream_options={"include_usage": True}), 400, "stream_options", "invalid_value"),
    (chat_body(temperature=3), 400, "temperature", "invalid_value"),
    (chat_body(n=2), 400, "n", "invalid_value"),
    (chat_body(model="nope"), 404, "model", "model_not_found"),
    ([1, 2], 400, None, "invalid_json"),
]


@pytest.mark.parametrize(("body", "status", "param", "code"), ERROR_TABLE)
def test_bad_requests_get_openai_errors_naming_the_param(
    mock: str, body: Any, status: int, param: str | None, code: str
) -> None:
    reply = requests.post(f"{mock}/v1/chat/completions", json=body, timeout=10)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert (error["param"], error["code"]) == (param, code)
    assert error["type"] == "invalid_request_error"
    if param:
        assert param.split("[")[0] in error["message"]


def test_body_that_is_not_json_is_a_400(mock: str) -> None:
    reply = requests.post(f"{mock}/v1/chat/completions", data=b"{not json", timeout=10)
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "invalid_json"


def test_unknown_model_lists_the_served_ones(mock: str) -> None:
    error = chat(mock, model="gpt-9").json()["error"]
    assert "gpt-9" in error["message"]
    assert "fast, limited, other, tiny-ctx" in error["message"]


def test_context_window_exceeded_gives_the_numbers(mock: str) -> None:
    reply = chat(mock, model="tiny-ctx", text="x" * 200, max_tokens=10)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert error["param"] == "messages"
    # 200 chars = 50 tokens + 6 framing = 56 in the messages, 10 in the completion: 66 > 64
    assert "maximum context length is 64 tokens" in error["message"]
    assert "requested 66 tokens (56 in the messages, 10 in the completion)" in error["message"]
    # Without max_tokens the answer is cut to the room left instead.
    body = chat(mock, model="tiny-ctx", text="x" * 200).json()
    assert body["usage"]["completion_tokens"] == 64 - 56
    assert body["choices"][0]["finish_reason"] == "length"


def test_unknown_url_is_an_openai_404(mock: str) -> None:
    reply = requests.get(f"{mock}/v1/nothing", timeout=10)
    assert reply.status_code == 404
    assert "Invalid URL (GET /v1/nothing)" in reply.json()["error"]["message"]


def test_models_health_and_pricing(mock: str) -> None:
    models = requests.get(f"{mock}/v1/models", timeout=10).json()
    assert models["object"] == "list"
    assert {m["id"]: m["context_window"] for m in models["data"]}["tiny-ctx"] == 64
    assert all(m["owned_by"] == "testprov" for m in models["data"])
    assert requests.get(f"{mock}/health", timeout=10).json() == {"status": "ok"}
    pricing = requests.get(f"{mock}/pricing", timeout=10).json()
    assert pricing["provider"] == "testprov"
    assert (pricing["currency"], pricing["unit"]) == ("USD", "per_million_tokens")
    assert pricing["models"]["fast"] == {"input": 2.0, "output": 8.0}
    assert pricing["models"]["other"] == {"input": 1.0, "output": 4.0}
    assert pricing["updated_at"].endswith("Z")


def test_metrics_count_requests_tokens_and_errors(mock: str) -> None:
    before = requests.get(f"{mock}/metrics", timeout=10).text
    chat(mock, model="other", max_tokens=5)
    raw_post(mock, chat_body(model="other", stream=True))
    chat(mock, model="other", messages=[])
    text = requests.get(f"{mock}/metrics", timeout=10).text

    def grew(name: str, **labels: str) -> float:
        return (metric_value(text, name, **labels) or 0) - (metric_value(before, name, **labels) or 0)

    assert grew("gameday_mock_completion_tokens_total", model="other") == 5 + 12
    assert grew("gameday_mock_prompt_tokens_total", model="other") == 18
    assert grew("gameday_mock_requests_total", model="other", status="200") == 2
    assert grew("gameday_mock_time_to_first_token_seconds_count", model="other") == 2
    assert grew("gameday_mock_inter_token_latency_seconds_count", model="other") == 4 + 11
    assert grew("gameday_mock_completions_total", model="other", finished_reason="length") == 1
    assert metric_value(text, "gameday_mock_requests_running", model="other") == 0
    assert metric_value(text, "gameday_mock_requests_waiting", model="other") == 0
    assert grew("gameday_mock_spend_usd_total", model="other") == pytest.approx((18 * 1.0 + 17 * 4.0) / 1e6)
    assert grew("gameday_mock_errors_total", model="other", kind="invalid_request") == 1
    assert grew("gameday_mock_requests_total", model="other", status="400") == 1
    assert "vllm:" not in text
