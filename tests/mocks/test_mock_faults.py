"""Each LLM-protocol fault of a live mock, as a client reading the socket sees it."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from mock_support import TOKEN, admin, chat, chat_body, raw_post

from support.procs import Service

STREAM = chat_body(stream=True, stream_options={"include_usage": True})


def add_fault(url: str, **body: Any) -> str:
    reply = admin(url, "POST", "/admin/faults", {"rate": 1, **body})
    assert reply.status_code == 201, reply.text
    return str(reply.json()["id"])


def timed_stream(url: str, body: dict[str, Any] = STREAM) -> tuple[float, Any]:
    start = time.perf_counter()
    reply = raw_post(url, body)
    return time.perf_counter() - start, reply


def test_stream_cut_ends_without_done_and_bills_what_was_sent(mock: str) -> None:
    add_fault(mock, kind="stream_cut", after_tokens=4)
    reply = raw_post(mock, STREAM)
    assert reply.status == 200
    assert reply.cut  # the chunked body never got its last chunk: the connection just closed
    assert "[DONE]" not in reply.data()
    assert reply.tokens() == 4
    assert all("usage" not in c for c in reply.chunks())
    bill = admin(mock, "GET", "/admin/bill").json()["models"]["fast"]
    assert (bill["requests"], bill["output_tokens"], bill["input_tokens"]) == (1, 4, 9)
    assert bill["usd"] == pytest.approx((9 * 2.0 + 4 * 8.0) / 1e6)


def test_sse_error_event_replaces_the_rest_of_the_stream(mock: str) -> None:
    add_fault(mock, kind="sse_error", after_tokens=3)
    reply = raw_post(mock, STREAM)
    assert not reply.cut  # the stream ends cleanly, but early
    assert reply.tokens() == 3
    assert "event: error" in reply.lines
    error = json.loads(reply.data()[-1])
    assert error["error"]["type"] == "server_error"
    assert "[DONE]" not in reply.data()
    assert admin(mock, "GET", "/admin/bill").json()["models"]["fast"]["output_tokens"] == 3


def test_malformed_chunk_is_a_data_line_that_is_not_json(mock: str) -> None:
    add_fault(mock, kind="malformed_chunk", after_tokens=2)
    reply = raw_post(mock, STREAM)
    bad = []
    for data in reply.data()[:-1]:
        try:
            json.loads(data)
        except ValueError:
            bad.append(data)
    assert len(bad) == 1
    assert bad[0].startswith("{")
    assert reply.data()[-1] == "[DONE]"  # the stream goes on after it
    assert reply.tokens() == 12


def test_stall_sends_only_keep_alives_then_continues(mock: str) -> None:
    add_fault(mock, kind="stall", after_tokens=2, stall_s=0.6)
    elapsed, reply = timed_stream(mock)
    assert elapsed >= 0.55
    assert ": keep-alive" in reply.lines
    assert reply.data()[-1] == "[DONE]"
    assert reply.tokens() == 12
    # The keep-alives sit between the second and the third token.
    tokens_before = 0
    for line in reply.lines:
        if line == ": keep-alive":
            break
        if line.startswith("data: ") and '"content":' in line and '"role"' not in line:
            tokens_before += 1
    assert tokens_before == 2


def test_first_token_delay_and_token_throttle(mock: str) -> None:
    baseline, _ = timed_stream(mock)
    fid = add_fault(mock, kind="first_token_delay", delay_s=0.5)
    delayed, reply = timed_stream(mock)
    assert delayed >= 0.5
    assert delayed - baseline >= 0.4
    assert reply.tokens() == 12
    admin(mock, "DELETE", f"/admin/faults/{fid}")
    add_fault(mock, kind="token_throttle", tokens_per_s=40)
    throttled, reply = timed_stream(mock)
    assert throttled >= 11 / 40 * 0.95  # 11 gaps at 25 ms
    assert reply.data()[-1] == "[DONE]"


def test_truncated_body_is_a_short_read_of_a_full_content_length(mock: str) -> None:
    whole = raw_post(mock, chat_body())
    add_fault(mock, kind="truncated_body", keep_fraction=0.3)
    reply = raw_post(mock, chat_body())
    assert reply.status == 200
    assert reply.cut
    full = int(reply.headers["content-length"])
    assert abs(full - len(whole.body)) <= 2  # same shape, another random answer
    assert len(reply.body) == int(full * 0.3)
    assert reply.expected_more == full - len(reply.body)
    with pytest.raises(ValueError, match=r"."):
        json.loads(reply.body)
    # Streamed requests are not affected by a body fault.
    assert raw_post(mock, STREAM).data()[-1] == "[DONE]"


def test_stream_faults_leave_whole_bodies_alone_and_model_filter_applies(mock: str) -> None:
    add_fault(mock, kind="stream_cut", after_tokens=1)
    add_fault(mock, kind="sse_error", after_tokens=1, model="other")
    assert chat(mock).status_code == 200  # not streamed: stream faults do not apply
    assert raw_post(mock, STREAM).cut
    other = raw_post(mock, chat_body(model="other", stream=True))
    assert not other.cut  # both strike after one token; the SSE error goes first and ends the stream
    assert "event: error" in other.lines


def test_fault_rate_is_a_share_of_requests(mock: str) -> None:
    add_fault(mock, kind="stream_cut", after_tokens=0, rate=0.5)
    cuts = sum(raw_post(mock, chat_body(stream=True, max_tokens=2)).cut for _ in range(40))
    assert 8 <= cuts <= 32


def test_metrics_count_faults_as_errors_by_kind(mock: str) -> None:
    add_fault(mock, kind="stream_cut", after_tokens=1)
    raw_post(mock, STREAM)
    text = admin(mock, "GET", "/metrics").text
    assert 'gameday_mock_errors_total{model="fast",kind="stream_cut"}' in text


def test_client_hanging_up_mid_stream_pays_for_what_was_sent_and_frees_its_slot(mock: str) -> None:
    add_fault(mock, kind="token_throttle", tokens_per_s=20)  # 50 ms a token: 12 tokens take 0.55 s
    parts = urlsplit(mock)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("POST", "/v1/chat/completions", json.dumps(STREAM), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    seen = 0
    while seen < 3:
        line = resp.readline()
        if line.startswith(b"data: ") and b'"delta":{"content":"' in line:
            seen += 1
    conn.sock.shutdown(socket.SHUT_RDWR)  # hang up mid-stream, as a client that timed out does
    conn.close()
    deadline = time.monotonic() + 5
    while admin(mock, "GET", "/admin/state").json()["capacity"]["fast"]["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert admin(mock, "GET", "/admin/state").json()["capacity"]["fast"]["running"] == 0
    bill = admin(mock, "GET", "/admin/bill").json()["models"]["fast"]
    assert bill["requests"] == 1
    assert 3 <= bill["output_tokens"] < 12  # what went out before the hang-up, not the whole answer


def test_a_long_stall_does_not_hold_up_shutdown(service_factory: Callable[..., Service]) -> None:
    svc = service_factory(
        ["mock", "--profile", "mocks/efficient.yaml"], name="stalled", env={"GAMEDAY_ADMIN_TOKEN": TOKEN}
    )
    add_fault(svc.url, kind="stall", after_tokens=1, stall_s=600)
    outcome: list[object] = []

    def stream() -> None:
        try:
            outcome.append(raw_post(svc.url, chat_body("swift-mini", stream=True)).cut)
        except OSError as exc:  # the server went away mid-read
            outcome.append(exc)

    client = threading.Thread(target=stream, daemon=True)
    client.start()
    deadline = time.monotonic() + 10
    while not admin(svc.url, "GET", "/admin/state").json()["capacity"]["swift-mini"]["running"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    start = time.monotonic()
    assert svc.stop(timeout=10) == 0
    assert time.monotonic() - start < 5
    client.join(5)
    assert len(outcome) == 1
    assert outcome[0] is not False  # cut short or reset, never a finished stream
    assert "Traceback" not in svc.log()
