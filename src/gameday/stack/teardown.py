"""Take a stack down from its state file: faults removed as far as reachable, processes stopped, state gone.

Idempotent, and fine with services that already died: a dead service is simply not signalled. External
services (no pid) are reset, never stopped; proxies the stack made on a Toxiproxy it did not start
(`--toxiproxy URL`, an external one) are deleted, since that server stays, and proxies it found there stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.faults.toxiproxy_client import ToxiproxyClient, ToxiproxyError
from gameday.stack.process import ProcessRef, stop_all
from gameday.stack.repair import reset_stack
from gameday.stack.state import read_state, remove_state, stack_lock

__all__ = ["DownReport", "bring_down", "service_refs"]


@dataclass
class DownReport:
    found: bool = False
    stopped: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)
    reset_problems: list[str] = field(default_factory=list)


def service_refs(state: dict[str, Any]) -> dict[str, ProcessRef]:
    """Service name -> its process, for every service with a pid (an external Toxiproxy has none)."""
    refs = {}
    for name, service in (state.get("services") or {}).items():
        pid = service.get("pid")
        if isinstance(pid, int) and pid > 0:
            refs[name] = ProcessRef(pid, service.get("create_time"))
    return refs


def bring_down(root: Path | None = None, *, stop_timeout_s: float | None = None) -> DownReport:
    """Bring down the stack whose state is under `root` (default: the current directory)."""
    root = Path.cwd() if root is None else Path(root)
    report = DownReport()
    with stack_lock(root, timeout_s=30.0):
        state = read_state(root)
        if state is None:
            return report
        report.found = True
        refs = service_refs(state)
        alive = {name: ref for name, ref in refs.items() if ref.alive()}
        report.already_gone = [name for name in refs if name not in alive]
        if alive or state.get("toxiproxy_url"):
            # Short timeouts: a dead part answers "refused" at once, a hung one must not hold up the teardown.
            report.reset_problems = reset_stack(_reachable(state, alive), timeout_s=2.0).problems
        _delete_external_proxies(state)
        timeout = stop_timeout_s if stop_timeout_s is not None else float(state.get("stop_timeout_s") or 5.0)
        # Reverse start order: the gateway first, so it does not see its providers vanish under load.
        order = list(reversed(list(alive)))
        survivors = set(stop_all([alive[n] for n in order], timeout_s=timeout))
        report.stopped = [n for n in order if alive[n].pid not in survivors]
        report.survivors = [n for n in order if alive[n].pid in survivors]
        if not report.survivors:
            remove_state(root)
    return report


def _reachable(state: dict[str, Any], alive: dict[str, ProcessRef]) -> dict[str, Any]:
    """The state without the services that are known dead (resetting them could only fail)."""
    services = {
        name: s
        for name, s in (state.get("services") or {}).items()
        if name in alive or not isinstance(s.get("pid"), int)
    }
    pruned = {**state, "services": services}
    gateway = next((s for s in services.values() if s.get("kind") == "gateway"), None)
    pruned["gateway_url"] = gateway.get("url") if gateway else None
    toxiproxy = next((s for s in (state.get("services") or {}).values() if s.get("kind") == "toxiproxy"), None)
    if toxiproxy is not None and toxiproxy not in services.values():
        pruned["toxiproxy_url"] = None
    return pruned


def _delete_external_proxies(state: dict[str, Any]) -> None:
    url = state.get("toxiproxy_url")
    external = any(
        s.get("kind") == "toxiproxy" and s.get("impl") == "external" for s in (state.get("services") or {}).values()
    )
    if not (url and external):
        return
    ours = [name for name, p in (state.get("proxies") or {}).items() if p.get("created", True)]
    try:
        with ToxiproxyClient(str(url), timeout_s=2.0) as client:
            for name in ours:
                client.delete_proxy(name, missing_ok=True)
    except ToxiproxyError:
        pass  # unreachable: its proxies went with it
