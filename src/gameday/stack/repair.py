"""Remove every fault from a running stack, from its state file alone, then check that none is left.

This is what repairs a run killed with SIGKILL: Toxiproxy `POST /reset` (every toxic gone, every
proxy enabled), any proxy of the state that went missing created again, every mock's
`POST /admin/reset` (error rates, protocol faults, price and capacity overrides), and the gateway's
admin reset when it has one. Then it looks again, and says what is still wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from gameday.faults.toxiproxy_client import ProxySpec, ToxiproxyClient, ToxiproxyError

__all__ = ["ResetReport", "check_clean", "reset_faults", "reset_stack"]


@dataclass
class ResetReport:
    done: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _mocks(state: Mapping[str, Any]) -> dict[str, str]:
    """Mock name -> URL."""
    services = state.get("services") or {}
    return {n: str(s["url"]) for n, s in services.items() if s.get("kind") == "mock" and s.get("url")}


def reset_stack(state: Mapping[str, Any], timeout_s: float = 5.0) -> ResetReport:
    """Reset every part of the stack that answers; a part that does not is a problem, not a stop."""
    report = ResetReport()
    _reset_toxiproxy(state, timeout_s, report)
    for name, url in _mocks(state).items():
        _reset_admin(name, url, state, timeout_s, report, "mock faults, error rates, price and capacity overrides")
    gateway = state.get("gateway_url")
    if gateway:
        _reset_admin("gateway", str(gateway), state, timeout_s, report, "kill switch and route overrides")
    report.problems.extend(check_clean(state, timeout_s))
    return report


def reset_faults(state: Mapping[str, Any], timeout_s: float = 5.0) -> list[str]:
    """Reset every fault; the problems left (empty when the stack is clean)."""
    return reset_stack(state, timeout_s).problems


def _reset_toxiproxy(state: Mapping[str, Any], timeout_s: float, report: ResetReport) -> None:
    url = state.get("toxiproxy_url")
    proxies: Mapping[str, Any] = state.get("proxies") or {}
    if not url:
        return
    try:
        with ToxiproxyClient(str(url), timeout_s=timeout_s) as client:
            client.reset()
            present = client.list_proxies()
            missing = [
                ProxySpec(name, str(p["upstream"]), str(p["listen"]))
                for name, p in proxies.items()
                if name not in present or present[name].listen != p["listen"] or present[name].upstream != p["upstream"]
            ]
            if missing:
                client.populate(missing)
                report.done.append(f"toxiproxy: proxies created again: {', '.join(p.name for p in missing)}")
        report.done.append(f"toxiproxy: every toxic removed, every proxy enabled ({len(present)} proxies)")
    except ToxiproxyError as exc:
        report.problems.append(f"toxiproxy: {exc}")


def _reset_admin(
    name: str, url: str, state: Mapping[str, Any], timeout_s: float, report: ResetReport, what: str
) -> None:
    """`POST /admin/reset`. A 404 means no admin API (a real vLLM, another gateway): nothing of ours to clear."""
    token = state.get("admin_token")
    if not token:
        report.problems.append(f"{name}: no admin token in the state file, so its faults cannot be cleared")
        return
    headers = {"Authorization": f"Bearer {token}"}
    try:
        reply = requests.post(
            f"{url.rstrip('/')}/admin/reset", headers=headers, timeout=(min(2.0, timeout_s), timeout_s)
        )
    except requests.RequestException as exc:
        report.problems.append(f"{name}: POST {url}/admin/reset failed ({_why(exc)}); is it running?")
        return
    with reply:
        if reply.status_code in (404, 405):
            report.done.append(f"{name}: no admin reset (HTTP {reply.status_code}); nothing to clear")
        elif reply.ok:
            report.done.append(f"{name}: {what} cleared")
        else:
            report.problems.append(f"{name}: POST /admin/reset answered HTTP {reply.status_code}: {reply.text[:200]}")


def _why(exc: requests.RequestException) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return type(exc).__name__


def check_clean(state: Mapping[str, Any], timeout_s: float = 5.0) -> list[str]:
    """What is still faulty: toxics, disabled or missing proxies, mock error rates and faults."""
    problems: list[str] = []
    url = state.get("toxiproxy_url")
    if url:
        try:
            with ToxiproxyClient(str(url), timeout_s=timeout_s) as client:
                present = client.list_proxies()
        except ToxiproxyError as exc:
            problems.append(f"toxiproxy: cannot check it: {exc}")
        else:
            for name in state.get("proxies") or {}:
                if name not in present:
                    problems.append(f"proxy {name} is missing from toxiproxy")
            for name, proxy in present.items():
                if proxy.toxics:
                    problems.append(f"proxy {name} still has toxics: {', '.join(t.name for t in proxy.toxics)}")
                if not proxy.enabled:
                    problems.append(f"proxy {name} is still disabled")
    token = state.get("admin_token")
    for name, mock_url in _mocks(state).items():
        if token:
            problems.extend(_mock_dirt(name, mock_url, str(token), timeout_s))
    return problems


def _mock_dirt(name: str, url: str, token: str, timeout_s: float) -> list[str]:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        reply = requests.get(f"{url.rstrip('/')}/admin/state", headers=headers, timeout=timeout_s)
    except requests.RequestException as exc:
        return [f"{name}: cannot check it: GET {url}/admin/state failed ({_why(exc)})"]
    with reply:
        if reply.status_code == 404:
            return []  # no admin API: not a gameday mock, nothing of ours can be set there
        try:
            data = reply.json() if reply.ok else None
        except ValueError:
            data = None
    if not isinstance(data, dict):
        return [f"{name}: cannot check it: GET /admin/state answered HTTP {reply.status_code}"]
    problems = [f"{name}: mock {key} still set: {data[key]}" for key in ("errors", "faults") if data.get(key)]
    for key in ("prices", "capacity"):
        section = data.get(key) if isinstance(data.get(key), dict) else {}
        overridden = sorted(m for m, v in section.items() if isinstance(v, dict) and v.get("overridden"))
        if overridden:
            problems.append(f"{name}: mock {key} still overridden for {', '.join(overridden)}")
    return problems
