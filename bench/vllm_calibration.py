"""Replay the vLLM-on-H100 calibration recipe against the local-vllm mock and print both side by side.

    .venv/bin/python bench/vllm_calibration.py [--level-s 4] [--phase-s 6] [--pin-length] [--profile FILE]

The recipe (../shared/calibration/vllm-h100/README.md): streaming chat completions, max_tokens=128 with
`ignore_eos` (sent; the mock ignores it, so answers follow the profile's length unless `--pin-length`
runs a copy of the profile whose answers are all 128 tokens), unique prompts of ~205 tokens, closed
loops of 1, 16, 64, 128 and 256 in flight (`--level-s` each after a warm-up), then two 2x bursts of
open-loop Poisson arrivals (35% -> 70% and 50% -> 100% of the mock's measured saturation, `--phase-s`
per phase before / during / after). TTFT (to the first non-empty content chunk), the per-request mean
ITL and E2E are measured by the client, as the recipe did. The mock runs pinned to one core and the
client (one aiohttp process) to the other; each level also prints both CPU shares, the client's
event-loop lag, and the mock's own server-side mean TTFT and ITL (its /metrics) beside the client's,
so the part of a gap that the client adds can be read off.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
import yaml

REPO = Path(__file__).resolve().parents[1]
CALIBRATION = REPO.parent / "shared" / "calibration" / "vllm-h100"
LEVELS = (1, 16, 64, 128, 256)
BURSTS = ((0.35, "run2"), (0.50, "run1"))  # (share of saturation before the burst, the H100 run that did it)
MAX_TOKENS = 128
PROMPT_CHARS = 796  # 199 tokens at 4 characters a token, plus the chat framing: 205 as the mock counts
WARM_S = 2.0  # as the recipe
DRAIN_S = 20.0
WORDS = ("ops", "team", "load", "test", "queue", "token", "batch", "model", "server", "latency", "budget", "cache")


# -- the client (a child process) --------------------------------------------------------------------------
def prompt(uid: int) -> str:
    rng = random.Random(uid)
    text = f"Request {uid}: " + " ".join(rng.choice(WORDS) for _ in range(PROMPT_CHARS // 4))
    return text[:PROMPT_CHARS]


async def _one(session: aiohttp.ClientSession, url: str, uid: int, rec: dict[str, float | str | None]) -> None:
    body = {"model": "tiny", "messages": [{"role": "user", "content": prompt(uid)}], "max_tokens": MAX_TOKENS,
            "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}}  # fmt: skip
    rec["t_send"] = time.time()
    start = time.perf_counter()
    first = last = None
    chunks, tail = 0, b""
    async with session.post(url, json=body) as resp:
        if resp.status != 200:
            rec["error"] = f"http_{resp.status}"
            await resp.read()
            return
        async for piece in resp.content.iter_any():
            found = piece.count(b'"content":"') - piece.count(b'"content":""')
            if found:
                last = time.perf_counter()
                first = first or last
                chunks += found
            tail = (tail + piece)[-400:]
    at = tail.rfind(b'"completion_tokens":')
    out = int(tail[at + 20 : tail.index(b",", at)]) if at >= 0 else 0
    end = time.perf_counter()
    rec.update(e2e=end - start, out_tokens=out, nchunks=chunks)
    if first is not None and last is not None:
        rec.update(ttft=first - start, itl_mean=(last - first) / (out - 1) if out > 1 else None)


async def _client(
    url: str, t0: float, run_s: float, window: list[float], closed: int, arrivals: list, uid_base: int
) -> dict:
    """A closed loop of `closed` workers, or open-loop `arrivals` [(offset, uid, phase)], sending from t0 to t0+run_s.

    A closed loop keeps its load up (requests sent later are not counted) until every request sent before
    t0+run_s has ended, so the last ones counted do not run in a draining, lighter batch.
    """
    records: list[dict[str, float | str | None]] = []
    lags: list[float] = []
    cpu: dict[str, float] = {}
    counted = [0]  # requests sent before t0+run_s and not ended
    all_ended = asyncio.Event()

    async def send(uid: int, extra: dict[str, float | str | None]) -> None:
        rec = {**extra, "uid": uid}
        records.append(rec)
        mine = time.time() < t0 + run_s
        counted[0] += mine
        try:
            await _one(session, url, uid, rec)
        except (TimeoutError, aiohttp.ClientError) as exc:
            rec["error"] = type(exc).__name__
        finally:
            counted[0] -= mine
            if mine and not counted[0] and time.time() >= t0 + run_s:
                all_ended.set()

    async def worker(w: int) -> None:
        n = 0
        while not all_ended.is_set():
            await send(uid_base + w * 1_000_000 + n, {})
            n += 1

    async def monitor() -> None:  # loop lag and CPU inside the measured window
        while time.time() < window[0]:
            await asyncio.sleep(0.01)
        cpu0 = time.process_time()
        while (now := time.time()) < window[1]:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)
        cpu["cpu"] = (time.process_time() - cpu0) / max(now - window[0], 1e-9)

    async def scheduled(offset: float, uid: int, phase: str) -> None:
        await asyncio.sleep(max(t0 + offset - time.time(), 0))
        await send(uid_base + uid, {"t_sched": t0 + offset, "phase": phase})

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.sleep(max(t0 - time.time(), 0))
        tasks = [asyncio.ensure_future(worker(w)) for w in range(closed)]
        tasks += [asyncio.ensure_future(scheduled(*a)) for a in arrivals]
        mon = asyncio.ensure_future(monitor())
        await asyncio.sleep(max(t0 + run_s - time.time(), 0))
        if not counted[0]:
            all_ended.set()
        try:
            await asyncio.wait_for(all_ended.wait(), timeout=t0 + run_s + DRAIN_S - time.time())
        except TimeoutError:
            pass  # what has not ended by then is recorded without its end
        for task in [*tasks, mon]:
            task.cancel()
        await asyncio.gather(*tasks, mon, return_exceptions=True)
    lags.sort()
    return {"records": records, "cpu": cpu.get("cpu", 0.0), "lag_p50": _pct(lags, 0.5), "lag_p95": _pct(lags, 0.95)}


# -- statistics --------------------------------------------------------------------------------------------
def _pct(values: list[float], q: float) -> float | None:
    """Linear-interpolated quantile of sorted values (numpy's default, as the recipe's summaries)."""
    if not values:
        return None
    pos = q * (len(values) - 1)
    low = math.floor(pos)
    return values[low] + (values[min(low + 1, len(values) - 1)] - values[low]) * (pos - low)


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def summarize(recs: list[dict], window: tuple[float, float]) -> dict[str, float | None]:
    sent = [r for r in recs if window[0] <= r.get("t_sched", r["t_send"]) < window[1]]  # open loop: when due
    done = [r for r in sent if r.get("ttft") is not None]

    def col(key: str) -> list[float]:
        return sorted(r[key] for r in done if r.get(key) is not None)

    ended = [r for r in recs if r.get("e2e") is not None and window[0] <= r["t_send"] + r["e2e"] < window[1]]
    return {
        "ttft_p50": _pct(col("ttft"), 0.5), "ttft_p95": _pct(col("ttft"), 0.95),
        "itl_mean_p50": _pct(col("itl_mean"), 0.5),
        "e2e_p50": _pct(col("e2e"), 0.5), "e2e_p95": _pct(col("e2e"), 0.95),
        "req_per_s": len(ended) / (window[1] - window[0]),
        # over the requests that ended in the window, as the mock's /metrics observes them
        "ttft_mean": _mean([r.get("ttft") for r in ended]),
        "e2e_mean": _mean([r.get("e2e") for r in done]),
        "itl_mean": _mean([r.get("itl_mean") for r in ended]),
        "out_tokens": statistics.fmean(col("out_tokens")) if done else None,
        "chunks": statistics.fmean(col("nchunks")) if done else None,
        "n": len(sent), "unfinished": len(sent) - len(done), "errors": sum(1 for r in sent if r.get("error")),
    }  # fmt: skip


# -- the mock and its metrics ------------------------------------------------------------------------------
def cpu_s(pid: int) -> float:
    """CPU seconds of a process, all threads (schedstat nanoseconds)."""
    return sum(int(Path(t, "schedstat").read_text().split()[0]) for t in Path(f"/proc/{pid}/task").iterdir()) / 1e9


def scrape(base: str) -> dict[str, float]:
    """The mock's histogram sums and counts, and its running / waiting gauges."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("vllm:") and not line.startswith(("vllm:gpu", "vllm:kv")) and "_bucket" not in line:
            name, value = line.split("{")[0], float(line.rsplit(" ", 1)[1])
            out[name] = out.get(name, 0.0) + value
    return out


def server_means(before: dict[str, float], after: dict[str, float]) -> dict[str, float | None]:
    def mean(metric: str) -> float | None:
        count = after.get(f"{metric}_count", 0) - before.get(f"{metric}_count", 0)
        return (after[f"{metric}_sum"] - before.get(f"{metric}_sum", 0.0)) / count if count else None

    return {"srv_ttft": mean("vllm:time_to_first_token_seconds"), "srv_itl": mean("vllm:inter_token_latency_seconds")}


class Bench:
    def __init__(self, base: str, mock_pid: int, client_cpu: int | None, level_s: float) -> None:
        self.base, self.mock_pid, self.client_cpu, self.level_s = base, mock_pid, client_cpu, level_s
        self.runs = 0  # each run's prompts are its own: uid_base differs

    def run(self, run_s: float, window: tuple[float, float], closed: int = 0, arrivals: list | None = None) -> dict:
        """One client process for run_s (+ drain); the mock's CPU, gauges and server-side means over `window`."""
        self.runs += 1
        t0 = time.time() + 1.0  # the client imports aiohttp meanwhile
        w = (t0 + window[0], t0 + window[1])
        spec = {"url": f"{self.base}/v1/chat/completions", "t0": t0, "run_s": run_s, "window": w, "closed": closed,
                "arrivals": arrivals or [], "uid_base": self.runs * 1_000_000_000}  # fmt: skip
        client = subprocess.Popen([sys.executable, __file__, "--client", "-"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)  # fmt: skip
        if self.client_cpu is not None:
            os.sched_setaffinity(client.pid, {self.client_cpu})
        assert client.stdin is not None
        client.stdin.write(json.dumps(spec).encode())
        client.stdin.close()
        time.sleep(max(w[0] - time.time(), 0))
        before, cpu0, gauges = scrape(self.base), cpu_s(self.mock_pid), []
        while time.time() < w[1]:
            time.sleep(min(0.5, max(w[1] - time.time(), 0)))
            gauges.append(scrape(self.base))
        after, cpu1 = scrape(self.base), cpu_s(self.mock_pid)
        assert client.stdout is not None
        got = json.loads(client.stdout.read())
        client.wait()
        got.update(server_means(before, after), mock_cpu=(cpu1 - cpu0) / (w[1] - w[0]), window=w, t0=t0)
        got["running_max"] = max((g.get("vllm:num_requests_running", 0) for g in gauges), default=0)
        got["waiting_max"] = max((g.get("vllm:num_requests_waiting", 0) for g in gauges), default=0)
        return got

    def level(self, concurrency: int) -> dict:
        got = self.run(WARM_S + self.level_s, (WARM_S, WARM_S + self.level_s), closed=concurrency)
        out = {**got, **summarize(got.pop("records"), got["window"])}
        # Answers of one length keep a closed loop's requests in cohorts that end together, so counting ends in
        # a short window is off by up to a cohort; Little's law is not (the recipe's 18 s windows made it small).
        out["req_per_s"] = concurrency / out["e2e_mean"] if out["e2e_mean"] else 0.0
        return out

    def burst(self, rate: float, phase_s: float, seed: int) -> dict[str, dict]:
        rng, arrivals, t = random.Random(seed), [], 0.0
        for i, (phase, lam) in enumerate((("before", rate), ("during", 2 * rate), ("after", rate))):
            while (t := t + rng.expovariate(lam)) < (i + 1) * phase_s:
                arrivals.append((t, len(arrivals), phase))
            t = (i + 1) * phase_s
        got = self.run(3 * phase_s, (0.0, 3 * phase_s), arrivals=arrivals)
        recs, t0 = got.pop("records"), got["t0"]
        out = {}
        for i, phase in enumerate(("before", "during", "after")):
            out[phase] = summarize([r for r in recs if r["phase"] == phase], (t0 + i * phase_s, t0 + (i + 1) * phase_s))
        out["diag"] = got
        return out


# -- the report --------------------------------------------------------------------------------------------
METRICS = (
    ("TTFT p50 ms", "ttft_p50", 1000),
    ("TTFT p95 ms", "ttft_p95", 1000),
    ("ITL p50 ms", "itl_mean_p50", 1000),
    ("E2E p50 ms", "e2e_p50", 1000),
    ("E2E p95 ms", "e2e_p95", 1000),
    ("completions/s", "req_per_s", 1),
)


def _cell(value: float | None, scale: float) -> str:
    return f"{value * scale:>9.1f}" if value is not None else f"{'-':>9}"


class Fit:
    """Ratios mock / H100 (mean of the runs that measured the cell), printed and remembered for the summary."""

    def __init__(self) -> None:
        self.cells: list[tuple[str, float, float]] = []  # (where, mock, H100 mean) in display units

    def row(
        self, group: str, label: str, mock: float | None, h100: list[float | None], scale: float, show: bool
    ) -> None:
        known = [v for v in h100 if v is not None]
        ratio = mock / statistics.fmean(known) if mock is not None and known else None
        if ratio is not None:
            self.cells.append((f"{group} {label}", mock * scale, statistics.fmean(known) * scale))
        shown = f"{ratio:>7.2f}" if ratio is not None else f"{'-':>7}"
        name = group if show else ""
        print(f"  {name:<14}{label:<15}{_cell(mock, scale)}{''.join(_cell(v, scale) for v in h100)}{shown}")

    def summary(self) -> None:
        off = sorted((abs(math.log(m / h)), where, m / h) for where, m, h in self.cells)
        within = sum(1 for x, _, _ in off if x <= math.log(1.25))
        worst = ", ".join(f"{where} {r:.2f}x" for _, where, r in off[-3:][::-1])
        print(f"\nfit: {within} of {len(off)} cells within 1.25x of the H100 (its run-to-run spread: up to 1.15x at")
        print(f"the peak, 1.3x past it); median deviation {math.exp(off[len(off) // 2][0]):.2f}x; worst: {worst}")


def report(levels: dict[int, dict], bursts: dict[float, dict], sat: float, h100: dict[str, dict]) -> None:
    fit = Fit()
    print(f"\n{'level':<16}{'metric':<15}{'mock':>9}{'H100 r1':>9}{'H100 r2':>9}{'ratio':>7}   (mock / H100 mean)")
    for c, got in levels.items():
        runs = [h100[run]["levels"].get(str(c)) for run in ("run1", "run2")]
        for i, (label, key, scale) in enumerate(METRICS):
            fit.row(f"{c} in flight", label, got[key], [r[key] if r else None for r in runs], scale, show=i == 0)
    print("\nper level: answer length, chunks, CPU (share of one core), client loop lag, TTFT / ITL means of the")
    print("requests that ended in the window at the client and inside the mock (its /metrics): the difference is")
    print("what the client, the wire and the mock's event loop add on top of the latency model")
    for c, g in levels.items():
        ms = {k: (g[k] or 0) * 1000 for k in ("lag_p50", "lag_p95", "ttft_mean", "srv_ttft", "itl_mean", "srv_itl")}
        print(
            f"  {c:>3}: {g['out_tokens'] or 0:5.1f} tokens {g['chunks'] or 0:5.1f} chunks | CPU mock "
            f"{g['mock_cpu']:4.0%} client {g['cpu']:4.0%} lag p50/p95 {ms['lag_p50']:4.1f}/{ms['lag_p95']:4.1f} ms"
            f" | TTFT {ms['ttft_mean']:6.1f} vs {ms['srv_ttft']:6.1f} ms, ITL {ms['itl_mean']:5.2f} vs "
            f"{ms['srv_itl']:5.2f} ms | running max {g['running_max']:.0f} | errors {g['errors']}"
        )
    r1, r2 = h100["run1"]["saturation_req_per_s"], h100["run2"]["saturation_req_per_s"]
    print(f"\nbursts (open loop, Poisson; saturation: mock {sat:.1f}/s, H100 {r1:.1f}/s in run1, {r2:.1f}/s in run2)")
    print(f"{'phase':<16}{'metric':<15}{'mock':>9}{'H100':>9}{'ratio':>7}")
    for share, got in bursts.items():
        run, d = dict(BURSTS)[share], got["diag"]
        print(
            f"  {share:.0%} -> {2 * share:.0%} of saturation (H100: {run}); CPU mock {d['mock_cpu']:.0%} client "
            f"{d['cpu']:.0%}, client lag p95 {(d['lag_p95'] or 0) * 1e3:.1f} ms, mock running / waiting max "
            f"{d['running_max']:.0f} / {d['waiting_max']:.0f}"
        )
        for phase in ("before", "during", "after"):
            ours, theirs = got[phase], h100[run]["phases"][phase]
            group = f"{share:.0%} {phase}"
            fit.row(group, "TTFT p50 ms", ours["ttft_p50"], [theirs["ttft_p50"]], 1000, show=True)
            fit.row(group, "TTFT p95 ms", ours["ttft_p95"], [theirs["ttft_p95"]], 1000, show=False)
            fit.row(group, "completions/s", ours["req_per_s"], [theirs["req_per_s"]], 1, show=False)
            if ours["unfinished"]:
                print(f"  {'':<14}({ours['unfinished']} of {ours['n']} sent had no first token when the drain ended)")
    fit.summary()
    _client_share(levels, bursts, h100)


def _client_share(levels: dict[int, dict], bursts: dict[float, dict], h100: dict[str, dict]) -> None:
    """What the measuring side adds, next to the gaps it could explain."""
    runs = list(levels.values()) + [b["diag"] for b in bursts.values()]
    added = "/".join(f"{((g['ttft_mean'] or 0) - (g['srv_ttft'] or 0)) * 1e3:.1f}" for g in levels.values())
    gaps = []
    for c, g in levels.items():
        theirs = [h100[run]["levels"][str(c)]["ttft_p50"] for run in ("run1", "run2") if str(c) in h100[run]["levels"]]
        gaps.append(f"{((g['ttft_p50'] or 0) - statistics.fmean(theirs)) * 1e3:+.0f}")
    print(
        f"the client: at most {max(g['cpu'] for g in runs):.0%} of its core, event-loop lag p95 at most "
        f"{max(g['lag_p95'] or 0 for g in runs) * 1e3:.1f} ms. TTFT added outside the latency model (client mean minus"
        f" the mock's /metrics mean, same requests): {added} ms at {'/'.join(map(str, levels))} in flight, against "
        f"TTFT p50 gaps to the H100 of {'/'.join(gaps)} ms (it includes the mock's loop taking simultaneous arrivals"
        f" one by one)"
    )


def _profile(tmp: Path, path: Path, pin: bool) -> Path:
    if not pin:
        return path
    data = yaml.safe_load(path.read_text())
    for model in data["models"].values():  # every answer exactly max_tokens long, as ignore_eos would make it
        model["output_tokens"] = {"mean": MAX_TOKENS, "sd": 0, "min": MAX_TOKENS, "max": MAX_TOKENS}
    pinned = tmp / "pinned.yaml"
    pinned.write_text(yaml.safe_dump(data))
    return pinned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", type=Path, default=REPO / "mocks" / "local-vllm.yaml")
    parser.add_argument("--calibration", type=Path, default=CALIBRATION, help="the vllm-h100 measurements folder")
    parser.add_argument("--level-s", type=float, default=4.0, help="measured seconds per level (default 4)")
    parser.add_argument("--phase-s", type=float, default=6.0, help="seconds per burst phase (default 6; H100: 20)")
    parser.add_argument("--pin-length", action="store_true", help="every answer 128 tokens (a profile copy)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        import uvloop

        print(json.dumps(uvloop.run(_client(**json.load(sys.stdin)))))
        return 0
    h100 = {run: {**json.loads((args.calibration / run / "burst_summary.json").read_text()),
                  "levels": json.loads((args.calibration / run / "levels_summary.json").read_text())["levels"]}
            for run in ("run1", "run2")}  # fmt: skip
    cpus = sorted(os.sched_getaffinity(0))
    mock_cpu, client_cpu = cpus[0], (cpus[1] if len(cpus) > 1 else None)
    print(f"cpus {len(cpus)} (mock on {mock_cpu}, client on {client_cpu}), load average {os.getloadavg()[0]:.1f}; "
          f"profile {args.profile.name}{' with answers pinned to 128 tokens' if args.pin_length else ''}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp, "mock.port")
        cmd = [sys.executable, "-m", "gameday", "mock", "--profile", str(_profile(Path(tmp), args.profile,
               args.pin_length)), "--seed", str(args.seed), "--host", "127.0.0.1", "--port", "0", "--ready-file",
               str(ready)]  # fmt: skip
        with Path(tmp, "mock.log").open("wb") as log:
            mock = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        os.sched_setaffinity(mock.pid, {mock_cpu})
        try:
            deadline = time.monotonic() + 30
            while not (ready.exists() and ready.read_text()):
                if mock.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the mock did not start:\n{Path(tmp, 'mock.log').read_text()}")
                time.sleep(0.05)
            bench = Bench(f"http://127.0.0.1:{int(ready.read_text())}", mock.pid, client_cpu, args.level_s)
            levels = {}
            for c in LEVELS:
                levels[c] = bench.level(c)
                print(f"  level {c:>3}: {levels[c]['req_per_s']:6.1f} completions/s, TTFT p50 "
                      f"{(levels[c]['ttft_p50'] or 0) * 1e3:.0f} ms", flush=True)  # fmt: skip
            sat = max(g["req_per_s"] for g in levels.values())
            bursts = {}
            for share, _ in BURSTS:
                bursts[share] = bench.burst(share * sat, args.phase_s, args.seed)
                print(f"  burst {share:.0%}: TTFT p95 during {(bursts[share]['during']['ttft_p95'] or 0) * 1e3:.0f} ms",
                      flush=True)  # fmt: skip
        finally:
            mock.terminate()
            mock.wait(10)
    report(levels, bursts, sat, h100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
