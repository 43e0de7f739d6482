"""What the reference gateway adds to a request: end-to-end latency through it vs direct, at fixed arrival rates.

    .venv/bin/python bench/gateway_overhead.py [--rates 100,300,500] [--seconds 4] [--delay-ms 50] [--profile OUT]

Starts, each in its own process: a minimal upstream (aiohttp + uvloop) that answers chat completions
after `--delay-ms`; `gameday gateway` in front of it (the reference policy, no spend ceiling, no
cache, every provider pointed at the upstream); and a bare aiohttp pass-through proxy (read, forward
on a pooled session, relay), the floor that any aiohttp-based gateway pays. A load generator in this
process sends an open arrival stream (a request every 1/rate s, whatever the answers do) in
alternating half-second blocks through the gateway, through the bare proxy and direct to the
upstream, so machine noise hits every path alike. Latency is measured from each request's scheduled
send instant (corrected for coordinated omission).

Prints p50/p95/p99 each way, the milliseconds added over direct, and the CPU time per request of
the gateway and of the bare proxy. Target: <= 1 ms p50 and <= 3 ms p95 added at 500 req/s (judged on
the median over rounds of blocks). `--profile OUT` runs the gateway under cProfile and writes OUT
(read it with `python -m pstats OUT`, then `sort tottime`, `stats 30`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
POLICY = REPO / "stacks" / "policies" / "reference.yaml"
BLOCK_S = 0.5
WARMUP_S = 1.0
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10.0)
MAX_IN_FLIGHT = 5000  # the load stays bounded even if a path stops answering
BODY = {"messages": [{"role": "user", "content": "Say hello in one word."}], "max_tokens": 16}
GATEWAY_HEADERS = {"x-gameday-task": "chat", "x-gameday-tier": "medium", "content-type": "application/json"}
DIRECT_MODEL = "frontier-alt"  # what the reference policy's `medium` route sends first


# -- the upstream (runs in a child process) ---------------------------------------------------------------
def _write_port(port_file: str, port: int) -> None:
    Path(port_file + ".tmp").write_text(str(port))
    os.replace(port_file + ".tmp", port_file)  # atomic: the parent never reads half a number


def run_upstream(port_file: str, delay_s: float, models: list[str]) -> None:
    import uvloop
    from aiohttp import web

    pricing = orjson.dumps(
        {
            "provider": "bench",
            "currency": "USD",
            "unit": "per_million_tokens",
            "models": {m: {"input": 1.0, "output": 2.0} for m in models},
            "updated_at": "bench",
        }
    )

    async def chat(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        await asyncio.sleep(delay_s)
        reply = {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "unknown"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
        }
        return web.Response(body=orjson.dumps(reply), content_type="application/json")

    def fixed(body: bytes) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return web.Response(body=body, content_type="application/json")

        return handler

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        app.router.add_get("/pricing", fixed(pricing))
        app.router.add_get("/health", fixed(b'{"status":"ok"}'))
        listed = {"object": "list", "data": [{"id": m, "object": "model"} for m in models]}
        app.router.add_get("/v1/models", fixed(orjson.dumps(listed)))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        await asyncio.to_thread(_write_port, port_file, runner.addresses[0][1])
        await asyncio.Event().wait()

    uvloop.install()
    asyncio.run(serve())


# -- a bare aiohttp pass-through proxy (runs in a child process): the floor any aiohttp gateway pays ----------
def run_null_proxy(port_file: str, target: str) -> None:
    import uvloop
    from aiohttp import web

    async def serve() -> None:
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30, ttl_dns_cache=None)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def forward(request: web.Request) -> web.Response:
                body = await request.read()
                headers = {"content-type": "application/json"}
                async with session.post(target + request.path, data=body, headers=headers) as reply:
                    answer = await reply.read()
                    return web.Response(body=answer, status=reply.status, content_type="application/json")

            app = web.Application()
            app.router.add_post("/v1/chat/completions", forward)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
            await asyncio.to_thread(_write_port, port_file, runner.addresses[0][1])
            await asyncio.Event().wait()

    uvloop.install()
    asyncio.run(serve())


# -- processes ----------------------------------------------------------------------------------------------
def wait_for_port(path: Path, proc: subprocess.Popen[bytes], log: Path | None = None, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        if proc.poll() is not None:
            detail = log.read_text(errors="replace")[-3000:] if log else ""
            raise SystemExit(f"{proc.args} exited with {proc.returncode}\n{detail}")
        time.sleep(0.02)
    raise SystemExit(f"{proc.args} did not get ready in {timeout}s")


def bench_policy(tmp: Path) -> tuple[Path, list[str], list[str]]:
    """The reference policy without a spend ceiling, cache or upstream streaming (each would change what is
    measured)."""
    data = yaml.safe_load(POLICY.read_text())
    data["budget"] = {**data.get("budget", {}), "ceiling_usd": None}
    data["cache"] = {**data.get("cache", {}), "ttl_s": 0}
    data["prices"] = {**data.get("prices", {}), "refresh_s": 60}
    # Whole bodies end to end, as the upstream answers them: the same request direct and through the gateway.
    data["timeouts"] = {**data.get("timeouts", {}), "stream_upstream": False}
    path = tmp / "bench-policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    providers = [p["name"] for p in data["providers"]]
    models = [m["name"] for p in data["providers"] for m in p["models"]]
    return path, providers, models


# -- the load -----------------------------------------------------------------------------------------------
@dataclass
class Target:
    name: str
    url: str
    headers: dict[str, str]
    body: bytes
    session: aiohttp.ClientSession | None = None
    latencies: list[float] = field(default_factory=list)
    by_round: dict[int, list[float]] = field(default_factory=dict)  # round of blocks -> latencies
    errors: dict[str, int] = field(default_factory=dict)
    sent: int = 0

    def reset(self) -> None:
        self.latencies, self.by_round, self.errors, self.sent = [], {}, {}, 0


async def one(path: Target, scheduled: float, record: bool, round_no: int) -> None:
    assert path.session is not None
    error = None
    try:
        async with path.session.post(path.url, data=path.body, headers=path.headers) as reply:
            await reply.read()
            if reply.status != 200:
                error = f"http_{reply.status}"
    except TimeoutError:
        error = "timeout"
    except aiohttp.ClientError as exc:
        error = type(exc).__name__
    elapsed = time.perf_counter() - scheduled
    if not record:
        return
    if error is None:
        path.latencies.append(elapsed)
        path.by_round.setdefault(round_no, []).append(elapsed)
    else:
        path.errors[error] = path.errors.get(error, 0) + 1


async def open_load(paths: list[Target], rate: float, seconds_per_path: float, record: bool) -> float:
    """Arrivals every 1/rate s; the target switches every BLOCK_S. Returns the worst dispatch lag (s)."""
    interval = 1.0 / rate
    total = seconds_per_path * len(paths)
    n = int(total * rate)
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter() + 0.01
    worst_lag = 0.0
    for i in range(n):
        scheduled = start + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        worst_lag = max(worst_lag, time.perf_counter() - scheduled)
        block = int((i * interval) / BLOCK_S)
        path = paths[block % len(paths)]
        path.sent += 1
        if len(tasks) >= MAX_IN_FLIGHT:
            path.errors["overload"] = path.errors.get("overload", 0) + 1
            continue
        task = asyncio.create_task(one(path, scheduled, record, block // len(paths)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)
    return worst_lag


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(
    targets: list[Target], rates: list[float], seconds: float, pids: dict[str, int]
) -> list[dict[str, Any]]:
    """Each rate: a warm-up, then `seconds` per target in alternating blocks; percentiles and CPU per request."""
    procs = {name: psutil.Process(pid) for name, pid in pids.items()}
    results = []
    connector_args = {"limit": 0, "keepalive_timeout": 30, "ttl_dns_cache": None}
    sessions = [
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(**connector_args), timeout=REQUEST_TIMEOUT)
        for _ in targets
    ]
    try:
        for target, session in zip(targets, sessions, strict=True):
            target.session = session
        for rate in rates:
            await open_load(targets, rate, WARMUP_S, record=False)  # opens the connections every way
            for t in targets:
                t.reset()
            cpu_before = {name: sum(p.cpu_times()[:2]) for name, p in procs.items()}
            lag = await open_load(targets, rate, seconds, record=True)
            row: dict[str, Any] = {"rate": rate, "lag_ms": lag * 1000, "cpu_us": {}}
            for t in targets:
                row[t.name] = {
                    "n": len(t.latencies),
                    "sent": t.sent,
                    "errors": dict(t.errors),
                    "p50": pct(t.latencies, 0.50),
                    "p95": pct(t.latencies, 0.95),
                    "p99": pct(t.latencies, 0.99),
                }
            direct = next(t for t in targets if t.name == "direct")
            for t in targets:
                row[t.name]["round_added"] = {q: _round_added(t, direct, q) for q in (0.5, 0.95)}
            for name, p in procs.items():
                served = max(1, row[name]["sent"])
                row["cpu_us"][name] = (sum(p.cpu_times()[:2]) - cpu_before[name]) / served * 1e6
            results.append(row)
            print_row(row, [t.name for t in targets])
    finally:
        for session in sessions:
            await session.close()
    return results


def _round_added(path: Target, direct: Target, q: float) -> float:
    """Median over rounds of blocks of (percentile through `path` - percentile direct), in ms.

    Each round is one block per path, back to back; a burst of machine noise spoils a round or two,
    not the median, where it would spoil the pooled percentiles.
    """
    diffs = [
        pct(lat, q) - pct(direct.by_round[r], q)
        for r, lat in path.by_round.items()
        if r in direct.by_round and len(lat) >= 20 and len(direct.by_round[r]) >= 20
    ]
    return statistics.median(diffs) if diffs else float("nan")


def print_row(row: dict[str, Any], names: list[str]) -> None:
    d = row["direct"]
    print(f"\n== {row['rate']:.0f} req/s, open arrivals ({d['sent']} requests each way) ==")
    for name in names:
        r = row[name]
        errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "none"
        print(f"{name:<11} p50 {r['p50']:7.2f} ms   p95 {r['p95']:7.2f} ms   p99 {r['p99']:7.2f} ms   errors: {errors}")
    for name in names:
        if name == "direct":
            continue
        r = row[name]
        cpu = row["cpu_us"].get(name)
        print(
            f"{'+ ' + name:<11} p50 {r['p50'] - d['p50']:+7.2f} ms   p95 {r['p95'] - d['p95']:+7.2f} ms   "
            f"p99 {r['p99'] - d['p99']:+7.2f} ms   added"
            + (f"; its CPU {cpu:.0f} us per request" if cpu is not None else "")
        )
    for name in names:
        if name != "direct":
            ra = row[name]["round_added"]
            label = f"+ {name}"
            print(f"{label:<11} p50 {ra[0.5]:+7.2f} ms   p95 {ra[0.95]:+7.2f} ms   added, median over rounds of blocks")
    print(f"worst dispatch lag of the load generator {row['lag_ms']:.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="100,300,500", help="arrival rates in req/s (default 100,300,500)")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per path per rate (default 4)")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="the upstream's answer delay (default 50)")
    parser.add_argument("--profile", metavar="OUT", help="run the gateway under cProfile, write the stats to OUT")
    parser.add_argument("--upstream", metavar="PORT_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--models", default="", help=argparse.SUPPRESS)
    parser.add_argument("--null-proxy", metavar="PORT_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        run_upstream(args.upstream, args.delay_ms / 1000, args.models.split(","))
        return 0
    if args.null_proxy:
        run_null_proxy(args.null_proxy, args.target)
        return 0
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    if not rates or min(rates) <= 0 or args.seconds <= 0:
        parser.error("--rates must be positive numbers and --seconds greater than 0")

    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        try:
            policy, providers, models = bench_policy(tmp)
            up_file = tmp / "upstream.port"
            up_cmd = [sys.executable, __file__, "--upstream", str(up_file), "--delay-ms", str(args.delay_ms)]
            procs.append(subprocess.Popen([*up_cmd, "--models", ",".join(models)]))
            upstream = f"http://127.0.0.1:{wait_for_port(up_file, procs[-1])}"

            gw_file, gw_log = tmp / "gateway.port", tmp / "gateway.log"
            python = [sys.executable]
            if args.profile:
                python += ["-m", "cProfile", "-o", str(Path(args.profile).resolve())]
            cmd = [*python, "-m", "gameday", "gateway", "--policy", str(policy), "--host", "127.0.0.1"]
            cmd += ["--port", "0", "--ready-file", str(gw_file)]
            for provider in providers:
                cmd += ["--upstream", f"{provider}={upstream}"]
            with gw_log.open("wb") as log:
                procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO))
            gateway = f"http://127.0.0.1:{wait_for_port(gw_file, procs[-1], gw_log)}"

            null_file = tmp / "null-proxy.port"
            procs.append(
                subprocess.Popen([sys.executable, __file__, "--null-proxy", str(null_file), "--target", upstream])
            )
            null_proxy = f"http://127.0.0.1:{wait_for_port(null_file, procs[-1])}"
            pids = {"gateway": procs[1].pid, "aiohttp-hop": procs[2].pid}
            direct_body = orjson.dumps({"model": DIRECT_MODEL, **BODY})
            plain = {"content-type": "application/json"}
            targets = [
                Target(
                    "gateway",
                    f"{gateway}/v1/chat/completions",
                    GATEWAY_HEADERS,
                    orjson.dumps({"model": "auto", **BODY}),
                ),
                Target("aiohttp-hop", f"{null_proxy}/v1/chat/completions", plain, direct_body),
                Target("direct", f"{upstream}/v1/chat/completions", plain, direct_body),
            ]
            print(f"cpus {os.cpu_count()}, python {sys.version.split()[0]}, upstream delay {args.delay_ms:g} ms")
            print("paths: gateway (gameday gateway), aiohttp-hop (a bare aiohttp pass-through: the floor), direct")
            import uvloop  # the load generator on uvloop too: its own overhead is in both paths' numbers

            uvloop.install()
            gc.collect()
            gc.freeze()  # fewer long collections in the load generator during the measurement
            results = asyncio.run(measure(targets, rates, args.seconds, pids))
            top = results[-1]
            added50 = top["gateway"]["p50"] - top["direct"]["p50"]
            added95 = top["gateway"]["p95"] - top["direct"]["p95"]
            round50, round95 = top["gateway"]["round_added"][0.5], top["gateway"]["round_added"][0.95]
            met = round50 <= 1.0 and round95 <= 3.0
            print(
                f"\ntarget at {top['rate']:.0f} req/s: <= 1 ms p50 and <= 3 ms p95 added. Measured "
                f"{round50:+.2f} ms p50, {round95:+.2f} ms p95 (median over rounds; pooled {added50:+.2f} / "
                f"{added95:+.2f}): {'met' if met else 'MISSED'}"
            )
        finally:
            for proc in reversed(procs):
                proc.terminate()  # SIGTERM: the gateway stops cleanly, so cProfile writes its stats
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if args.profile:
                print(f"profile written to {args.profile}" if Path(args.profile).exists() else "no profile written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
