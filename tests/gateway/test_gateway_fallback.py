"""Fallback, retries, breaker, escalation, budget, headers: the real gateway on a socket, a scripted upstream behind.

Timing assertions have wide margins (two cores shared by several test runs): they separate "waited
for the timeout / Retry-After" from "did not wait at all", never milliseconds.
"""

from __future__ import annotations

import asyncio
import socket
import time

from gw_support import FakeUpstream, Running, all_to, make_policy, run, running_gateway, sse_chunks

HIGH = ["frontier-large", "frontier-alt"]


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connections are refused
    return f"http://127.0.0.1:{port}"


async def with_fake(test, policy=None, urls=None, **kw) -> None:  # type: ignore[no-untyped-def]
    fake = FakeUpstream()
    await fake.start()
    try:
        async with running_gateway(policy or make_policy(), urls or all_to(fake.url), **kw) as gw:
            await test(gw, fake)
    finally:
        await fake.stop()


def test_primary_5xx_falls_back_transparently_stream_and_not() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        fake.script("frontier-large", status=503)
        status, headers, body = await gw.chat("high")
        assert status == 200
        assert body["model"] == "frontier-alt"
        assert headers["x-gameday-model"] == "frontier-alt"
        assert headers["x-gameday-provider"] == "premium"
        assert headers["x-gameday-route"] == "high"
        assert headers["x-gameday-attempts"] == "2"
        assert headers["x-gameday-fallback"].startswith("frontier-large:http_503")
        assert float(headers["x-gameday-cost-usd"]) > 0
        status, headers, text = await gw.chat("high", stream=True)
        chunks = sse_chunks(text)
        assert status == 200
        assert chunks[-1] == "[DONE]"
        assert {c["model"] for c in chunks[:-1]} == {"frontier-alt"}
        assert headers["x-gameday-fallback"].startswith("frontier-large:http_503")
        assert all("error" not in c for c in chunks[:-1])

    run(lambda: with_fake(test))


def test_no_first_token_in_time_falls_back_before_the_client_sees_a_byte() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        fake.script("frontier-large", first_token_delay_s=5.0)
        started = time.monotonic()
        status, headers, text = await gw.chat("high", stream=True)
        elapsed = time.monotonic() - started
        assert status == 200
        assert headers["x-gameday-model"] == "frontier-alt"
        assert headers["x-gameday-fallback"].startswith("frontier-large:ttft")
        assert {c["model"] for c in sse_chunks(text)[:-1]} == {"frontier-alt"}
        assert 0.4 < elapsed < 4.0  # waited for the 0.5 s TTFT limit, not for the 5 s delay
        fake.script("frontier-large", headers_delay_s=5.0)  # non-streamed, streamed upstream: timed the same
        status, headers, body = await gw.chat("high")
        assert status == 200
        assert body["model"] == "frontier-alt"
        assert headers["x-gameday-fallback"].startswith("frontier-large:ttft")

    run(lambda: with_fake(test, make_policy(timeouts={"response_s": 0.5})))


def test_without_stream_upstream_a_non_streamed_request_has_the_whole_response_limit() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        fake.script("frontier-large", headers_delay_s=5.0)
        status, headers, body = await gw.chat("high")
        assert status == 200
        assert body["model"] == "frontier-alt"
        assert headers["x-gameday-fallback"].startswith("frontier-large:timeout")

    run(lambda: with_fake(test, make_policy(timeouts={"response_s": 0.5, "stream_upstream": False})))


def test_stall_or_cut_after_the_first_token_ends_the_stream_with_an_error_event() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        fake.script("frontier-large", stall_after=2, stall_s=30.0)
        started = time.monotonic()
        status, headers, text = await gw.chat("high", stream=True)
        elapsed = time.monotonic() - started
        chunks = sse_chunks(text)
        assert status == 200
        assert headers["x-gameday-model"] == "frontier-large"
        assert [c["choices"][0]["delta"].get("content") for c in chunks[:-1] if "choices" in c][-2:] == [
            "tok0 ",
            "tok1 ",
        ]
        assert chunks[-1]["error"]["code"] == "upstream_stall"
        assert "[DONE]" not in chunks
        assert elapsed < 5.0  # ended after the 0.5 s stall limit, never hung on the 30 s stall
        fake.script("frontier-large", cut_after=1)
        status, _, text = await gw.chat("high", stream=True)
        assert sse_chunks(text)[-1]["error"]["code"] == "upstream_cut"
        fake.script("frontier-large", stall_after=0, stall_s=30.0)  # silent before any token: a fallback
        status, headers, text = await gw.chat("high", stream=True)
        assert headers["x-gameday-model"] == "frontier-alt"
        assert sse_chunks(text)[-1] == "[DONE]"
        assert gw.gateway.metrics.stream_errors.get("frontier-large", "stall") == 1

    run(lambda: with_fake(test))


def test_refused_connections_fall_back_and_the_high_tier_escalates_instead_of_downgrading() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        status, headers, body = await gw.chat("medium", task="code")
        assert status == 200
        assert body["model"] == "swift-mini"
        assert headers["x-gameday-fallback"] == "frontier-alt:connect,frontier-large:connect"
        started = time.monotonic()
        status, headers, body = await gw.chat("high", task="chat")
        assert time.monotonic() - started < 3.0  # refused fast, not left hanging
        assert status == 503
        assert body["error"]["code"] == "tier_escalation"
        assert "not downgrading to swift-mini, tiny" in body["error"]["message"]
        assert headers["x-gameday-route"] == "high"
        assert int(headers["x-gameday-attempts"]) >= 2
        assert headers["x-gameday-cost-usd"] == "0"
        assert fake.count("swift-mini") == 1  # only the code request: the high tier never reached it

    async def outer() -> None:
        fake = FakeUpstream()
        await fake.start()
        urls = {**all_to(fake.url), "premium": closed_port_url()}
        try:
            async with running_gateway(make_policy(), urls) as gw:
                await test(gw, fake)
        finally:
            await fake.stop()

    run(outer)


def test_retry_after_is_honoured_for_every_request_until_it_passes() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        fake.script("frontier-large", status=429, retry_after="0.8")
        _, headers, _ = await gw.chat("high")
        assert headers["x-gameday-model"] == "frontier-alt"
        assert headers["x-gameday-attempts"] == "2"
        _, headers, _ = await gw.chat("high")  # within the Retry-After: frontier-large is left alone
        assert headers["x-gameday-attempts"] == "1"
        assert headers["x-gameday-fallback"] == "frontier-large:retry_after"
        assert fake.count("frontier-large") == 1
        await asyncio.sleep(0.9)
        await gw.chat("high")
        assert fake.count("frontier-large") == 2

    run(lambda: with_fake(test))


def test_when_every_model_says_retry_after_the_request_waits_once_and_succeeds() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        for model in HIGH:
            fake.script(model, status=429, retry_after="0.6", times=1)
        started = time.monotonic()
        status, headers, body = await gw.chat("high")
        assert status == 200
        assert body["model"] == "frontier-large"
        assert "x-gameday-fallback" not in headers
        assert headers["x-gameday-attempts"] == "3"
        hits = [h.at for h in fake.hits if h.model == "frontier-large"]
        assert hits[1] - hits[0] >= 0.55  # not before the upstream's Retry-After
        assert time.monotonic() - started < 3.0

    run(lambda: with_fake(test))


def test_retry_after_over_the_cap_is_not_waited_for() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        for model in HIGH:
            fake.script(model, status=429, retry_after="30")
        started = time.monotonic()
        status, _, body = await gw.chat("high")
        assert time.monotonic() - started < 2.0
        assert status == 503
        assert body["error"]["code"] == "tier_escalation"
        assert [h.model for h in fake.hits] == HIGH  # one attempt each, no retry pass

    run(lambda: with_fake(test))


def test_breaker_opens_on_failures_and_closes_after_a_good_probe() -> None:
    policy = make_policy(breaker={"window_s": 30, "min_requests": 4, "failure_rate": 0.5, "open_s": 0.6})

    async def test(gw: Running, fake: FakeUpstream) -> None:
        fake.script("frontier-large", status=500)
        for _ in range(4):
            status, _, _ = await gw.chat("high")
            assert status == 200
        assert gw.gateway.breakers["frontier-large"].state == "open"
        _, headers, _ = await gw.chat("high")
        assert headers["x-gameday-fallback"] == "frontier-large:breaker_open"
        assert headers["x-gameday-attempts"] == "1"
        assert fake.count("frontier-large") == 4
        async with gw.session.get(f"{gw.url}/metrics") as reply:
            assert 'gameday_gateway_breaker_state{model="frontier-large"} 2' in await reply.text()
        async with gw.session.get(f"{gw.url}/healthz") as reply:
            assert (await reply.json())["breakers"] == ["frontier-large"]
        fake.script("frontier-large")  # healthy again
        await asyncio.sleep(0.7)
        _, headers, _ = await gw.chat("high")
        assert headers["x-gameday-model"] == "frontier-large"  # the half-open probe
        assert gw.gateway.breakers["frontier-large"].state == "closed"
        async with gw.session.get(f"{gw.url}/metrics") as reply:
            assert 'gameday_gateway_breaker_state{model="frontier-large"} 0' in await reply.text()

    run(lambda: with_fake(test, policy))


def test_budget_picks_a_cheaper_allowed_model_then_refuses_with_429() -> None:
    # Worst cases of the default request (11 estimated prompt tokens, max_tokens 16): frontier-large 273 micro-USD,
    # frontier-alt 187.5; it then costs 52.5 (5 + 4 tokens billed). A 200 ceiling fits frontier-alt once only.
    policy = make_policy(budget={"ceiling_usd": 0.0002, "window_s": 600, "on_exceed": "cheaper"})

    async def test(gw: Running, fake: FakeUpstream) -> None:
        status, headers, _ = await gw.chat("high")
        assert status == 200
        assert headers["x-gameday-model"] == "frontier-alt"
        assert headers["x-gameday-fallback"] == "frontier-large:budget"
        status, headers, body = await gw.chat("high")
        assert status == 429
        assert body["error"]["code"] == "budget_exceeded"
        assert "spend ceiling" in body["error"]["message"]
        assert int(headers["retry-after"]) >= 1
        assert fake.count("frontier-large") == 0
        status, headers, _ = await gw.chat("low", task="summarize")  # the cheap models still fit
        assert status == 200
        assert headers["x-gameday-model"] == "swift-mini"

    run(lambda: with_fake(test, policy))


def test_near_the_ceiling_every_request_tries_its_cheapest_allowed_model_first() -> None:
    # Each default high-tier request settles at 52.5 micro-USD on frontier-large (see above). With a
    # 1000 micro-USD ceiling and the soft threshold at 10%, the first two requests take the primary;
    # from then on frontier-alt (cheaper, allowed for high) serves first, and no request is refused.
    policy = make_policy(budget={"ceiling_usd": 0.001, "window_s": 600, "prefer_cheaper_above": 0.1})

    async def test(gw: Running, fake: FakeUpstream) -> None:
        served = []
        for _ in range(6):
            status, headers, _ = await gw.chat("high")
            assert status == 200
            served.append((headers["x-gameday-model"], headers.get("x-gameday-fallback")))
        assert served[:2] == [("frontier-large", None)] * 2
        assert served[2:] == [("frontier-alt", "frontier-large:budget_near_ceiling")] * 4
        status, headers, _ = await gw.chat("low", task="summarize")  # tiny is the cheapest the low tier allows
        assert (status, headers["x-gameday-model"]) == (200, "tiny")
        assert headers["x-gameday-fallback"] == "swift-mini:budget_near_ceiling"

    run(lambda: with_fake(test, policy))


def test_without_request_checks_the_gateway_is_a_thin_proxy_that_relays_what_the_provider_says() -> None:
    policy = make_policy(guardrails={"validate_requests": False})

    async def test(gw: Running, fake: FakeUpstream) -> None:
        # A blank prompt and an unknown field: the checking gateway refuses both; a thin proxy forwards them.
        status, headers, _ = await gw.chat("high", messages=[{"role": "user", "content": "   "}], modle="x")
        assert status == 200
        assert headers["x-gameday-model"] == "frontier-large"
        assert fake.count("frontier-large") == 1
        # What cannot be routed at all is still refused, without a provider seeing it.
        json_type = {"content-type": "application/json"}
        async with gw.session.post(f"{gw.url}/v1/chat/completions", data=b"[1, 2]", headers=json_type) as reply:
            assert reply.status == 400
        assert fake.count("frontier-large") == 1

    run(lambda: with_fake(test, policy))


def test_kill_switch_route_override_and_pinned_model() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        gw.gateway.set_kill_switch("swift-mini")
        _, headers, body = await gw.chat("high")
        assert body["model"] == "swift-mini"
        assert headers["x-gameday-route"] == "kill-switch"
        assert headers["x-gameday-fallback"] == "kill_switch"
        gw.gateway.set_kill_switch(None)
        gw.gateway.set_route_override("low", "tiny")
        _, headers, _ = await gw.chat("low", task="chat")
        assert headers["x-gameday-model"] == "tiny"
        assert "x-gameday-fallback" not in headers
        _, headers, _ = await gw.chat("high", model="frontier-alt")
        assert headers["x-gameday-model"] == "frontier-alt"
        assert "x-gameday-fallback" not in headers
        status, _, body = await gw.chat("high", model="tiny")
        assert status == 400
        assert body["error"]["param"] == "model"

    run(lambda: with_fake(test))


def test_admin_kill_switch_over_http() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        auth = {"Authorization": "Bearer t0k"}
        async with gw.session.post(f"{gw.url}/admin/kill-switch", json={"model": "tiny"}, headers=auth) as reply:
            assert reply.status == 200
            assert (await reply.json())["kill_switch"] == "tiny"
        _, headers, _ = await gw.chat("high")
        assert headers["x-gameday-model"] == "tiny"
        async with gw.session.delete(f"{gw.url}/admin/kill-switch", headers=auth) as reply:
            assert reply.status == 200
        _, headers, _ = await gw.chat("high")
        assert headers["x-gameday-model"] == "frontier-large"
        async with gw.session.get(f"{gw.url}/admin/state", headers=auth) as reply:
            state = await reply.json()
        assert state["breakers"]["frontier-large"]["state"] == "closed"
        assert state["kill_switch"] is None

    run(lambda: with_fake(test, admin_token="t0k"))


def test_upstream_400_is_relayed_not_retried_and_errors_carry_headers() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        fake.script("frontier-large", status=400)
        status, headers, body = await gw.chat("high")
        assert status == 400
        assert body["error"]["message"] == "scripted 400"
        assert fake.count("frontier-alt") == 0
        assert headers["x-gameday-cost-usd"] == "0.0000000000"
        assert gw.gateway.breakers["frontier-large"].snapshot()["failures_in_window"] == 0
        status, headers, body = await gw.chat("high", max_tokens=-5)
        assert status == 400
        assert body["error"]["param"] == "max_tokens"
        assert headers["x-gameday-cost-usd"] == "0"
        assert headers["x-gameday-attempts"] == "0"

    run(lambda: with_fake(test))


def test_usage_chunk_carries_the_cost_and_cache_serves_deterministic_repeats() -> None:
    policy = make_policy(cache={"ttl_s": 30})

    async def test(gw: Running, fake: FakeUpstream) -> None:
        status, headers, text = await gw.chat("high", stream=True, stream_options={"include_usage": True})
        assert status == 200
        usage = [c for c in sse_chunks(text)[:-1] if c.get("usage")]
        assert len(usage) == 1
        assert usage[0]["usage"]["cost_usd"] > 0
        assert headers["x-gameday-cost-basis"] == "reserved"
        assert float(headers["x-gameday-cost-usd"]) >= usage[0]["usage"]["cost_usd"]
        _, _, text = await gw.chat("high", stream=True)
        assert not [c for c in sse_chunks(text)[:-1] if c.get("usage")]  # not asked for: not sent
        await gw.chat("low", task="extract", temperature=0)
        _, headers, body = await gw.chat("low", task="extract", temperature=0)
        assert headers["x-gameday-cache"] == "hit"
        assert body["model"] == "swift-mini"
        assert fake.count("swift-mini") == 1

    run(lambda: with_fake(test, policy))


def test_models_health_and_metrics() -> None:
    async def test(gw: Running, fake: FakeUpstream) -> None:
        await gw.chat("high")
        async with gw.session.get(f"{gw.url}/v1/models") as reply:
            ids = [m["id"] for m in (await reply.json())["data"]]
        assert ids == ["auto", "frontier-large", "frontier-alt", "swift-mini", "tiny"]
        async with gw.session.get(f"{gw.url}/healthz") as reply:
            assert reply.status == 200
            assert (await reply.json())["status"] == "ok"
        async with gw.session.get(f"{gw.url}/metrics") as reply:
            text = await reply.text()
        for needle in (
            'gameday_gateway_requests_total{route="high",model="frontier-large",status="200"} 1',
            'gameday_gateway_upstream_attempts_total{provider="premium",model="frontier-large",outcome="ok"} 1',
            "gameday_gateway_ttft_seconds_count",
            'gameday_gateway_spend_usd_total{provider="premium",model="frontier-large"}',
        ):
            assert needle in text

    run(lambda: with_fake(test))


def test_a_client_leaving_mid_stream_frees_its_reservation_and_is_no_verdict_on_the_model() -> None:
    policy = make_policy(budget={"ceiling_usd": 10.0, "window_s": 600})

    async def test(gw: Running, fake: FakeUpstream) -> None:
        fake.script("frontier-large", tokens=40, stall_after=2, stall_s=0.3)
        payload = {"model": "auto", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 64, "stream": True}
        reply = await gw.session.post(f"{gw.url}/v1/chat/completions", json=payload, headers={"x-gameday-tier": "high"})
        await reply.content.readline()  # the first chunk arrived...
        reply.close()  # ...and the client is gone
        for _ in range(100):
            if gw.gateway.budget.status()["in_flight"] == 0:
                break
            await asyncio.sleep(0.02)
        status = gw.gateway.budget.status()
        assert status["in_flight"] == 0
        assert status["spent_in_window"] > 0  # what was streamed (and the prompt) is counted
        assert gw.gateway.breakers["frontier-large"].snapshot()["failures_in_window"] == 0

    run(lambda: with_fake(test, policy))
