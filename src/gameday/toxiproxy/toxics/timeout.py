"""`timeout`: drops all data; closes after `timeout` ms without incoming data (0: never by itself).

Removing it closes the connections that were open while it was installed, as Toxiproxy does: a client
that saw nothing for a while cannot trust the stream anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from gameday.toxiproxy.toxics.base import TIMED_OUT, Stub, Toxic

__all__ = ["TimeoutToxic"]


@dataclass
class TimeoutToxic(Toxic):
    type_name = "timeout"
    go_struct = "TimeoutToxic"
    closes_on_remove = True
    timeout: int = 0

    async def pipe(self, stub: Stub) -> None:
        idle = self.timeout / 1000.0 if self.timeout > 0 else None
        while True:
            chunk = await stub.recv(idle)
            if chunk is None or chunk is TIMED_OUT:
                stub.close()
                return
            stub.drop(chunk)
