"""Bring a stack up: ports checked, services started, health awaited, proxies created, state written.

Order: Toxiproxy and the mocks together (they need nothing), then one proxy per provider in front of
its mock (their ports must be known), then the gateway pointed at the proxies. The state file is
rewritten after each step, so whatever was started can always be found and stopped. Any failure
stops what was started, and the error carries the last lines of the failed service's log.

An external service (`external: true`, or the Toxiproxy of `--toxiproxy URL`) is never started or
stopped: its health is checked and it is recorded, so faults and resets reach it like any other.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from gameday.config.stack import StackConfig
from gameday.errors import StackError
from gameday.faults.toxiproxy_client import Proxy, ProxySpec, ToxiproxyClient, ToxiproxyError
from gameday.stack.health import probe
from gameday.stack.plan import PROXY_PREFIX, Launch, launch_for
from gameday.stack.ports import check_ports_free
from gameday.stack.process import ProcessRef, log_tail, spawn, stop_all
from gameday.stack.state import remove_state, stack_dir, write_state

__all__ = ["StackLauncher", "hostport"]

Progress = Callable[[str], None]


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class StackLauncher:
    """One `gameday up`. `run()` returns the state; on failure nothing it started is left running."""

    def __init__(
        self,
        config: StackConfig,
        stack_path: Path,
        root: Path,
        *,
        toxiproxy_url: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.root = root
        self.toxiproxy_override = toxiproxy_url.rstrip("/") if toxiproxy_url else None
        self.progress = progress or (lambda _line: None)
        self.run_dir = stack_dir(root) / "run"
        self.log_dir = stack_dir(root) / "logs"
        self.token = os.environ.get("GAMEDAY_ADMIN_TOKEN") or secrets.token_urlsafe(24)
        self.env = {**os.environ, "GAMEDAY_ADMIN_TOKEN": self.token, "PYTHONUNBUFFERED": "1"}
        self.refs: list[ProcessRef] = []
        self.created_proxies: list[str] = []
        self.state: dict[str, Any] = {
            "version": 1,
            "stack": str(stack_path),
            "name": config.name,
            "status": "starting",
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "admin_token": self.token,
            "toxiproxy_url": None,
            "stop_timeout_s": config.stop_timeout_s,
            "services": {},
            "proxies": {},
            "gateway_url": None,
        }

    @property
    def toxiproxy_url(self) -> str | None:
        return self.state["toxiproxy_url"]

    # -- the steps -------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        toxiproxy = self.config.toxiproxy
        if self.toxiproxy_override is None and toxiproxy is not None and toxiproxy.external:
            self.toxiproxy_override = f"http://{hostport(self.config.host, toxiproxy.port)}"
        existing = self._external_proxies()
        self._check_ports(existing)
        try:
            first = [self._launch(s) for s in self.config.services if s.kind == "mock"]
            if self.toxiproxy_override is not None:
                self._record_external_toxiproxy(toxiproxy.name if toxiproxy else "toxiproxy")
            elif toxiproxy is not None:
                first.insert(0, self._launch(toxiproxy))
            self._start_and_wait(first)
            if toxiproxy is not None and self.toxiproxy_override is None:
                self.state["toxiproxy_url"] = self.state["services"][toxiproxy.name]["url"]
            self._create_proxies(existing)
            gateway = self.config.gateway
            if gateway is not None:
                upstreams = {
                    provider: "http://" + self.state["proxies"][proxy]["listen"]
                    for provider, proxy in gateway.upstreams.items()
                }
                self._start_and_wait([self._launch(gateway, upstreams)])
                self.state["gateway_url"] = self.state["services"][gateway.name]["url"]
            self.state["status"] = "up"
            write_state(self.root, self.state)
        except BaseException:
            self.abort()
            raise
        return self.state

    def abort(self) -> None:
        """Undo a partial start: stop every process started, delete proxies made on a Toxiproxy we do not own."""
        if self.created_proxies and self.toxiproxy_url and self.toxiproxy_override:
            try:
                with ToxiproxyClient(self.toxiproxy_url, timeout_s=2) as client:
                    for name in self.created_proxies:
                        client.delete_proxy(name, missing_ok=True)
            except ToxiproxyError:
                pass
        stop_all(list(reversed(self.refs)), timeout_s=self.config.stop_timeout_s)
        remove_state(self.root)

    def _external_proxies(self) -> dict[str, Proxy]:
        """On a Toxiproxy we do not start: check it answers, and list the proxies it has before we add ours."""
        if self.toxiproxy_override is None:
            return {}
        try:
            with ToxiproxyClient(self.toxiproxy_override, timeout_s=5) as client:
                client.version()
                return client.list_proxies()
        except ToxiproxyError as exc:
            raise StackError(f"the stack's Toxiproxy at {self.toxiproxy_override}: {exc}") from None

    def _record_external_toxiproxy(self, name: str) -> None:
        url = str(self.toxiproxy_override)
        entry = {"kind": "toxiproxy", "url": url, "port": urlsplit(url).port, "pid": None, "log": None}
        self.state["services"][name] = {**entry, "impl": "external"}
        self.state["toxiproxy_url"] = url

    def _check_ports(self, existing: dict[str, Proxy]) -> None:
        host = self.config.host
        claims = [
            (f"service {s.name}", s.port)
            for s in self.config.services
            if not s.external and not (s.kind == "toxiproxy" and self.toxiproxy_override is not None)
        ]
        for proxy in self.config.proxies:
            # A proxy already on an external Toxiproxy holds its own port; populate keeps or replaces it.
            old = existing.get(proxy.name)
            if old is None or old.listen != hostport(host, proxy.port):
                claims.append((f"proxy {proxy.name}", proxy.port))
        check_ports_free(host, claims)

    def _launch(self, service: Any, upstreams: dict[str, str] | None = None) -> Launch:
        return launch_for(
            service,
            host=self.config.host,
            seed=self.config.seed,
            run_dir=self.run_dir,
            log_dir=self.log_dir,
            upstreams=upstreams,
        )

    def _start_and_wait(self, launches: list[Launch]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        started: list[tuple[Launch, ProcessRef | None]] = []
        for launch in launches:
            ref = None
            if launch.impl != "external":
                if launch.ready_file is not None:
                    launch.ready_file.unlink(missing_ok=True)
                what = f" ({launch.impl})" if launch.kind == "toxiproxy" else ""
                self.progress(f"starting {launch.name}{what}")
                ref = spawn(launch.argv, launch.log, self.env)
                self.refs.append(ref)
            started.append((launch, ref))
            self.state["services"][launch.name] = self._entry(launch, ref)
        write_state(self.root, self.state)
        self._wait_healthy(started)
        write_state(self.root, self.state)

    def _entry(self, launch: Launch, ref: ProcessRef | None) -> dict[str, Any]:
        port = launch.port or None
        entry: dict[str, Any] = {
            "kind": launch.kind,
            "url": f"http://{hostport(self.config.host, port)}" if port else None,
            "port": port,
            "pid": ref.pid if ref else None,
            "create_time": ref.create_time if ref else None,
            "log": str(launch.log) if ref else None,
        }
        if launch.provider is not None:
            entry["provider"] = launch.provider
        if launch.kind == "toxiproxy" or launch.impl == "external":
            entry["impl"] = launch.impl
        return entry

    def _wait_healthy(self, started: list[tuple[Launch, ProcessRef | None]]) -> None:
        deadline = time.monotonic() + self.config.startup_timeout_s
        pending = list(started)
        last: dict[str, str] = {}
        with requests.Session() as session:
            while pending:
                for launch, ref in list(pending):
                    entry = self.state["services"][launch.name]
                    port = launch.port if launch.ready_file is None else _read_port(launch.ready_file)
                    if port:
                        entry.update(port=port, url=f"http://{hostport(self.config.host, port)}")
                        problem = probe(entry["url"], launch.kind, timeout_s=2.0, session=session)
                        if problem is None:
                            pending.remove((launch, ref))
                            self.progress(f"{launch.name} healthy at {entry['url']}")
                            continue
                        last[launch.name] = problem
                    if ref is not None and not ref.alive():
                        raise StackError(
                            f"{launch.name} ({launch.kind}) exited during start-up; nothing is left running. "
                            f"Last lines of {launch.log}:\n{log_tail(launch.log)}"
                        )
                if pending and time.monotonic() > deadline:
                    self._timed_out(*pending[0], last)
                if pending:
                    time.sleep(0.05)

    def _timed_out(self, launch: Launch, ref: ProcessRef | None, last: dict[str, str]) -> None:
        why = last.get(launch.name, "it never reported its port")
        limit = f"{self.config.startup_timeout_s:g} s"
        if ref is None:
            raise StackError(
                f"{launch.name} ({launch.kind}, external) is not healthy at port {launch.port} after {limit} ({why}). "
                "Start it first (e.g. `docker compose ... up -d --wait`)."
            )
        raise StackError(
            f"{launch.name} ({launch.kind}) was not healthy within {limit} ({why}); nothing is left running. "
            f"Raise `startup_timeout_s` in the stack file if the machine is slow. "
            f"Last lines of {launch.log}:\n{log_tail(launch.log)}"
        )

    def _create_proxies(self, existing: dict[str, Proxy]) -> None:
        if not self.config.proxies:
            return
        assert self.toxiproxy_url is not None  # the model requires a toxiproxy service when there are proxies
        host = self.config.host
        specs = []
        for proxy in self.config.proxies:
            upstream_port = self.state["services"][proxy.upstream]["port"]
            specs.append(ProxySpec(proxy.name, hostport(host, upstream_port), hostport(host, proxy.port)))
        self.progress(f"creating proxies {', '.join(p.name for p in specs)} on {self.toxiproxy_url}")
        try:
            with ToxiproxyClient(self.toxiproxy_url, timeout_s=10) as client:
                client.populate(specs)
                # Read them back: populate leaves a proxy already as asked alone, and port 0 is now a real port.
                listed = client.list_proxies()
        except ToxiproxyError as exc:
            raise StackError(
                f"creating the proxies failed: {exc}. Check the proxies' ports, or choose others with "
                f"`gameday up --port {PROXY_PREFIX}NAME=PORT`."
            ) from None
        for spec in specs:
            proxy = listed.get(spec.name)
            if proxy is None:
                raise StackError(f"toxiproxy at {self.toxiproxy_url} lost proxy {spec.name!r} right after creating it.")
            old = existing.get(spec.name)
            kept = old is not None and (old.listen, old.upstream) == (proxy.listen, proxy.upstream)
            if not kept:
                self.created_proxies.append(spec.name)
            # `created`: ours to delete on `gameday down` when the Toxiproxy outlives the stack.
            self.state["proxies"][spec.name] = {"listen": proxy.listen, "upstream": proxy.upstream, "created": not kept}
        write_state(self.root, self.state)


def _read_port(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
