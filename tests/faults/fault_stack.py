"""The live stack the fault tests run against, and how to tell whether any fault is left in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests

from support.procs import Service

TOKEN = "fault-tests-token"
BLOB_BYTES = 20_000


class BlobHandler(BaseHTTPRequestHandler):
    """Answers every GET with BLOB_BYTES bytes: a known body to time through a slow proxy."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body wait on a delayed ACK (40 ms) and hide latency

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


def create_proxy(toxiproxy_url: str, name: str, upstream: str) -> str:
    reply = requests.post(
        f"{toxiproxy_url}/proxies",
        json={"name": name, "listen": "127.0.0.1:0", "upstream": upstream},
        timeout=5,
    )
    reply.raise_for_status()
    return "http://" + reply.json()["listen"]
