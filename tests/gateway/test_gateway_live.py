"""The gateway process in front of real mock provider processes: faults injected through the mocks' admin API.

One set of mocks and one gateway serve the module (each test resets the faults it injected); tests
that need other settings start their own gateway process in front of the same mocks.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
import requests
import yaml
from gw_support import policy_data

from gameday.faults.mock_admin import MockAdminClient
from support.procs import Service, start_service

TOKEN = "gateway-live-test-token"
ENV = {"GAMEDAY_ADMIN_TOKEN": TOKEN}
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROVIDERS = ("premium", "efficient", "local-vllm")
FAST = {"connect_s": 0.5, "ttft_s": 2.0, "stall_s": 1.5, "response_s": 10.0, "total_s": 20.0}


def write_policy(path: Path, **changes: Any) -> Path:
    data = policy_data(timeouts=FAST, budget={"ceiling_usd": None}, cache={"ttl_s": 0}, **changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def gateway_args(policy: Path, urls: dict[str, str]) -> list[str]:
    args = ["gateway", "--policy", str(policy), "--seed", "3"]
    for provider, url in urls.items():
        args += ["--upstream", f"{provider}={url}"]
    return args


@pytest.fixture(scope="module")
def mocks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Service]]:
    tmp = tmp_path_factory.mktemp("mocks")
    started: dict[str, Service] = {}
    try:
        for name in PROVIDERS:
            args = ["mock", "--profile", f"mocks/{name}.yaml", "--seed", "11"]
            started[name] = start_service(args, tmp, name=name, env=ENV)
        yield started
    finally:
        for svc in started.values():
            svc.stop()


@pytest.fixture(scope="module")
def gateway(mocks: dict[str, Service], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("gateway")
    policy = write_policy(tmp / "policy.yaml", breaker={"min_requests": 1000})
    svc = start_service(gateway_args(policy, {n: s.url for n, s in mocks.items()}), tmp, name="gateway", env=ENV)
    yield svc
    svc.stop()


@pytest.fixture
def premium(mocks: dict[str, Service]) -> Iterator[MockAdminClient]:
    with MockAdminClient(mocks["premium"].url, TOKEN) as admin:
        admin.reset()
        yield admin
        admin.reset()


def chat(url: str, tier: str = "high", task: str = "chat", stream: bool = False, **body: Any) -> requests.Response:
    payload = {"model": "auto", "messages": [{"role": "user", "content": "Tell me about tides."}], "max_tokens": 24}
    payload.update(body, stream=stream)
    headers = {"content-type": "application/json", "x-gameday-tier": tier, "x-gameday-task": task}
    return requests.post(f"{url}/v1/chat/completions", data=orjson.dumps(payload), headers=headers, timeout=30)


def sse(reply: requests.Response) -> list[Any]:
    return [
        line[6:] if line == "data: [DONE]" else orjson.loads(line[6:])
        for line in reply.text.splitlines()
        if line.startswith("data: ")
    ]


def test_live_5xx_on_the_primary_falls_back_to_frontier_alt(gateway: Service, premium: MockAdminClient) -> None:
    premium.set_errors(503, 1.0, model="frontier-large")
    reply = chat(gateway.url)
    assert reply.status_code == 200
    assert reply.json()["model"] == "frontier-alt"
    assert reply.headers["x-gameday-fallback"].startswith("frontier-large:http_503")
    reply = chat(gateway.url, stream=True)
    chunks = sse(reply)
    assert chunks[-1] == "[DONE]"
    assert {c["model"] for c in chunks[:-1]} == {"frontier-alt"}
    bill = premium.bill().models
    assert bill["frontier-alt"].requests >= 2


def test_live_first_token_too_late_falls_back(gateway: Service, premium: MockAdminClient) -> None:
    premium.add_fault("first_token_delay", 1.0, model="frontier-large", delay_s=15)
    started = time.monotonic()
    reply = chat(gateway.url, stream=True)
    assert reply.headers["x-gameday-model"] == "frontier-alt"
    assert reply.headers["x-gameday-fallback"].startswith("frontier-large:ttft")
    assert sse(reply)[-1] == "[DONE]"
    assert time.monotonic() - started < 10.0  # the 2 s TTFT limit, then frontier-alt; not the 15 s delay


def test_live_stall_mid_stream_ends_with_an_error_event_and_the_sdk_raises(
    gateway: Service, premium: MockAdminClient
) -> None:
    premium.add_fault("stall", 1.0, model="frontier-large", after_tokens=1, stall_s=30)
    started = time.monotonic()
    reply = chat(gateway.url, stream=True, max_tokens=48)
    chunks = sse(reply)
    assert reply.headers["x-gameday-model"] == "frontier-large"
    assert chunks[-1]["error"]["code"] == "upstream_stall"
    assert "[DONE]" not in chunks
    assert any(c.get("choices") and c["choices"][0]["delta"].get("content") for c in chunks[:-1])
    assert time.monotonic() - started < 12.0  # the 1.5 s stall limit, not the 30 s stall
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="unused", max_retries=0, timeout=20)
    stream = client.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "Tell me about tides."}],
        max_tokens=48,
        stream=True,
        extra_headers={"x-gameday-tier": "high"},
    )
    with pytest.raises(openai.APIError, match="stopped sending mid-stream"):
        for _ in stream:
            pass


def test_live_retry_after_from_the_mock_is_honoured(
    mocks: dict[str, Service], premium: MockAdminClient, service_factory: Callable[..., Service], tmp_path: Path
) -> None:
    # its own gateway: the 30 s Retry-After keeps frontier-large aside for every later request of that gateway
    gw = service_factory(gateway_args(write_policy(tmp_path / "p.yaml"), _urls(mocks)), name="gw-retry", env=ENV)
    premium.set_errors(429, 1.0, retry_after_s=30, model="frontier-large")
    first = chat(gw.url)
    assert first.headers["x-gameday-model"] == "frontier-alt"
    assert first.headers["x-gameday-fallback"].startswith("frontier-large:http_429")
    second = chat(gw.url)
    assert second.headers["x-gameday-attempts"] == "1"
    assert second.headers["x-gameday-fallback"] == "frontier-large:retry_after"


def test_live_high_tier_escalates_while_low_is_served(gateway: Service, premium: MockAdminClient) -> None:
    premium.set_errors(500, 1.0)  # both frontier models
    reply = chat(gateway.url, tier="high")
    assert reply.status_code == 503
    error = reply.json()["error"]
    assert error["code"] == "tier_escalation"
    assert "not downgrading" in error["message"]
    assert reply.headers["x-gameday-route"] == "high"
    low = chat(gateway.url, tier="low", task="summarize")
    assert low.status_code == 200
    assert low.headers["x-gameday-model"] == "swift-mini"


def test_live_openai_sdk_streams_through_and_sees_the_served_model(gateway: Service, premium: MockAdminClient) -> None:
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="unused", max_retries=0, timeout=20)
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": "Write a haiku about the sea."}],
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"x-gameday-tier": "high", "x-gameday-task": "chat"},
    )
    assert raw.headers["x-gameday-route"] == "high"
    text, models, usage = "", set(), None
    for chunk in raw.parse():
        models.add(chunk.model)
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage is not None:
            usage = chunk.usage
    assert text
    assert models == {raw.headers["x-gameday-model"]}
    assert usage is not None
    assert usage.completion_tokens > 0
    whole = client.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "Summarize: the tide rose."}], max_tokens=8
    )
    assert whole.model in {"swift-mini", "tiny", "frontier-alt"}
    assert whole.choices[0].message.content
    assert [m.id for m in client.models.list()][:2] == ["auto", "frontier-large"]


def test_live_kill_switch_routes_everything_to_the_baseline(gateway: Service, premium: MockAdminClient) -> None:
    on = requests.post(f"{gateway.url}/admin/kill-switch", headers=AUTH, timeout=5)
    try:
        assert on.status_code == 200
        assert on.json()["kill_switch"] == "swift-mini"
        reply = chat(gateway.url, tier="high")
        assert reply.headers["x-gameday-model"] == "swift-mini"
        assert reply.headers["x-gameday-fallback"] == "kill_switch"
    finally:
        requests.delete(f"{gateway.url}/admin/kill-switch", headers=AUTH, timeout=5)
    assert chat(gateway.url, tier="high").headers["x-gameday-model"].startswith("frontier-")


def _urls(mocks: dict[str, Service]) -> dict[str, str]:
    return {name: svc.url for name, svc in mocks.items()}


def _breakers(url: str) -> dict[str, Any]:
    return requests.get(f"{url}/admin/breakers", headers=AUTH, timeout=5).json()


def test_live_breaker_opens_and_closes(
    mocks: dict[str, Service], premium: MockAdminClient, service_factory: Callable[..., Service], tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "p.yaml", breaker={"window_s": 30, "min_requests": 4, "failure_rate": 0.5,
                                                         "open_s": 1.0})  # fmt: skip
    gw = service_factory(gateway_args(policy, {n: s.url for n, s in mocks.items()}), name="gw-breaker", env=ENV)
    premium.set_errors(500, 1.0, model="frontier-large")
    for _ in range(4):
        assert chat(gw.url, max_tokens=2).status_code == 200
    assert _breakers(gw.url)["frontier-large"]["state"] == "open"
    assert chat(gw.url, max_tokens=2).headers["x-gameday-fallback"] == "frontier-large:breaker_open"
    premium.clear_errors()
    time.sleep(1.1)
    assert chat(gw.url, max_tokens=2).headers["x-gameday-model"] == "frontier-large"  # the half-open probe
    assert _breakers(gw.url)["frontier-large"]["state"] == "closed"


def test_live_refused_provider(
    mocks: dict[str, Service], service_factory: Callable[..., Service], tmp_path: Path
) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    urls = {**{n: s.url for n, s in mocks.items()}, "premium": closed}
    gw = service_factory(gateway_args(write_policy(tmp_path / "p.yaml"), urls), name="gw-refused", env=ENV)
    reply = chat(gw.url, tier="medium", task="code")
    assert reply.status_code == 200
    assert reply.headers["x-gameday-model"] == "swift-mini"
    assert "frontier-alt:connect" in reply.headers["x-gameday-fallback"]
    started = time.monotonic()
    reply = chat(gw.url, tier="high")
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "tier_escalation"
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize(
    ("kind", "code"), [("stream_cut", "upstream_cut"), ("sse_error", "upstream_sse_error"),
                       ("malformed_chunk", "upstream_bad_body")]
)  # fmt: skip
def test_live_broken_streams_end_with_an_error_event_or_fall_back_before_the_first_token(
    gateway: Service, premium: MockAdminClient, kind: str, code: str
) -> None:
    fault = premium.add_fault(kind, 1.0, model="frontier-large", after_tokens=2)
    chunks = sse(chat(gateway.url, stream=True, max_tokens=32))
    assert chunks[-1]["error"]["code"] == code
    assert "[DONE]" not in chunks
    assert {c["model"] for c in chunks[:-1]} == {"frontier-large"}
    premium.remove_fault(fault)
    premium.add_fault(kind, 1.0, model="frontier-large", after_tokens=0)
    reply = chat(gateway.url, stream=True, max_tokens=8)
    assert reply.headers["x-gameday-model"] == "frontier-alt"
    assert sse(reply)[-1] == "[DONE]"


def test_live_truncated_body_falls_back(mocks: dict[str, Service], premium: MockAdminClient, tmp_path: Path) -> None:
    # Only a gateway that asks for whole bodies upstream can be handed a truncated one.
    policy = tmp_path / "policy.yaml"
    data = policy_data(
        timeouts={**FAST, "stream_upstream": False},
        budget={"ceiling_usd": None},
        cache={"ttl_s": 0},
        breaker={"min_requests": 1000},
    )
    policy.write_text(yaml.safe_dump(data, sort_keys=False))
    gateway = start_service(gateway_args(policy, {n: s.url for n, s in mocks.items()}), tmp_path, "gw", env=ENV)
    try:
        premium.add_fault("truncated_body", 1.0, model="frontier-large", keep_fraction=0.5)
        reply = chat(gateway.url)
        assert reply.status_code == 200
        assert reply.json()["model"] == "frontier-alt"
        assert reply.headers["x-gameday-fallback"].startswith("frontier-large:")
    finally:
        gateway.stop()


def test_live_non_streamed_request_is_streamed_upstream_and_assembled(
    gateway: Service, premium: MockAdminClient
) -> None:
    # A fault that exists only for whole bodies never reaches a gateway that streams upstream; the
    # client still gets one chat.completion, with the usage and the cost of what was generated.
    premium.add_fault("truncated_body", 1.0, model="frontier-large", keep_fraction=0.5)
    reply = chat(gateway.url)
    assert reply.status_code == 200
    body = reply.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "frontier-large"
    assert body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] in ("stop", "length")
    usage = body["usage"]
    expected = (usage["prompt_tokens"] * 3.0 + usage["completion_tokens"] * 15.0) / 1e6
    assert float(reply.headers["x-gameday-cost-usd"]) == pytest.approx(expected, rel=1e-6)


def test_live_slow_first_token_of_a_non_streamed_request_falls_back_at_the_ttft_deadline(
    gateway: Service, premium: MockAdminClient
) -> None:
    premium.add_fault("first_token_delay", 1.0, model="frontier-large", delay_s=8.0)
    started = time.monotonic()
    reply = chat(gateway.url)
    elapsed = time.monotonic() - started
    assert reply.status_code == 200
    assert reply.json()["model"] == "frontier-alt"
    assert reply.headers["x-gameday-fallback"].startswith("frontier-large:ttft")
    assert elapsed < 6.0  # the 2 s first-token deadline, not the 8 s delay nor the 10 s response_s
