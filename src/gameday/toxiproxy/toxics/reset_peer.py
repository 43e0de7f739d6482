"""`reset_peer`: on the first data, waits `timeout` ms, drops it and closes the connection.

Connections opened while it is installed have SO_LINGER 0 on both sockets, so that close is a TCP RST
(the peer reads ECONNRESET); the link sets that up, this class only says it wants it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gameday.toxiproxy.toxics.base import Stub, Toxic

__all__ = ["ResetPeerToxic"]


@dataclass
class ResetPeerToxic(Toxic):
    type_name = "reset_peer"
    go_struct = "ResetToxic"
    resets_peer = True
    timeout: int = 0

    async def pipe(self, stub: Stub) -> None:
        chunk = await stub.recv()
        if chunk is not None:
            stub.drop(chunk)
        await stub.sleep_until(stub.loop.time() + self.timeout / 1000.0)
        stub.close()
