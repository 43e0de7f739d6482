"""Conformance: the unmodified `toxiproxy-python` client (0.1.1) against the embedded server.

Its known limits (TOXIPROXY-API.md) are asserted as they behave, so a change on our side that a
real-server user would notice shows up here.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists
from tp_support import TcpServer, connect, read_until_closed, roundtrip

import toxiproxy


@pytest.fixture
def server(api: str) -> Iterator[toxiproxy.Toxiproxy]:
    """A toxiproxy-python handle on our server (its host and port are process-wide class attributes)."""
    saved = (APIConsumer.host, APIConsumer.port)
    url = urlsplit(api)
    handle = toxiproxy.Toxiproxy()
    handle.update_api_consumer(url.hostname, url.port)
    yield handle
    handle.update_api_consumer(*saved)


def test_running_and_version(server: toxiproxy.Toxiproxy) -> None:
    assert server.running() is True
    assert server.version().startswith(b'{"version": ')  # raw bytes of the body, as the client returns them


def test_create_list_get_destroy(server: toxiproxy.Toxiproxy, echo_server: TcpServer) -> None:
    proxy = server.create(upstream=echo_server.address, name="py")
    assert proxy.name == "py"
    assert proxy.upstream == echo_server.address
    assert proxy.enabled is True
    assert proxy.listen.startswith("127.0.0.1:")  # the client asks for 127.0.0.1:0
    assert not proxy.listen.endswith(":0")
    assert set(server.proxies()) == {"py"}
    assert server.get_proxy("py").listen == proxy.listen
    assert server.get_proxy("absent") is None
    with connect(proxy.listen) as sock:
        roundtrip(sock)
    with pytest.raises(ProxyExists):
        server.create(upstream=echo_server.address, name="py")
    assert server.destroy(proxy) is True
    assert server.proxies() == {}
    with pytest.raises(NotFound):
        proxy.destroy()


def test_create_disabled_and_with_listen(server: toxiproxy.Toxiproxy) -> None:
    proxy = server.create(upstream="127.0.0.1:9", name="off", listen="127.0.0.1:0", enabled=False)
    assert proxy.enabled is False


def test_toxics(server: toxiproxy.Toxiproxy, echo_server: TcpServer) -> None:
    proxy = server.create(upstream=echo_server.address, name="tox")
    proxy.add_toxic(type="latency", attributes={"latency": 60})
    proxy.add_toxic(type="bandwidth", stream="upstream", name="bw", toxicity=0.5, attributes={"rate": 1000})
    toxics = proxy.toxics()
    assert list(toxics) == ["bw", "latency_downstream"]
    latency = proxy.get_toxic("latency_downstream")
    assert (latency.type, latency.stream, latency.toxicity) == ("latency", "downstream", 1)
    assert latency.attributes == {"latency": 60, "jitter": 0}
    assert toxics["bw"].toxicity == 0.5
    assert proxy.get_toxic("nope") is None
    with connect(proxy.listen) as sock:
        assert roundtrip(sock) >= 0.055
    with pytest.raises(ProxyExists):  # the client maps 409 to ProxyExists, also for toxics
        proxy.add_toxic(type="latency")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="teleport")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="latency", name="x", stream="sideways")
    assert proxy.destroy_toxic("latency_downstream") is True
    with pytest.raises(NotFound):
        proxy.destroy_toxic("latency_downstream")
    assert list(proxy.toxics()) == ["bw"]


def test_disable_enable_and_down(server: toxiproxy.Toxiproxy, echo_server: TcpServer) -> None:
    proxy = server.create(upstream=echo_server.address, name="dn")
    with connect(proxy.listen) as sock:
        with proxy.down():
            assert server.get_proxy("dn").enabled is False
            assert read_until_closed(sock)[0] == b""
            with pytest.raises(ConnectionRefusedError):
                connect(proxy.listen, timeout=2).close()
        assert server.get_proxy("dn").enabled is True
    with connect(proxy.listen) as again:
        roundtrip(again)
    proxy.disable()
    assert proxy.enabled is False
    proxy.enable()
    assert server.get_proxy("dn").enabled is True


def test_reset_and_destroy_all(server: toxiproxy.Toxiproxy) -> None:
    proxy = server.create(upstream="127.0.0.1:9", name="r1")
    server.create(upstream="127.0.0.1:9", name="r2")
    proxy.add_toxic(type="timeout")
    proxy.disable()
    assert server.reset() is True
    assert server.get_proxy("r1").enabled is True
    assert proxy.toxics() == {}
    server.destroy_all()
    assert server.proxies() == {}


def test_populate(server: toxiproxy.Toxiproxy) -> None:
    made = server.populate([{"name": "pa", "upstream": "127.0.0.1:9", "listen": "127.0.0.1:0"}])
    assert [p.name for p in made] == ["pa"]
    listen = made[0].listen
    server.get_proxy("pa").add_toxic(type="noop")
    # The client compares `listen` itself: the same address as the server wrote it is left alone.
    assert server.populate([{"name": "pa", "upstream": "127.0.0.1:9", "listen": listen}]) == []
    assert list(server.get_proxy("pa").toxics()) == ["noop_downstream"]
    # A different upstream: the client deletes and recreates it (toxics are lost, as with the real server).
    again = server.populate([{"name": "pa", "upstream": "127.0.0.1:10", "listen": listen}])
    assert [p.upstream for p in again] == ["127.0.0.1:10"]
    assert server.get_proxy("pa").toxics() == {}


def test_known_limit_a_taken_port_surfaces_as_keyerror(server: toxiproxy.Toxiproxy) -> None:
    first = server.create(upstream="127.0.0.1:9", name="first")
    # Only 400/404/409 raise in this client: the server's 500 comes back as a body without "name".
    with pytest.raises(KeyError, match="name"):
        server.create(upstream="127.0.0.1:9", name="second", listen=first.listen)
