"""What one load process sustains: our Locust user next to plain Locust `FastHttpUser`, same target, same body.

    .venv/bin/python bench/load_capacity.py [--seconds 3] [--users 32] [--rounds 1]

Starts the load tests' fake OpenAI server (tests/load/fakeserver.py, model `fast`: no delay, five
tokens) in its own process, then in this process (Locust's monkey-patching included) runs, for a
few seconds each and in interleaved order, our user (`LoadEngine`, closed model, `--users` users
with no think time, records validated and written to a temporary requests.jsonl as a run does)
and a plain `FastHttpUser` posting the same request body with the same headers, non-streaming
and streaming. It prints requests per second, this process's CPU time per request and the
server's CPU share, and the ratios ours / plain. When the server's share nears 100% it is the
bottleneck and the rate ratio says little: the CPU cost per request is then the figure to read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAKE_SERVER = REPO / "tests" / "load" / "fakeserver.py"
WARMUP_S = 1.0  # every user started (at SPAWN_RATE) and its connection open
SPAWN_RATE = 100  # Locust warns above 100 users a second


@dataclass
class Measure:
    requests: int
    seconds: float
    cpu_s: float
    server_cpu_s: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_s / max(1, self.requests) * 1e6

    @property
    def server_share(self) -> float:
        return self.server_cpu_s / self.seconds


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    ready = tmp / "server.port"
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_SERVER), "--port", "0", "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    end = time.monotonic() + 20
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            raise SystemExit("the fake server did not start")
        time.sleep(0.02)
    return proc, f"http://127.0.0.1:{int(ready.read_text())}"


def _window(count: Callable[[], int], server_pid: int, seconds: float) -> Measure:
    """Count requests over `seconds` after a warm-up, with this process's and the server's CPU time."""
    time.sleep(WARMUP_S)  # Locust patched `time.sleep`: the load runs meanwhile
    n0, c0, s0, t0 = count(), time.process_time(), _proc_cpu_s(server_pid), time.monotonic()
    time.sleep(seconds)
    n1, c1, s1, t1 = count(), time.process_time(), _proc_cpu_s(server_pid), time.monotonic()
    return Measure(n1 - n0, t1 - t0, c1 - c0, s1 - s0)


def _write_load(tmp: Path, users: int, stream: bool) -> Path:
    import yaml

    one_class = {"name": "chat", "weight": 1, "max_tokens": 16, "prompt_tokens": {"min": 100, "max": 100}}
    workload = {"kind": "workload", "name": "capacity", "model": "fast", "classes": [one_class]}
    (tmp / "workload.yaml").write_text(yaml.safe_dump(workload))
    load = {"workload": "workload.yaml", "model": "closed", "shape": {"kind": "steady", "users": users},
            "stream_share": 1.0 if stream else 0.0, "spawn_rate": SPAWN_RATE, "request_timeout_s": 10}  # fmt: skip
    path = tmp / f"load-{'stream' if stream else 'json'}.yaml"
    path.write_text(yaml.safe_dump(load))
    return path


def ours(tmp: Path, target: str, server_pid: int, users: int, stream: bool, seconds: float) -> tuple[Measure, bytes]:
    from gameday.config.load import LoadSpec
    from gameday.config.yamlio import load_model
    from gameday.load.engine import LoadEngine
    from gameday.load.mix import PlanSource
    from gameday.measure.record import RecordWriter

    spec = load_model(_write_load(tmp, users, stream), LoadSpec)
    body = PlanSource(spec.load_workload(), seed=0, stream_share=spec.stream_share).next(0.0).body
    with RecordWriter(tmp / "requests.jsonl") as writer:
        engine = LoadEngine(spec, target, "openai", seed=0, record_sink=writer.write)
        engine.start()
        try:
            measure = _window(lambda: engine.recorded, server_pid, seconds)
        finally:
            engine.stop(drain_s=2.0)
    if engine.sent != engine.recorded:
        raise SystemExit(f"our load lost records: sent {engine.sent}, recorded {engine.recorded}")
    return measure, body


def plain(target: str, server_pid: int, users: int, body: bytes, seconds: float) -> Measure:
    from locust import FastHttpUser, constant, task
    from locust.env import Environment
    from locust.event import Events

    headers = {"Content-Type": "application/json", "x-gameday-task": "chat", "x-gameday-tier": "medium"}

    class PlainUser(FastHttpUser):
        host = target
        wait_time = constant(0)

        @task
        def chat(self) -> None:
            self.client.post("/v1/chat/completions", data=body, headers=headers)

    env = Environment(user_classes=[PlainUser], events=Events(), host=target)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=SPAWN_RATE)
    try:
        measure = _window(lambda: env.stats.total.num_requests, server_pid, seconds)
    finally:
        runner.quit()
    if env.stats.total.num_failures:
        raise SystemExit(f"plain Locust saw {env.stats.total.num_failures} failures")
    return measure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per case (after a warm-up)")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the four cases, interleaved; medians shown")
    args = parser.parse_args()
    import gameday.load.engine  # noqa: F401  (Locust patches this process before any socket is opened)

    results: dict[str, list[Measure]] = {}
    with tempfile.TemporaryDirectory(prefix="gameday-capacity-") as folder:
        tmp = Path(folder)
        server, target = _start_server(tmp)
        try:
            for _ in range(args.rounds):
                for stream in (False, True):
                    kind = "stream" if stream else "json"
                    mine, body = ours(tmp, target, server.pid, args.users, stream, args.seconds)
                    results.setdefault(f"ours {kind}", []).append(mine)
                    results.setdefault(f"plain {kind}", []).append(
                        plain(target, server.pid, args.users, body, args.seconds)
                    )
        finally:
            server.terminate()
            server.wait(10)

    def med(name: str, value: Callable[[Measure], float]) -> float:
        return statistics.median(value(m) for m in results[name])

    print(f"one load process, {args.users} users, no think time, {args.seconds:g} s per case, {args.rounds} round(s)")
    print(f"{'case':<14}{'req/s':>10}{'CPU us/req':>12}{'server CPU':>12}")
    for name in results:
        rate, cost = med(name, lambda m: m.rate), med(name, lambda m: m.cpu_us_per_request)
        print(f"{name:<14}{rate:>10.0f}{cost:>12.0f}{med(name, lambda m: m.server_share):>11.0%}")
    for kind in ("json", "stream"):
        rate = med(f"ours {kind}", lambda m: m.rate) / med(f"plain {kind}", lambda m: m.rate)
        cost = med(f"ours {kind}", lambda m: m.cpu_us_per_request) / med(
            f"plain {kind}", lambda m: m.cpu_us_per_request
        )
        print(f"ours / plain, {kind:<6}: rate {rate:.2f}x, CPU per request {cost:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
