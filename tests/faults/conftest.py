"""A live stack for the fault tests: the embedded Toxiproxy, a premium mock, proxies named after providers.

Started once per module (processes are the slow part on a shared 2-core machine); every test
starts from a clean stack and must leave it clean itself: the autouse check fails a test that
leaves a toxic, a disabled proxy or a mock fault behind.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from support.procs import Service, start_service

TOKEN = "fault-tests-token"
BLOB_BYTES = 20_000


class _BlobHandler(BaseHTTPRequestHandler):
    """Answers every GET with BLOB_BYTES bytes: a known body to time through a slow proxy."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b"x" * BLOB_BYTES
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class LiveStack:
    root: Path
    toxiproxy: Service
    mock: Service
    blob_url: str
    proxy_urls: dict[str, str] = field(default_factory=dict)

    @property
    def state_path(self) -> Path:
        return self.root / ".gameday" / "state.json"

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    def proxies(self) -> dict[str, Any]:
        return requests.get(f"{self.toxiproxy.url}/proxies", timeout=5).json()

    def mock_state(self) -> dict[str, Any]:
        reply = requests.get(f"{self.mock.url}/admin/state", headers=self.admin_headers, timeout=5)
        reply.raise_for_status()
        return reply.json()

    def pricing(self) -> dict[str, Any]:
        return requests.get(f"{self.mock.url}/pricing", timeout=5).json()

    def dirt(self) -> list[str]:
        """What is left of any fault: toxics, disabled proxies, mock faults, error rates, price overrides."""
        problems = []
        for name, proxy in self.proxies().items():
            if proxy["toxics"]:
                problems.append(f"proxy {name} has toxics {[t['name'] for t in proxy['toxics']]}")
            if not proxy["enabled"]:
                problems.append(f"proxy {name} is disabled")
        problems.extend(mock_dirt(self.mock_state(), self.pricing(), self.base_prices))
        return problems

    base_prices: dict[str, Any] = field(default_factory=dict)


def mock_dirt(state: dict[str, Any], pricing: dict[str, Any], base_prices: dict[str, Any]) -> list[str]:
    problems = []
    for key in ("faults", "errors", "error_rates"):
        value = state.get(key)
        if value and any(_live(v) for v in (value if isinstance(value, list) else [value])):
            problems.append(f"mock {key}: {value}")
    if base_prices and pricing["models"] != base_prices:
        problems.append(f"mock prices {pricing['models']} != profile {base_prices}")
    return problems


def _live(value: Any) -> bool:
    """An entry that still acts: a non-empty mapping with a rate above 0, or anything else non-empty."""
    if isinstance(value, dict):
        if "rate" in value:
            return float(value["rate"]) > 0
        return any(_live(v) for v in value.values())
    if isinstance(value, list):
        return any(_live(v) for v in value)
    if isinstance(value, int | float):
        return value > 0
    return bool(value)


def _create_proxy(toxiproxy_url: str, name: str, upstream: str) -> str:
    reply = requests.post(
        f"{toxiproxy_url}/proxies",
        json={"name": name, "listen": "127.0.0.1:0", "upstream": upstream},
        timeout=5,
    )
    reply.raise_for_status()
    return "http://" + reply.json()["listen"]


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    root = tmp_path_factory.mktemp("stack")
    blob = ThreadingHTTPServer(("127.0.0.1", 0), _BlobHandler)
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
        stack.proxy_urls["premium"] = _create_proxy(toxiproxy.url, "premium", f"127.0.0.1:{mock.port}")
        stack.proxy_urls["blob"] = _create_proxy(toxiproxy.url, "blob", f"127.0.0.1:{blob.server_address[1]}")
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
