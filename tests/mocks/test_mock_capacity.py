"""THE capacity test: twice the slots in flight really queues, and the queue shows in vLLM's metrics."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Iterator

import aiohttp
import pytest
import requests
from mock_support import TOKEN, chat_body, metric_value, model_yaml, profile_yaml, write_profile

from support.procs import Service, start_service

SLOTS = 8
VLLM_NAMES = (
    "vllm:num_requests_running",
    "vllm:num_requests_waiting",
    "vllm:kv_cache_usage_perc",
    "vllm:gpu_cache_usage_perc",
    "vllm:time_to_first_token_seconds",
    "vllm:e2e_request_latency_seconds",
    "vllm:inter_token_latency_seconds",
    "vllm:prompt_tokens_total",
    "vllm:generation_tokens_total",
)


@pytest.fixture(scope="module")
def vllm_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("vllm")
    model = model_yaml(
        ttft=0.02, ttft_p95=0.03, itl=0.004, itl_p95=0.006, tokens=15, slots=SLOTS, queue=64, slowdown=0.5,
        contention=0.001,
    )  # fmt: skip
    path = write_profile(root, profile_yaml(provider="local-test", flavor="vllm", models={"tiny-test": model}))
    svc = start_service(
        ["mock", "--profile", str(path), "--seed", "5"], root, name="vllm", env={"GAMEDAY_ADMIN_TOKEN": TOKEN}
    )
    yield svc
    svc.stop()


async def _level(url: str, in_flight: int, rounds: int) -> tuple[list[float], float]:
    """Closed loop: `in_flight` clients, `rounds` streamed requests each. Returns TTFTs and the most waiting seen."""
    loop = asyncio.get_running_loop()
    ttfts: list[float] = []
    most_waiting = 0.0
    running = True
    body = chat_body("tiny-test", stream=True)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            for _ in range(rounds):
                start = loop.time()
                first: float | None = None
                async with session.post(f"{url}/v1/chat/completions", json=body) as reply:
                    assert reply.status == 200
                    async for line in reply.content:
                        if first is None and line.startswith(b"data: ") and b'"delta":{"content":"' in line:
                            first = loop.time() - start
                assert first is not None
                ttfts.append(first)

        async def watch() -> None:
            nonlocal most_waiting
            while running:
                async with session.get(f"{url}/metrics") as reply:
                    text = await reply.text()
                waiting = metric_value(text, "vllm:num_requests_waiting", model_name="tiny-test", engine="0") or 0.0
                most_waiting = max(most_waiting, waiting)
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(client() for _ in range(in_flight)))
        running = False
        await watcher
    return ttfts, most_waiting


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def test_twice_the_slots_in_flight_doubles_p95_ttft_and_shows_waiting(vllm_mock: Service) -> None:
    light, light_waiting = asyncio.run(_level(vllm_mock.url, SLOTS // 2, rounds=5))
    heavy, heavy_waiting = asyncio.run(_level(vllm_mock.url, SLOTS * 2, rounds=3))
    assert light_waiting == 0
    assert heavy_waiting > 0
    ratio = p95(heavy) / p95(light)
    assert ratio >= 2.0, (
        f"p95 TTFT {p95(light) * 1000:.0f} ms at {SLOTS // 2} -> {p95(heavy) * 1000:.0f} ms at {SLOTS * 2}"
    )
    text = requests.get(f"{vllm_mock.url}/metrics", timeout=10).text
    labels = {"model_name": "tiny-test", "engine": "0"}
    assert metric_value(text, "vllm:time_to_first_token_seconds_count", **labels) == len(light) + len(heavy)
    assert metric_value(text, "vllm:generation_tokens_total", **labels) == 15 * (len(light) + len(heavy))
    assert metric_value(text, "vllm:num_requests_running", **labels) == 0


def test_vllm_flavor_uses_vllm_metric_names(vllm_mock: Service) -> None:
    requests.post(f"{vllm_mock.url}/v1/chat/completions", json=chat_body("tiny-test"), timeout=10).raise_for_status()
    text = requests.get(f"{vllm_mock.url}/metrics", timeout=10).text
    families = {line.split()[2]: line.split()[3] for line in text.splitlines() if line.startswith("# TYPE")}
    for name in VLLM_NAMES:
        assert name in families, name
    assert families["vllm:num_requests_waiting"] == "gauge"
    assert families["vllm:time_to_first_token_seconds"] == "histogram"
    assert families["vllm:prompt_tokens_total"] == "counter"
    assert 'vllm:e2e_request_latency_seconds_bucket{model_name="tiny-test",engine="0",le="+Inf"}' in text
    assert metric_value(text, "vllm:kv_cache_usage_perc", model_name="tiny-test", engine="0") == 0
    assert not [n for n in families if n.startswith("gameday_mock_") and "running" in n]


def test_kv_cache_usage_rises_while_requests_run(vllm_mock: Service) -> None:
    async def scenario() -> float:
        async with aiohttp.ClientSession() as session:
            body = chat_body("tiny-test", stream=True, max_tokens=15)
            replies = [
                asyncio.create_task(session.post(f"{vllm_mock.url}/v1/chat/completions", json=body)) for _ in range(4)
            ]
            await asyncio.sleep(0.01)
            async with session.get(f"{vllm_mock.url}/metrics") as reply:
                usage = metric_value(await reply.text(), "vllm:kv_cache_usage_perc", model_name="tiny-test", engine="0")
            for task in replies:
                async with await task as r:
                    await r.read()
            return usage or 0.0

    assert asyncio.run(scenario()) > 0
