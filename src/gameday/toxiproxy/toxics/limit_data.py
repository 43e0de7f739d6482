"""`limit_data`: forwards `bytes` bytes per connection and direction, then closes (0: on the first data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gameday.toxiproxy.toxics.base import Chunk, Stub, Toxic

__all__ = ["LimitDataToxic"]


@dataclass
class _Sent:
    bytes: int = 0


@dataclass
class LimitDataToxic(Toxic):
    type_name = "limit_data"
    go_struct = "LimitDataToxic"
    bytes: int = 0

    def new_state(self) -> Any:
        return _Sent()  # the count survives updates of this toxic, as in Toxiproxy

    async def pipe(self, stub: Stub) -> None:
        sent: _Sent = stub.state
        while (chunk := await stub.recv()) is not None:
            room = max(self.bytes - sent.bytes, 0)
            if room < len(chunk.data):
                stub.drop(Chunk(chunk.data[room:], chunk.ts))
                chunk = Chunk(chunk.data[:room], chunk.ts)
            if chunk.data:
                stub.send(chunk)
                sent.bytes += len(chunk.data)
            if self.bytes - sent.bytes <= 0:
                break
        stub.close()
