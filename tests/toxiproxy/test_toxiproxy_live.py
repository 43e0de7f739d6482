"""Changes through the API reach connections that are already open: toxics, enabled, deletion, reset."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
import requests
from tp_support import MakeProxy, TcpServer, connect, read_until_closed, roundtrip

from support.procs import Service


def test_toxics_apply_to_an_open_connection(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    with connect(listen) as sock:
        assert roundtrip(sock) < 0.04
        requests.post(f"{api}/proxies/p/toxics", json={"type": "latency", "attributes": {"latency": 80}}, timeout=5)
        assert 0.075 <= roundtrip(sock) <= 0.2
        requests.patch(f"{api}/proxies/p/toxics/latency_downstream", json={"attributes": {"latency": 40}}, timeout=5)
        assert 0.035 <= roundtrip(sock) <= 0.075
        requests.delete(f"{api}/proxies/p/toxics/latency_downstream", timeout=5)
        assert roundtrip(sock) < 0.035
        payload = bytes(range(256)) * 50  # nothing lost or reordered across the changes
        sock.sendall(payload)
        got = b""
        while len(got) < len(payload):
            got += sock.recv(65536)
        assert got == payload


def test_removing_a_toxic_releases_held_data_in_order(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    requests.post(f"{api}/proxies/p/toxics", json={"type": "bandwidth", "attributes": {"rate": 0}}, timeout=5)
    requests.post(f"{api}/proxies/p/toxics", json={"type": "noop", "name": "after"}, timeout=5)
    with connect(listen) as sock:
        sock.sendall(b"first;")
        sock.sendall(b"second")
        requests.delete(f"{api}/proxies/p/toxics/bandwidth_downstream", timeout=5)
        got = b""
        while len(got) < 12:
            got += sock.recv(100)
    assert got == b"first;second"


def test_disable_closes_connections_and_refuses_new_ones(
    api: str, make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    port = int(listen.rsplit(":", 1)[1])
    with connect(listen) as sock:
        roundtrip(sock)
        assert requests.patch(f"{api}/proxies/p", json={"enabled": False}, timeout=5).json()["enabled"] is False
        data, _ = read_until_closed(sock)
        assert data == b""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    requests.patch(f"{api}/proxies/p", json={"enabled": True}, timeout=5)
    with connect(listen) as sock:  # listening again on the same port
        roundtrip(sock)


def test_delete_closes_connections(api: str, make_proxy: MakeProxy, echo_server: TcpServer) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    with connect(listen) as sock:
        roundtrip(sock)
        requests.delete(f"{api}/proxies/p", timeout=5)
        data, _ = read_until_closed(sock)
    assert data == b""


def test_new_upstream_applies_to_new_connections(
    api: str, make_proxy: MakeProxy, echo_server: TcpServer, greeter: TcpServer
) -> None:
    proxy = make_proxy(echo_server.address)
    with connect(proxy["listen"]) as sock:
        roundtrip(sock)
        moved = requests.patch(f"{api}/proxies/p", json={"upstream": greeter.address}, timeout=5).json()
        assert moved["listen"] == proxy["listen"]
        assert read_until_closed(sock)[0] == b""  # the restart dropped it
    with connect(proxy["listen"]) as sock:
        assert read_until_closed(sock)[0] == b"hello"


def test_reset_reenables_and_clears_toxics_on_open_connections(
    api: str, make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    requests.post(f"{api}/proxies/p/toxics", json={"type": "latency", "attributes": {"latency": 100}}, timeout=5)
    with connect(listen) as sock:
        assert roundtrip(sock) >= 0.095
        requests.post(f"{api}/reset", timeout=5)
        assert roundtrip(sock) < 0.05


def test_reset_peer_added_to_an_open_connection_closes_it_plainly(
    api: str, make_proxy: MakeProxy, echo_server: TcpServer
) -> None:
    listen = make_proxy(echo_server.address)["listen"]
    with connect(listen) as sock:
        roundtrip(sock)
        requests.post(f"{api}/proxies/p/toxics", json={"type": "reset_peer", "stream": "upstream"}, timeout=5)
        sock.sendall(b"x")
        data, _ = read_until_closed(sock)  # a FIN, not a reset: SO_LINGER is set only on new connections
    assert data == b""


def test_stopping_the_server_with_busy_connections_is_clean(
    service_factory: Callable[..., Service], echo_server: TcpServer
) -> None:
    svc = service_factory(["toxiproxy"], name="stopping")
    with requests.Session() as http:
        body = {"name": "s", "upstream": echo_server.address, "listen": "127.0.0.1:0"}
        listen = http.post(f"{svc.url}/proxies", json=body, timeout=5).json()["listen"]
        for toxic in ({"type": "latency", "attributes": {"latency": 500}}, {"type": "timeout", "stream": "upstream"}):
            http.post(f"{svc.url}/proxies/s/toxics", json=toxic, timeout=5)
    with connect(listen) as held, connect(listen) as idle:
        held.sendall(b"in flight")
        assert svc.stop() == 0
        assert read_until_closed(idle)[0] == b""
    log = svc.log()
    assert "Traceback" not in log
    assert "Task was destroyed" not in log
