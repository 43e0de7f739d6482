from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from tp_support import MakeProxy, TcpServer, echo, greet_and_close

from support.procs import Service, start_service


@pytest.fixture(scope="session")
def toxiproxy_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One embedded Toxiproxy for the module's tests (each test leaves it empty)."""
    svc = start_service(["toxiproxy", "--seed", "42"], tmp_path_factory.mktemp("toxiproxy"), name="toxiproxy")
    yield svc
    svc.stop()


@pytest.fixture
def api(toxiproxy_service: Service) -> Iterator[str]:
    """The API URL of a Toxiproxy with no proxies; every proxy a test made is deleted afterwards."""
    url = toxiproxy_service.url
    with requests.Session() as http:
        for name in http.get(f"{url}/proxies", timeout=5).json():
            http.delete(f"{url}/proxies/{name}", timeout=5)
    yield url
    with requests.Session() as http:
        for name in http.get(f"{url}/proxies", timeout=5).json():
            http.delete(f"{url}/proxies/{name}", timeout=5)


@pytest.fixture
def echo_server() -> Iterator[TcpServer]:
    server = TcpServer(echo)
    yield server
    server.close()


@pytest.fixture
def greeter() -> Iterator[TcpServer]:
    """Sends `hello` and closes at once."""
    server = TcpServer(greet_and_close)
    yield server
    server.close()


@pytest.fixture
def make_proxy(api: str) -> MakeProxy:
    """Create a proxy on 127.0.0.1:0 to `upstream`; returns its JSON (with the real listen address)."""

    def make(upstream: str, name: str = "p") -> dict[str, Any]:
        reply = requests.post(
            f"{api}/proxies", json={"name": name, "upstream": upstream, "listen": "127.0.0.1:0"}, timeout=5
        )
        assert reply.status_code == 201, reply.text
        return reply.json()  # type: ignore[no-any-return]

    return make
