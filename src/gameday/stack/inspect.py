"""What a running stack looks like now: each service alive and healthy or not, each proxy's faults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from gameday.faults.toxiproxy_client import ToxiproxyClient, ToxiproxyError
from gameday.stack.health import probe
from gameday.stack.process import log_tail
from gameday.stack.teardown import service_refs

__all__ = ["ProxyStatus", "ServiceStatus", "StackStatus", "inspect_stack", "render_table"]


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    kind: str
    url: str
    pid: int | None
    alive: bool
    health: str  # "ok" or what is wrong
    log: str | None

    @property
    def up(self) -> bool:
        return self.alive and self.health == "ok"


@dataclass(frozen=True)
class ProxyStatus:
    name: str
    listen: str
    upstream: str
    present: bool
    enabled: bool
    toxics: int


@dataclass(frozen=True)
class StackStatus:
    services: list[ServiceStatus]
    proxies: list[ProxyStatus]
    proxies_error: str | None = None

    @property
    def healthy(self) -> bool:
        return all(s.up for s in self.services) and all(p.present for p in self.proxies) and not self.proxies_error

    @property
    def faults_present(self) -> bool:
        return any(p.toxics or not p.enabled for p in self.proxies)

    def dead_logs(self) -> list[tuple[str, str, str]]:
        """(service, log path, last lines) of every service that is not running."""
        return [(s.name, s.log or "", log_tail(s.log)) for s in self.services if not s.alive]


def inspect_stack(state: dict[str, Any], timeout_s: float = 2.0) -> StackStatus:
    refs = service_refs(state)
    services = []
    with requests.Session() as session:
        for name, svc in (state.get("services") or {}).items():
            url = str(svc.get("url") or "")
            ref = refs.get(name)
            alive = ref.alive() if ref is not None else True  # an external service has no pid of ours
            health = "not running" if not alive else (probe(url, str(svc.get("kind")), timeout_s, session) or "ok")
            if not url:
                health = "never started"
            services.append(
                ServiceStatus(name, str(svc.get("kind")), url, ref.pid if ref else None, alive, health, svc.get("log"))
            )
    proxies, error = _proxies(state, timeout_s)
    return StackStatus(services, proxies, error)


def _proxies(state: dict[str, Any], timeout_s: float) -> tuple[list[ProxyStatus], str | None]:
    wanted: dict[str, Any] = state.get("proxies") or {}
    url = state.get("toxiproxy_url")
    if not wanted or not url:
        return [], None
    try:
        with ToxiproxyClient(str(url), timeout_s=timeout_s) as client:
            present = client.list_proxies()
    except ToxiproxyError as exc:
        return [ProxyStatus(n, p["listen"], p["upstream"], False, False, 0) for n, p in wanted.items()], str(exc)
    rows = []
    for name, spec in wanted.items():
        proxy = present.get(name)
        if proxy is None:
            rows.append(ProxyStatus(name, spec["listen"], spec["upstream"], False, False, 0))
        else:
            rows.append(ProxyStatus(name, proxy.listen, proxy.upstream, True, proxy.enabled, len(proxy.toxics)))
    return rows, None


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain, aligned text table (readable in CI logs and greppable in tests)."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
