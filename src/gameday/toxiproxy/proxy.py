"""One proxy: a listener, its upstream address, its toxics and its open connections.

`enabled` means listening: disabling closes the listener and every open connection (toxics stay);
enabling listens again on the same address. A changed listen or upstream address restarts it.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from gameday.toxiproxy import errors
from gameday.toxiproxy.addr import AddressError, bind_listener
from gameday.toxiproxy.connection import Connection
from gameday.toxiproxy.toxic_set import ToxicSet

__all__ = ["Proxy"]


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, rng: random.Random) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.rng = rng
        self.toxics = ToxicSet()
        self.connections: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [w.to_json() for w in self.toxics.all()],
        }

    def _accept(self) -> asyncio.Protocol:
        return Connection(self.upstream, self.toxics, self.rng, self.connections).client

    async def start(self) -> None:
        """Listen (no-op when already listening); a bind failure is a 500 with Go's message."""
        if self.enabled:
            return
        try:
            sock, self.listen = await bind_listener(self.listen)
        except AddressError as exc:
            raise errors.server_error(str(exc)) from None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._accept, sock=sock)
        self.enabled = True

    def stop(self) -> None:
        """Stop listening and close every open connection."""
        if not self.enabled:
            return
        self.enabled = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self.connections):
            conn.close()

    async def update(self, listen: str, upstream: str, enabled: bool) -> None:
        if listen != self.listen or upstream != self.upstream:
            self.stop()
            self.listen, self.upstream = listen, upstream
        if enabled != self.enabled:
            if enabled:
                await self.start()
            else:
                self.stop()
