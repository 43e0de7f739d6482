"""From a stack file to the command lines that start its services (pure: nothing runs here)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from gameday.config.stack import GatewayService, MockService, StackConfig, ToxiproxyService
from gameday.errors import ConfigError
from gameday.stack.ports import free_port
from gameday.toxiproxy.locate import find_toxiproxy_server, toxiproxy_command

__all__ = ["Launch", "apply_port_overrides", "launch_for", "parse_port_flags"]

PROXY_PREFIX = "proxy."


@dataclass(frozen=True)
class Launch:
    """How to start one service and how to know it is up."""

    name: str
    kind: str
    argv: list[str]
    port: int  # 0: read from the ready file
    ready_file: Path | None  # None: the server writes none (a real toxiproxy-server); the port is known
    log: Path
    impl: str = "gameday"  # "external" when not ours to start; for toxiproxy: "embedded" or "real"
    provider: str | None = None


def parse_port_flags(items: Iterable[str]) -> dict[str, int]:
    """`--port premium=9201` (a service) or `--port proxy.premium=19201` (a proxy); 0 = any free port."""
    ports: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value.strip().isdigit() or int(value) > 65535:
            raise ConfigError(
                f"--port {item!r}: expected SERVICE=PORT with PORT in 0..65535 (e.g. --port premium=9201, "
                "--port proxy.premium=19201; 0 = any free port)."
            )
        ports[name.strip()] = int(value)
    return ports


def apply_port_overrides(config: StackConfig, ports: Mapping[str, int]) -> StackConfig:
    """The stack with some ports changed; a name the stack lacks is an error listing the names it has."""
    if not ports:
        return config
    services = {s.name for s in config.services}
    proxies = {PROXY_PREFIX + p.name for p in config.proxies}
    unknown = sorted(set(ports) - services - proxies)
    if unknown:
        valid = ", ".join([*sorted(services), *sorted(proxies)])
        raise ConfigError(f"--port: {', '.join(unknown)} is not in this stack. Valid names: {valid}.")
    data = config.model_dump()
    for service in data["services"]:
        service["port"] = ports.get(service["name"], service["port"])
    for proxy in data["proxies"]:
        proxy["port"] = ports.get(PROXY_PREFIX + proxy["name"], proxy["port"])
    try:
        return StackConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(e["msg"] for e in exc.errors(include_url=False))
        raise ConfigError(f"--port: the stack is no longer valid with these ports: {problems}.") from None


def launch_for(
    service: MockService | GatewayService | ToxiproxyService,
    *,
    host: str,
    seed: int,
    run_dir: Path,
    log_dir: Path,
    upstreams: Mapping[str, str] | None = None,
) -> Launch:
    """The launch of one service; `upstreams` (provider -> URL) for the gateway."""
    ready = run_dir / f"{service.name}.port"
    log = log_dir / f"{service.name}.log"
    seed = service.seed if service.seed is not None else seed
    if service.external:  # someone else runs it: nothing to start, only its health to check
        provider = service.name if isinstance(service, MockService) else None
        return Launch(service.name, service.kind, [], service.port, None, log, "external", provider)
    if isinstance(service, ToxiproxyService):
        real = service.prefer_real and find_toxiproxy_server() is not None
        port = service.port
        if real and port == 0:  # toxiproxy-server cannot report the port it bound: choose one for it
            port = free_port(host)
        argv = toxiproxy_command(host, port, seed=seed, ready_file=str(ready), prefer_real=service.prefer_real)
        return Launch(
            service.name, "toxiproxy", argv, port, None if real else ready, log, "real" if real else "embedded"
        )
    common = ["--seed", str(seed), "--host", host, "--port", str(service.port), "--ready-file", str(ready)]
    if isinstance(service, MockService):
        argv = [sys.executable, "-m", "gameday", "mock", "--profile", str(service.profile), *common]
        return Launch(service.name, "mock", argv, service.port, ready, log, provider=service.name)
    argv = [sys.executable, "-m", "gameday", "gateway", "--policy", str(service.policy)]
    for provider, url in (upstreams or {}).items():
        argv += ["--upstream", f"{provider}={url}"]
    return Launch(service.name, "gateway", [*argv, *common], service.port, ready, log)
