"""Small real TCP servers and socket helpers for the Toxiproxy tests (threads, blocking sockets, loopback)."""

from __future__ import annotations

import socket
import socketserver
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "MakeProxy",
    "TcpServer",
    "added_ms",
    "connect",
    "echo",
    "greet_and_close",
    "read_until_closed",
    "roundtrip",
    "rtt_ms",
    "rtts_ms",
]

MakeProxy = Callable[..., dict[str, Any]]
"""The `make_proxy` fixture: (upstream, name="p") -> the created proxy's JSON."""


def echo(sock: socket.socket) -> None:
    while data := sock.recv(65536):
        sock.sendall(data)


def greet_and_close(sock: socket.socket) -> None:
    sock.sendall(b"hello")


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.server.behaviour(self.request)
        except OSError:
            pass  # the proxy reset or closed the connection: that is what several tests do


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    behaviour: Callable[[socket.socket], None]


class TcpServer:
    """A threaded TCP server on 127.0.0.1 and an ephemeral port, running `behaviour(sock)` per connection."""

    def __init__(self, behaviour: Callable[[socket.socket], None]) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.behaviour = behaviour
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def connect(listen: str, timeout: float = 5.0) -> socket.socket:
    """A connection to a proxy's `listen` address (`[::]:port` means loopback here)."""
    port = int(listen.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def roundtrip(sock: socket.socket, payload: bytes = b"x" * 64) -> float:
    """Send `payload` to an echo and read it all back; returns the seconds it took."""
    start = time.perf_counter()
    sock.sendall(payload)
    got = 0
    while got < len(payload):
        data = sock.recv(65536)
        if not data:
            raise ConnectionError(f"closed after {got} of {len(payload)} bytes")
        got += len(data)
    return time.perf_counter() - start


def rtts_ms(listen: str, n: int = 5) -> list[float]:
    """Round trips in ms through `listen`, on one connection."""
    with connect(listen) as sock:
        return [roundtrip(sock) * 1000 for _ in range(n)]


def rtt_ms(listen: str, n: int = 5) -> float:
    """Median round trip in ms through `listen`, on one connection."""
    return statistics.median(rtts_ms(listen, n))


def added_ms(base: list[float], slowed: list[float]) -> float:
    """Delay a toxic added: the median slowed trip less the fastest plain one.

    The fastest plain trip is the proxy's own cost; medians of plain trips swell on a busy machine
    (each hop waits for a CPU), while a trip that slept in a timer gets the CPU back at once.
    """
    return statistics.median(slowed) - min(base)


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything until the peer closes, and when that happened (perf_counter)."""
    chunks = []
    while data := sock.recv(65536):
        chunks.append(data)
    return b"".join(chunks), time.perf_counter()
