"""What the embedded Toxiproxy costs: added round-trip latency, request rate vs direct, latency-toxic error.

    .venv/bin/python bench/toxiproxy_overhead.py [--trips 4000] [--toxic-trips 40]

Starts an echo server (uvloop, its own process) and the embedded Toxiproxy (`gameday toxiproxy`, its
own process), then times 64-byte request/response round trips over one kept-alive TCP connection,
direct and through a proxy with no toxics, in interleaved blocks so machine noise hits both alike.
Then it adds a 100 ms downstream latency toxic and measures how far the added delay is from 100 ms.
When a real `toxiproxy-server` is on PATH it is measured the same way, side by side.
Targets: <= 0.3 ms added p50; latency toxic within +-2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gameday.faults.toxiproxy_client import ToxiproxyClient
from gameday.toxiproxy.locate import find_toxiproxy_server, toxiproxy_command

PAYLOAD = b"x" * 64
BLOCK = 250
CONNS = 32
LOAD_S = 2.0


# -- the echo server (runs in a child process) ---------------------------------------------------------
class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


async def _serve_echo(port_file: str) -> None:
    server = await asyncio.get_running_loop().create_server(_Echo, "127.0.0.1", 0)
    await asyncio.to_thread(Path(port_file).write_text, str(server.sockets[0].getsockname()[1]))
    await asyncio.Event().wait()


def run_echo(port_file: str) -> None:
    import uvloop

    uvloop.install()
    asyncio.run(_serve_echo(port_file))


# -- concurrent load (runs in a child process) -------------------------------------------------------------
async def _load(port: int, conns: int, seconds: float) -> int:
    done = 0
    stop = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while time.perf_counter() < stop:
            writer.write(PAYLOAD)
            await reader.readexactly(len(PAYLOAD))
            done += 1
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(one() for _ in range(conns)))
    return done


def run_load(port: int, conns: int, seconds: float) -> None:
    import uvloop

    uvloop.install()
    print(asyncio.run(_load(port, conns, seconds)) / seconds)


def concurrent_rate(port: int, conns: int, seconds: float) -> float:
    """Round trips per second with `conns` connections in a closed loop (a uvloop client in its own process)."""
    out = subprocess.run(
        [sys.executable, __file__, "--load", f"{port},{conns},{seconds}"], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


# -- measurement -------------------------------------------------------------------------------------------
def wait_for_file(path: Path, proc: subprocess.Popen[bytes], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}")
        time.sleep(0.02)
    raise SystemExit(f"{proc.args} did not get ready in {timeout}s")


def wait_for_api(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    with ToxiproxyClient(url, timeout_s=1) as client:
        while time.monotonic() < deadline:
            try:
                client.version()
                return
            except Exception:
                time.sleep(0.05)
    raise SystemExit(f"no Toxiproxy API at {url}")


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def trips(sock: socket.socket, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        sock.sendall(PAYLOAD)
        got = 0
        while got < len(PAYLOAD):
            got += len(sock.recv(65536))
        out.append(time.perf_counter() - start)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(name: str, api: str, echo_port: int, n_trips: int, n_toxic: int) -> dict[str, float]:
    with ToxiproxyClient(api, timeout_s=5) as client:
        client.delete_proxy("bench", missing_ok=True)
        proxy = client.create_proxy("bench", f"127.0.0.1:{echo_port}", listen="127.0.0.1:0")
        direct, proxied = connect(echo_port), connect(proxy.port)
        trips(direct, 200)  # warm up both paths
        trips(proxied, 200)
        d: list[float] = []
        p: list[float] = []
        for _ in range(max(1, n_trips // BLOCK)):
            d += trips(direct, BLOCK)
            p += trips(proxied, BLOCK)
        direct.close()
        base = statistics.median(trips(proxied, 50))
        client.add_toxic("bench", type="latency", attributes={"latency": 100})
        toxic = trips(proxied, n_toxic)
        proxied.close()
        client.remove_toxic("bench", "latency_downstream")
        rates_d, rates_p = [], []
        for _ in range(2):
            rates_d.append(concurrent_rate(echo_port, CONNS, LOAD_S))
            rates_p.append(concurrent_rate(proxy.port, CONNS, LOAD_S))
        client.delete_proxy("bench")
    errors_ms = [(t - base) * 1000 - 100 for t in toxic]
    result = {
        "direct_p50": pct(d, 0.5) * 1000,
        "direct_p95": pct(d, 0.95) * 1000,
        "proxy_p50": pct(p, 0.5) * 1000,
        "proxy_p95": pct(p, 0.95) * 1000,
        "rate_ratio": (len(p) / sum(p)) / (len(d) / sum(d)),
        "direct_rate": max(rates_d),
        "proxy_rate": max(rates_p),
        "toxic_err_p50": statistics.median(errors_ms),
        "toxic_err_max": max(errors_ms, key=abs),
    }
    print(f"\n== {name} ({len(d)} round trips each way, 64 B, one kept-alive connection) ==")
    print(f"direct         p50 {result['direct_p50']:.3f} ms   p95 {result['direct_p95']:.3f} ms")
    print(f"through proxy  p50 {result['proxy_p50']:.3f} ms   p95 {result['proxy_p95']:.3f} ms")
    added50 = result["proxy_p50"] - result["direct_p50"]
    added95 = result["proxy_p95"] - result["direct_p95"]
    print(
        f"added          p50 {added50:.3f} ms   p95 {added95:.3f} ms   (target p50 <= 0.3 ms: "
        f"{'met' if added50 <= 0.3 else 'MISSED'})"
    )
    print(f"request rate   {result['rate_ratio']:.2f} x direct (sequential round trips on one connection)")
    print(
        f"request rate   {result['proxy_rate'] / result['direct_rate']:.2f} x direct with {CONNS} connections "
        f"({result['proxy_rate']:,.0f}/s vs {result['direct_rate']:,.0f}/s)"
    )
    print(
        f"latency toxic 100 ms: error p50 {result['toxic_err_p50']:+.2f} ms, worst {result['toxic_err_max']:+.2f} ms "
        f"over {n_toxic} trips (target +-2 ms: {'met' if abs(result['toxic_err_max']) <= 2 else 'MISSED'})"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trips", type=int, default=4000, help="round trips per path (default 4000)")
    parser.add_argument("--toxic-trips", type=int, default=40, help="round trips with the latency toxic")
    parser.add_argument("--echo", metavar="PORT_FILE", help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="PORT,CONNS,SECONDS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo:
        run_echo(args.echo)
        return 0
    if args.load:
        port, conns, seconds = args.load.split(",")
        run_load(int(port), int(conns), float(seconds))
        return 0

    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            echo_file = Path(tmp, "echo.port")
            procs.append(subprocess.Popen([sys.executable, __file__, "--echo", str(echo_file)]))
            echo_port = int(wait_for_file(echo_file, procs[-1]))

            ready = Path(tmp, "toxiproxy.port")
            cmd = toxiproxy_command("127.0.0.1", 0, seed=1, ready_file=str(ready), prefer_real=False)
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
            api = f"http://127.0.0.1:{wait_for_file(ready, procs[-1])}"
            print(f"cpus {os.cpu_count()}, python {sys.version.split()[0]}")
            measure("embedded gameday toxiproxy", api, echo_port, args.trips, args.toxic_trips)

            real = find_toxiproxy_server()
            if real is not None:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", 0))
                    port = probe.getsockname()[1]
                procs.append(
                    subprocess.Popen(
                        [real, "-host", "127.0.0.1", "-port", str(port)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                wait_for_api(f"http://127.0.0.1:{port}")
                measure(
                    f"real toxiproxy-server ({real})",
                    f"http://127.0.0.1:{port}",
                    echo_port,
                    args.trips,
                    args.toxic_trips,
                )
            else:
                print("\n(no toxiproxy-server on PATH: real server not measured)")
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
