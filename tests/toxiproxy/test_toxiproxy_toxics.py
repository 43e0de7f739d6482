"""Each toxic on real loopback sockets: what a client sees, and when.

Timings compare against the same proxy without the toxic (medians of a few round trips), so a busy
machine shifts both sides alike; bounds are wide where the toxic itself does not promise precision.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
import requests
from tp_support import MakeProxy, TcpServer, added_ms, connect, read_until_closed, roundtrip, rtt_ms, rtts_ms


def add_toxic(api: str, proxy: str, **body: Any) -> dict[str, Any]:
    reply = requests.post(f"{api}/proxies/{proxy}/toxics", json=body, timeout=5)
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("stream", ["downstream", "upstream"])
def test_latency_adds_the_setting(api: str, make_proxy: MakeProxy, echo_server: TcpServer, stream: str) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    base = rtts_ms(listen, 9)
    add_toxic(api, "p", type="latency", stream=stream, attributes={"latency": 60})
    slowed = rtts_ms(listen, 7)
    assert min(slowed) >= 59.5  # never early
    added = added_ms(base, slowed)
    assert abs(added - 60) <= 5, f"{stream}: added {added:.1f} ms for 60 ms"


def test_latency_on_both_streams_and_stacked_adds_up(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    base = rtts_ms(listen, 9)
    add_toxic(api, "p", type="latency", stream="upstream", attributes={"latency": 30})
    add_toxic(api, "p", type="latency", stream="downstream", attributes={"latency": 20})
    add_toxic(api, "p", type="latency", stream="downstream", name="more", attributes={"latency": 10})
    added = added_ms(base, rtts_ms(listen, 5))
    assert abs(added - 60) <= 5, f"added {added:.1f} ms for 30 + 20 + 10 ms"


def test_latency_does_not_accumulate_along_a_stream(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="latency", stream="upstream", attributes={"latency": 80})
    with connect(listen) as sock:
        start = time.perf_counter()
        for _ in range(4):  # four writes 10 ms apart all arrive about 80 ms after they were sent
            sock.sendall(b"abcd")
            time.sleep(0.01)
        got = b""
        while len(got) < 16:
            got += sock.recv(100)
        elapsed = time.perf_counter() - start
    assert got == b"abcd" * 4
    assert 0.105 <= elapsed <= 0.2, elapsed


def test_jitter_stays_in_bounds(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="latency", attributes={"latency": 40, "jitter": 20})
    with connect(listen) as sock:
        samples = [roundtrip(sock) * 1000 for _ in range(12)]
    assert min(samples) >= 19
    assert max(samples) <= 75
    assert max(samples) - min(samples) >= 5  # it does vary


def test_bandwidth_limits_the_rate(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="bandwidth", attributes={"rate": 200})  # 200 KB/s = 200,000 bytes/s
    with connect(listen) as sock:
        elapsed = roundtrip(sock, b"b" * 60_000)
    assert 0.27 <= elapsed <= 0.5, elapsed  # 0.3 s at the rate


def test_bandwidth_zero_stalls_until_removed(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="bandwidth", attributes={"rate": 0})
    with connect(listen, timeout=0.3) as sock:
        sock.sendall(b"stuck")
        with pytest.raises(TimeoutError):
            sock.recv(10)
        requests.delete(f"{api}/proxies/p/toxics/bandwidth_downstream", timeout=5)
        sock.settimeout(5)
        assert sock.recv(10) == b"stuck"


def test_slow_close_delays_only_the_close(api: str, make_proxy: MakeProxy, greeter: TcpServer) -> None:
    listen = make_proxy(greeter.address)["listen"]
    add_toxic(api, "p", type="slow_close", attributes={"delay": 300})
    with connect(listen) as sock:
        start = time.perf_counter()
        assert sock.recv(10) == b"hello"
        first = time.perf_counter() - start
        rest, closed_at = read_until_closed(sock)
    assert rest == b""
    assert first < 0.15
    assert 0.29 <= closed_at - start <= 0.6


def test_timeout_drops_data_then_closes(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="timeout", attributes={"timeout": 200})
    with connect(listen) as sock:
        start = time.perf_counter()
        sock.sendall(b"lost")
        data, closed_at = read_until_closed(sock)
    assert data == b""
    assert 0.19 <= closed_at - start <= 0.5


def test_timeout_zero_holds_until_removed(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="timeout", stream="upstream", attributes={"timeout": 0})
    with connect(listen, timeout=0.4) as sock:
        sock.sendall(b"lost")
        with pytest.raises(TimeoutError):
            sock.recv(10)
        requests.delete(f"{api}/proxies/p/toxics/timeout_upstream", timeout=5)
        sock.settimeout(5)
        data, _ = read_until_closed(sock)  # removing it closes connections it was on
    assert data == b""


def test_reset_peer_sends_rst(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="reset_peer", stream="upstream", attributes={"timeout": 150})
    with connect(listen) as sock:
        start = time.perf_counter()
        sock.sendall(b"hi")
        with pytest.raises(ConnectionResetError):
            read_until_closed(sock)
        elapsed = time.perf_counter() - start
    assert 0.14 <= elapsed <= 0.5


def test_slicer_cuts_into_small_pieces(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="slicer", attributes={"average_size": 10, "size_variation": 4, "delay": 20_000})
    with connect(listen) as sock:
        start = time.perf_counter()
        sock.sendall(bytes(range(100)))
        pieces = []
        while sum(map(len, pieces)) < 100:
            pieces.append(sock.recv(1000))
        elapsed = time.perf_counter() - start
    assert b"".join(pieces) == bytes(range(100))
    assert len(pieces) >= 5
    assert max(map(len, pieces)) <= 28  # at most two slices read together on a busy machine
    assert elapsed >= 0.1  # 20 ms between about 10 slices


def test_limit_data_forwards_exactly_then_closes(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="limit_data", attributes={"bytes": 10})
    with connect(listen) as sock:
        sock.sendall(b"0123456789abcdef")
        data, _ = read_until_closed(sock)
    assert data == b"0123456789"


def test_noop_passes_everything(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="noop", stream="upstream")
    add_toxic(api, "p", type="noop")
    payload = bytes(range(256)) * 400
    with connect(listen) as sock:
        sock.sendall(payload)
        got = b""
        while len(got) < len(payload):
            got += sock.recv(65536)
    assert got == payload


def test_toxicity_is_drawn_per_connection(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    add_toxic(api, "p", type="latency", toxicity=0.0, attributes={"latency": 150})
    assert rtt_ms(listen, 3) < 75  # toxicity 0: never
    requests.patch(f"{api}/proxies/p/toxics/latency_downstream", json={"toxicity": 0.5}, timeout=5)
    hit = []
    for _ in range(16):
        with connect(listen) as sock:
            trips = [roundtrip(sock) for _ in range(2)]
        slow = [t > 0.075 for t in trips]
        assert slow[0] == slow[1]  # once per connection, not per chunk
        hit.append(slow[0])
    assert 2 <= sum(hit) <= 14


def test_the_seed_fixes_which_connections_are_hit(service_factory: Any, echo_server: TcpServer) -> None:
    patterns = []
    for run in range(2):
        svc = service_factory(["toxiproxy", "--seed", "7"], name=f"seeded{run}")
        with requests.Session() as http:
            body = {"name": "s", "upstream": echo_server.address, "listen": "127.0.0.1:0"}
            listen = http.post(f"{svc.url}/proxies", json=body, timeout=5).json()["listen"]
            toxic = {"type": "latency", "toxicity": 0.5, "attributes": {"latency": 120}}
            http.post(f"{svc.url}/proxies/s/toxics", json=toxic, timeout=5)
        pattern = []
        for _ in range(10):
            with connect(listen) as sock:
                pattern.append(roundtrip(sock) > 0.07)
        patterns.append(pattern)
        svc.stop()
    assert patterns[0] == patterns[1]
    assert 0 < sum(patterns[0]) < 10


def test_refused_upstream_closes_the_client(api: str, make_proxy: MakeProxy) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{free.getsockname()[1]}"  # bound, not listening: connections are refused
        listen = make_proxy(dead)["listen"]
        with connect(listen) as sock:
            data, _ = read_until_closed(sock)
    assert data == b""
