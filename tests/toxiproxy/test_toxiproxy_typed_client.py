"""The suite's typed client (`gameday.faults.toxiproxy_client`) against the embedded server."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from tp_support import TcpServer, connect, read_until_closed, roundtrip

from gameday.errors import FaultError
from gameday.faults.toxiproxy_client import Proxy, ProxySpec, Toxic, ToxiproxyClient, ToxiproxyError


@pytest.fixture
def client(api: str) -> Iterator[ToxiproxyClient]:
    with ToxiproxyClient(api, timeout_s=5) as c:
        yield c


def test_version(client: ToxiproxyClient) -> None:
    assert client.version()[0].isdigit()


def test_proxies(client: ToxiproxyClient, echo_server: TcpServer) -> None:
    proxy = client.create_proxy("a", echo_server.address, listen="127.0.0.1:0")
    assert isinstance(proxy, Proxy)
    assert (proxy.name, proxy.upstream, proxy.enabled, proxy.toxics) == ("a", echo_server.address, True, ())
    assert proxy.port > 0
    with connect(proxy.listen) as sock:
        roundtrip(sock)
    assert client.list_proxies() == {"a": proxy}
    assert client.get_proxy("a") == proxy
    assert client.set_enabled("a", False).enabled is False
    assert client.update_proxy("a", enabled=True) == proxy
    moved = client.update_proxy("a", listen="127.0.0.1:0")
    assert moved.listen != proxy.listen
    client.delete_proxy("a")
    client.delete_proxy("a", missing_ok=True)
    with pytest.raises(ToxiproxyError) as err:
        client.delete_proxy("a")
    assert err.value.status == 404
    assert err.value.server_message == "proxy not found"


def test_toxics(client: ToxiproxyClient, echo_server: TcpServer) -> None:
    proxy = client.create_proxy("t", echo_server.address, listen="127.0.0.1:0")
    toxic = client.add_toxic("t", type="latency", attributes={"latency": 50}, name="slow")
    assert toxic == Toxic("slow", "latency", "downstream", 1.0, {"latency": 50, "jitter": 0})
    client.add_toxic("t", type="limit_data", stream="upstream", toxicity=0.5, attributes={"bytes": 100})
    assert [t.name for t in client.list_toxics("t")] == ["limit_data_upstream", "slow"]
    assert client.get_toxic("t", "slow") == toxic
    with connect(proxy.listen) as sock:
        assert roundtrip(sock) >= 0.045
    updated = client.update_toxic("t", "slow", attributes={"jitter": 5}, toxicity=0.25)
    assert (updated.attributes, updated.toxicity) == ({"latency": 50, "jitter": 5}, 0.25)
    assert client.get_proxy("t").toxics[1] == updated
    client.remove_toxic("t", "slow")
    client.remove_toxic("t", "slow", missing_ok=True)
    client.remove_toxic("gone", "slow", missing_ok=True)
    assert [t.name for t in client.list_toxics("t")] == ["limit_data_upstream"]
    client.reset()
    assert client.list_toxics("t") == []


def test_populate(client: ToxiproxyClient) -> None:
    made = client.populate(
        [ProxySpec("x", "127.0.0.1:9", "127.0.0.1:0"), {"name": "y", "upstream": "127.0.0.1:9", "listen": ""}]
    )
    assert [p.name for p in made] == ["x", "y"]
    assert client.populate([]) == []
    with pytest.raises(ToxiproxyError, match="missing required field: upstream at proxy 1"):
        client.populate([{"name": "z"}])


def test_server_messages_become_fault_errors(client: ToxiproxyClient) -> None:
    first = client.create_proxy("e", "127.0.0.1:9", listen="127.0.0.1:0")
    with pytest.raises(FaultError, match="409: proxy already exists"):
        client.create_proxy("e", "127.0.0.1:9")
    with pytest.raises(FaultError, match=r"500: listen tcp .*address already in use"):
        client.create_proxy("f", "127.0.0.1:9", listen=first.listen)
    with pytest.raises(FaultError, match=r"invalid toxic type \(types Toxiproxy ships: latency"):
        client.add_toxic("e", type="teleport")
    with pytest.raises(FaultError, match="rate must be 0 or more"):
        client.add_toxic("e", type="bandwidth", attributes={"rate": -5})
    with pytest.raises(FaultError, match="toxic not found"):
        client.update_toxic("e", "nope", toxicity=0.5)
    with pytest.raises(FaultError, match="proxy not found"):
        client.get_proxy("nope")


def test_bad_arguments_fail_before_any_request(client: ToxiproxyClient) -> None:
    with pytest.raises(FaultError, match=r"toxicity 1\.5 is out of range"):
        client.add_toxic("e", type="latency", toxicity=1.5)
    with pytest.raises(FaultError, match="stream 'sideways' is not valid"):
        client.add_toxic("e", type="latency", stream="sideways")
    with pytest.raises(FaultError, match="must start with http://"):
        ToxiproxyClient("127.0.0.1:8474")


def test_unreachable_server_is_a_fault_error() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{free.getsockname()[1]}"
        with ToxiproxyClient(url, timeout_s=2) as client, pytest.raises(FaultError, match="cannot reach toxiproxy"):
            client.version()


def test_outage_by_disabling(client: ToxiproxyClient, echo_server: TcpServer) -> None:
    proxy = client.create_proxy("o", echo_server.address, listen="127.0.0.1:0")
    with connect(proxy.listen) as sock:
        client.set_enabled("o", False)
        assert read_until_closed(sock)[0] == b""
    client.set_enabled("o", True)
    with connect(proxy.listen) as sock:
        roundtrip(sock)
