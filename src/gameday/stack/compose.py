"""The compose stacks' view of a stack file: the `toxiproxy-server -config` JSON of its proxies.

stacks/compose/toxiproxy.json is this function applied to stacks/local.yaml (a test keeps them equal),
so the containers expose the same proxies, on the same ports, as `gameday up`.
"""

from __future__ import annotations

from typing import Any

from gameday.config.stack import StackConfig

__all__ = ["toxiproxy_config"]


def toxiproxy_config(config: StackConfig) -> list[dict[str, Any]]:
    """One entry per proxy: its name, where it listens, the service it forwards to (on the stack's host)."""
    ports = {s.name: s.port for s in config.services}
    return [
        {
            "name": proxy.name,
            "listen": f"{config.host}:{proxy.port}",
            "upstream": f"{config.host}:{ports[proxy.upstream]}",
            "enabled": True,
        }
        for proxy in config.proxies
    ]
