"""What one mock process sustains on one core, next to a minimal raw-asyncio HTTP responder, same run.

    .venv/bin/python bench/mock_throughput.py [--seconds 3] [--conns 64] [--tokens 64] [--rounds 2]

Writes a zero-latency profile (TTFT and ITL of 1 us, `--tokens` tokens an answer, no queue, no
rate limits) to a temporary folder and starts `gameday mock` on it, pinned to one core. Beside it,
pinned to the same core, a raw responder (`asyncio.start_server` on uvloop, hand-written HTTP/1.1
keep-alive answers): the same body size for a whole answer, and for a stream the same SSE events
(role, content, finish, usage, [DONE]) in chunked transfer encoding, one write and one loop turn per
event. The mock packs the tokens already due into one chunk when its loop is behind, so its number
of content chunks per answer depends on the load: the raw responder is told (header `x-chunks`)
the mean number the mock sent in the round just before, so both send the same events.

The load is one aiohttp client process (pinned to another core when there is one) with `--conns`
kept-alive connections in a closed loop, `--seconds` a case after a warm-up; cases are interleaved
over `--rounds` and the best round of each is kept. It prints requests/s, streamed tokens/s, SSE
chunks/s, the server's and the client's CPU share, and the ratio mock / raw. A raw figure whose
server is well under 100% CPU was limited by the client: the ratio is then an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
MODEL = "bench"  # zero latency
PACED = "paced"  # a token every PACED_ITL_S: streams packed only as far as the CPU forces
PACED_ITL_S = 0.001
WARM_S = 0.5
PROMPT = "Say something short about load testing. " * 4


# -- the profile -------------------------------------------------------------------------------------------
def write_profile(folder: Path, tokens: int) -> Path:
    path = folder / "zero-latency.yaml"
    profile = {
        "kind": "provider-profile",
        "provider": "bench",
        "models": {
            MODEL: {
                "price": {"input": 1.0, "output": 1.0},
                "context_window": 1_000_000,
                "ttft": {"p50_s": 1e-6, "p95_s": 1e-6},
                "itl": {"p50_s": 1e-6, "p95_s": 1e-6},
                "output_tokens": {"mean": tokens, "sd": 0, "min": tokens, "max": tokens},
                "capacity": {"max_concurrency": 100_000, "max_queue": 0},
            },
            PACED: {
                "price": {"input": 1.0, "output": 1.0},
                "context_window": 1_000_000,
                "ttft": {"p50_s": 1e-6, "p95_s": 1e-6},
                "itl": {"p50_s": PACED_ITL_S, "p95_s": PACED_ITL_S},
                "output_tokens": {"mean": tokens, "sd": 0, "min": tokens, "max": tokens},
                "capacity": {"max_concurrency": 100_000, "max_queue": 0},
            },
        },
    }
    path.write_text(json.dumps(profile))  # JSON is YAML
    return path


# -- the raw responder (a child process) -------------------------------------------------------------------
def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class RawAnswers:
    """Pre-built answers shaped like the mock's: one whole body, and SSE events for any number of chunks."""

    def __init__(self, tokens: int) -> None:
        self.tokens = tokens
        self.words = [" the" if i else "the" for i in range(tokens)]
        self.envelope = {"id": "chatcmpl-" + "0" * 24, "object": "chat.completion.chunk", "created": 1, "model": MODEL}
        usage = {"prompt_tokens": 48, "completion_tokens": tokens, "total_tokens": 48 + tokens}
        body = orjson.dumps({
            **self.envelope, "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(self.words)},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": usage,
        })  # fmt: skip
        self.whole = b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n" + (
            b"Content-Length: %d\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\nServer: raw\r\n\r\n%s" % (len(body), body)
        )
        self.stream_head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\nServer: raw\r\n\r\n"
        )
        self.usage_event = b"data: " + orjson.dumps({**self.envelope, "choices": [], "usage": usage}) + b"\n\n"
        self._streams: dict[int, list[bytes]] = {}

    def _event(self, delta: dict[str, str], finish: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _chunked(b"data: " + orjson.dumps({**self.envelope, "choices": [choice]}) + b"\n\n")

    def stream(self, chunks: int) -> list[bytes]:
        chunks = min(max(chunks, 1), self.tokens)
        if chunks not in self._streams:
            cuts = [round(i * self.tokens / chunks) for i in range(chunks + 1)]
            events = [self._event({"role": "assistant", "content": ""}, None)]
            events += [self._event({"content": "".join(self.words[a:b])}, None) for a, b in itertools.pairwise(cuts)]
            events += [self._event({}, "stop"), _chunked(self.usage_event), _chunked(b"data: [DONE]\n\n"), b"0\r\n\r\n"]
            self._streams[chunks] = events
        return self._streams[chunks]


async def _answer(answers: RawAnswers, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).lower()
            at = head.find(b"content-length:")
            body = await reader.readexactly(int(head[at + 15 : head.index(b"\r\n", at)]) if at >= 0 else 0)
            if b'"stream":true' not in body:
                writer.write(answers.whole)
                continue
            at = head.find(b"x-chunks:")
            writer.write(answers.stream_head)
            for event in answers.stream(int(head[at + 9 : head.index(b"\r\n", at)]) if at >= 0 else 1):
                writer.write(event)
                await asyncio.sleep(0)  # one loop turn per event, as a server producing tokens over time
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def write_port(path: str, port: int) -> None:
    Path(path).write_text(str(port))


async def _serve_raw(port_file: str, tokens: int) -> None:
    answers = RawAnswers(tokens)
    server = await asyncio.start_server(lambda r, w: _answer(answers, r, w), "127.0.0.1", 0, backlog=1024)
    write_port(port_file, server.sockets[0].getsockname()[1])
    await asyncio.Event().wait()


# -- the load generator (a child process) ------------------------------------------------------------------
def proc_cpu_s(pid: int) -> float:
    """CPU seconds of a process, all its threads (Linux schedstat: nanoseconds, not 10 ms ticks)."""
    return sum(int(Path(t, "schedstat").read_text().split()[0]) for t in Path(f"/proc/{pid}/task").iterdir()) / 1e9


def _usage_tokens(data: bytes) -> int:
    at = data.rfind(b'"completion_tokens":')
    return int(data[at + 20 : data.index(b",", at)]) if at >= 0 else 0


async def _load(
    url: str, model: str, server_pid: int, stream: bool, conns: int, seconds: float, chunks: int
) -> dict[str, float]:
    """Closed-loop load on `conns` connections; counts what completed inside the measured window."""
    import aiohttp

    body: dict[str, object] = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    payload = orjson.dumps(body)
    headers = {"Content-Type": "application/json", "x-chunks": str(chunks)}
    loop = asyncio.get_running_loop()
    start = loop.time() + WARM_S
    stop = start + seconds
    totals = {"requests": 0.0, "tokens": 0.0, "events": 0.0, "bytes": 0.0, "errors": 0.0}

    async def worker(session: aiohttp.ClientSession) -> None:
        while loop.time() < stop:
            try:
                async with session.post(url, data=payload, headers=headers) as resp:
                    data = b"".join([piece async for piece in resp.content.iter_any()]) if stream else await resp.read()
                    ok = resp.status == 200
            except aiohttp.ClientError:
                ok = False
            if start <= loop.time() <= stop:
                if not ok:
                    totals["errors"] += 1
                    continue
                totals["requests"] += 1
                totals["tokens"] += _usage_tokens(data)
                totals["events"] += data.count(b"data: ") - 4 if stream else 0  # content chunks only
                totals["bytes"] += len(data)

    async def window() -> None:
        await asyncio.sleep(start - loop.time())
        cpu0, srv0 = time.process_time(), proc_cpu_s(server_pid)
        await asyncio.sleep(seconds)
        totals["client_cpu"] = (time.process_time() - cpu0) / seconds
        totals["server_cpu"] = (proc_cpu_s(server_pid) - srv0) / seconds

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(window(), *(worker(session) for _ in range(conns)))
    totals["seconds"] = seconds
    return totals


# -- orchestration -----------------------------------------------------------------------------------------
CASES = (("whole", MODEL, False), ("stream", MODEL, True), (f"stream, ITL {PACED_ITL_S * 1000:g} ms", PACED, True))


def _start(cmd: list[str], ready: Path, cpu: int | None) -> tuple[subprocess.Popen[bytes], int]:
    with ready.with_suffix(".log").open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    if cpu is not None:
        os.sched_setaffinity(proc.pid, {cpu})  # before it serves anything; threads it starts inherit
    deadline = time.monotonic() + 30
    while not (ready.exists() and ready.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"{cmd[:4]} did not start:\n{ready.with_suffix('.log').read_text(errors='replace')}")
        time.sleep(0.02)
    return proc, int(ready.read_text())


def run_case(spec: dict[str, object], cpu: int | None, timeout: float) -> dict[str, float]:
    proc = subprocess.Popen([sys.executable, __file__, "--load", json.dumps(spec)], stdout=subprocess.PIPE)
    if cpu is not None:
        os.sched_setaffinity(proc.pid, {cpu})
    out, _ = proc.communicate(timeout=timeout)
    return json.loads(out)


def _row(name: str, got: dict[str, float]) -> str:
    n, secs, cpu = max(got["requests"], 1), got["seconds"], max(got["server_cpu"], 1e-9)
    return (
        f"{name:<5}{got['requests'] / secs:>8,.0f} req/s {got['tokens'] / secs:>9,.0f} tok/s "
        f"{got['events'] / n:>5.1f} chunks/answer {got['bytes'] / n:>6,.0f} B/answer | server CPU {cpu:>4.0%} "
        f"({cpu * secs / n * 1e6:>4.0f} us/answer), client CPU {got['client_cpu']:>4.0%}, errors {got['errors']:.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per case (default 3)")
    parser.add_argument("--conns", type=int, default=64, help="kept-alive client connections (default 64)")
    parser.add_argument("--tokens", type=int, default=64, help="tokens per answer (default 64)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best is kept (default 2)")
    parser.add_argument("--raw", metavar="PORT_FILE,TOKENS", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="JSON", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw or args.load:
        import uvloop

        if args.raw:
            port_file, tokens = args.raw.split(",")
            uvloop.run(_serve_raw(port_file, int(tokens)))
        else:
            print(json.dumps(uvloop.run(_load(**json.loads(args.load)))))
        return 0

    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = cpus[0], (cpus[1] if len(cpus) > 1 else None)
    print(
        f"cpus {len(cpus)}: servers pinned to cpu {server_cpu}, client to cpu {client_cpu}; load average "
        f"{os.getloadavg()[0]:.1f}; {args.conns} connections, {args.tokens} tokens an answer"
    )
    procs: list[subprocess.Popen[bytes]] = []
    best: dict[tuple[str, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            profile = write_profile(Path(tmp), args.tokens)
            cmd = [sys.executable, "-m", "gameday", "mock", "--profile", str(profile), "--host", "127.0.0.1",
                   "--port", "0", "--ready-file", f"{tmp}/mock.port"]  # fmt: skip
            procs.append((mock := _start(cmd, Path(tmp, "mock.port"), server_cpu))[0])
            cmd = [sys.executable, __file__, "--raw", f"{tmp}/raw.port,{args.tokens}"]
            procs.append((raw := _start(cmd, Path(tmp, "raw.port"), server_cpu))[0])
            servers = {"mock": (mock[0].pid, mock[1]), "raw": (raw[0].pid, raw[1])}
            for rnd in range(args.rounds):
                for case, model, stream in CASES:
                    chunks = args.tokens
                    for name in ("mock", "raw"):
                        pid, port = servers[name]
                        spec = {"url": f"http://127.0.0.1:{port}/v1/chat/completions", "model": model,
                                "server_pid": pid, "stream": stream, "conns": args.conns, "seconds": args.seconds,
                                "chunks": chunks}  # fmt: skip
                        got = run_case(spec, client_cpu, args.seconds + 60)
                        if name == "mock" and got["requests"]:
                            chunks = max(round(got["events"] / got["requests"]), 1)  # the raw one sends as many
                        print(f"round {rnd + 1} {case:<16} {_row(name, got)}")
                        if got["requests"] > best.get((case, name), {"requests": -1.0})["requests"]:
                            best[(case, name)] = got
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    _report(best)
    return 0


def _report(best: dict[tuple[str, str], dict[str, float]]) -> None:
    print("\nbest round of each case; 'per core' = per second of the server's own CPU time (its capacity on one")
    print("core at 100%, a floor: a busier loop batches more per wake-up)")
    print(f"  {'figure':<34}{'mock':>10}{'raw':>10}{'ratio':>7}  |{'mock':>10}{'raw':>10}{'ratio':>7}")
    print(f"  {'':<34}{'measured rate':>27}  |{'per core':>27}")
    for case, _, stream in CASES:
        for key, unit in (("requests", "answers/s"), ("tokens", "tokens/s"))[: 2 if stream else 1]:
            m, r = best[(case, "mock")], best[(case, "raw")]
            rate_m, rate_r = m[key] / m["seconds"], r[key] / r["seconds"]
            core_m = m[key] / max(m["server_cpu"] * m["seconds"], 1e-9)
            core_r = r[key] / max(r["server_cpu"] * r["seconds"], 1e-9)
            print(
                f"  {case + ', ' + unit:<34}{rate_m:>10,.0f}{rate_r:>10,.0f}{rate_m / rate_r:>7.2f}  |"
                f"{core_m:>10,.0f}{core_r:>10,.0f}{core_m / core_r:>7.2f}"
            )
    for (case, name), got in sorted(best.items()):
        if got["server_cpu"] < 0.9:
            print(
                f"  note: {name} '{case}' used {got['server_cpu']:.0%} of its core: the client (one core, "
                f"{got['client_cpu']:.0%} busy) or the machine limited the measured rate"
            )


if __name__ == "__main__":
    sys.exit(main())
