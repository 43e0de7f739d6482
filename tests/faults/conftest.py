"""Fixtures: a live stack (embedded Toxiproxy, a premium mock, proxies named after providers).

Started once per module (processes are the slow part on a shared 2-core machine); the `stack`
fixture checks the stack is clean before each test and fails a test that leaves a toxic, a
disabled proxy, a mock fault or a changed price behind.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
import requests
from fault_stack import TOKEN, BlobHandler, LiveStack, create_proxy

from support.procs import Service, start_service


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    root = tmp_path_factory.mktemp("stack")
    blob = ThreadingHTTPServer(("127.0.0.1", 0), BlobHandler)
    blob.daemon_threads = True
    thread = threading.Thread(target=blob.serve_forever, daemon=True)
    thread.start()
    services: list[Service] = []
    try:
        toxiproxy = start_service(["toxiproxy", "--seed", "1"], root, name="toxiproxy")
        services.append(toxiproxy)
        mock = start_service(
            ["mock", "--profile", "mocks/premium.yaml"], root, name="premium", env={"GAMEDAY_ADMIN_TOKEN": TOKEN}
        )
        services.append(mock)
        stack = LiveStack(root, toxiproxy, mock, blob_url=f"http://127.0.0.1:{blob.server_address[1]}")
        stack.proxy_urls["premium"] = create_proxy(toxiproxy.url, "premium", f"127.0.0.1:{mock.port}")
        stack.proxy_urls["blob"] = create_proxy(toxiproxy.url, "blob", f"127.0.0.1:{blob.server_address[1]}")
        stack.base_prices = stack.pricing()["models"]
        state = {
            "stack": "tests/faults (fixture)",
            "admin_token": TOKEN,
            "toxiproxy_url": toxiproxy.url,
            "services": {
                "toxiproxy": {
                    "kind": "toxiproxy",
                    "url": toxiproxy.url,
                    "port": toxiproxy.port,
                    "pid": toxiproxy.proc.pid,
                    "log": str(toxiproxy.log_path),
                },
                "premium": {
                    "kind": "mock",
                    "url": mock.url,
                    "port": mock.port,
                    "pid": mock.proc.pid,
                    "log": str(mock.log_path),
                },
            },
            "proxies": {
                "premium": {"listen": stack.proxy_urls["premium"][7:], "upstream": f"127.0.0.1:{mock.port}"},
                "blob": {"listen": stack.proxy_urls["blob"][7:], "upstream": f"127.0.0.1:{blob.server_address[1]}"},
            },
            "gateway_url": None,
        }
        stack.state_path.parent.mkdir(parents=True)
        stack.state_path.write_text(json.dumps(state, indent=2))
        yield stack
    finally:
        for svc in reversed(services):
            svc.stop()
        blob.shutdown()
        blob.server_close()
        thread.join(5)


@pytest.fixture
def stack(live_stack: LiveStack) -> Iterator[LiveStack]:
    """The module's stack, checked clean before the test and required clean after it."""
    assert live_stack.dirt() == [], "the stack was not clean before this test"
    yield live_stack
    problems = live_stack.dirt()
    # Clean up for the next test whatever happened, then fail this one if it left anything behind.
    requests.post(f"{live_stack.toxiproxy.url}/reset", timeout=5)
    requests.post(f"{live_stack.mock.url}/admin/reset", headers=live_stack.admin_headers, timeout=5)
    assert problems == [], f"the test left faults behind: {problems}"
