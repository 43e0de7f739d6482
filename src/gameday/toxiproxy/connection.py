"""A proxied TCP connection: the client socket, the upstream socket, and the two links between them.

Raw asyncio protocols (no streams) keep a read on one side one `write` call away from the other side
when no toxic is installed. Reading from a side pauses while its link is backed up (toxics holding too
much, or the other side's write buffer full).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from typing import TYPE_CHECKING, cast

from gameday.toxiproxy.addr import split_host_port
from gameday.toxiproxy.link import Link

if TYPE_CHECKING:
    from gameday.toxiproxy.toxic_set import ToxicSet

__all__ = ["Connection", "Side"]

log = logging.getLogger(__name__)

_LINGER_ZERO = struct.pack("ii", 1, 0)


class Side(asyncio.Protocol):
    """One socket of a connection. `link` is the link this socket's reads feed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.transport: asyncio.Transport | None = None
        self.link: Link | None = None
        self.peer: Side | None = None
        self.lost = False
        self.ended = False
        self.early: list[bytes] = []
        self._blocks: set[str] = set()

    # -- asyncio callbacks ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn.side_made(self)

    def data_received(self, data: bytes) -> None:
        link = self.link
        if link is not None:
            link.feed(data)
        else:
            self.early.append(data)  # read before upstream answered (uvloop reads right after accept)

    def eof_received(self) -> bool:
        self.ended = True
        if self.link is not None:
            self.link.feed_eof()
        return True  # stay open for writing until the close has crossed the other link's toxics

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = self.ended = True
        if self.link is not None:
            self.link.feed_eof()
        self.conn.side_lost(self)

    def attach(self, link: Link) -> None:
        """Start feeding `link`, first with what was read before it existed."""
        self.link = link
        for data in self.early:
            link.feed(data)
        self.early.clear()
        if self.ended:
            link.feed_eof()

    def pause_writing(self) -> None:
        if self.peer is not None:
            self.peer.set_reading("dest", False)

    def resume_writing(self) -> None:
        if self.peer is not None:
            self.peer.set_reading("dest", True)

    # -- used by links --------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():  # uvloop raises on a closing transport
            transport.write(data)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def set_reading(self, reason: str, on: bool) -> None:
        before = bool(self._blocks)
        if on:
            self._blocks.discard(reason)
        else:
            self._blocks.add(reason)
        transport = self.transport
        if transport is None or self.lost or transport.is_closing() or before == bool(self._blocks):
            return
        if self._blocks:
            transport.pause_reading()
        else:
            transport.resume_reading()

    def linger_zero(self) -> None:
        sock = self.transport.get_extra_info("socket") if self.transport is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)


class Connection:
    """Accepted client -> dial upstream -> two links; gone when both sockets are closed."""

    def __init__(
        self,
        upstream: str,
        toxics: ToxicSet,
        rng: random.Random,
        registry: set[Connection],
    ) -> None:
        self.upstream_addr = upstream
        self.toxics = toxics
        self.rng = rng
        self.registry = registry
        self.client = Side(self)
        self.upstream: Side | None = None
        self.links: list[Link] = []
        self._dial: asyncio.Task[None] | None = None
        self.closed = False

    def side_made(self, side: Side) -> None:
        if side is self.client:
            loop = asyncio.get_running_loop()
            # Nothing to forward to until upstream answers. Deferred: uvloop starts reading after this
            # callback returns, which would undo a pause made inside it.
            loop.call_soon(side.set_reading, "connect", False)
            self.registry.add(self)
            self._dial = loop.create_task(self._open())

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            host, port = split_host_port(self.upstream_addr)
            _, upstream = await loop.create_connection(lambda: Side(self), host or None, int(port or 0))
        except (OSError, ValueError) as exc:
            log.info("cannot reach upstream %s: %s", self.upstream_addr, exc)
            self.client.close()
            return
        if self.closed or self.client.lost:
            upstream.close()
            return
        self.upstream = upstream
        self._start_links(loop, upstream)

    def _start_links(self, loop: asyncio.AbstractEventLoop, upstream: Side) -> None:
        client = self.client
        client.peer, upstream.peer = upstream, client
        up = Link(loop, self.rng, "upstream", upstream.write, upstream.close, client.set_reading)
        down = Link(loop, self.rng, "downstream", client.write, client.close, upstream.set_reading)
        self.links = [up, down]
        if self.toxics.resets_peer():
            client.linger_zero()
            upstream.linger_zero()
        self.toxics.attach(up)
        self.toxics.attach(down)
        client.attach(up)
        upstream.attach(down)
        client.set_reading("connect", True)

    def close(self) -> None:
        """Close both sockets now (the proxy was disabled, changed or deleted)."""
        self.closed = True  # a dial still under way closes what it opens (cancelling it could leak the socket)
        self.client.close()
        if self.upstream is not None:
            self.upstream.close()

    def side_lost(self, side: Side) -> None:
        if self.client.lost and (self.upstream is None or self.upstream.lost):
            self._finish()

    def _finish(self) -> None:
        for link in self.links:
            link.cancel()
            self.toxics.detach(link)
        self.registry.discard(self)
